-- CreateTable
CREATE TABLE "Request" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "revision" TEXT NOT NULL,
    "base" TEXT,
    "status" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "path" TEXT,
    "author" TEXT,
    "authorEmail" TEXT,
    "verified" BOOLEAN NOT NULL,
    "source" TEXT NOT NULL,
    "reasons" TEXT NOT NULL,
    "approvedBy" TEXT,
    "decidedBy" TEXT,
    "decisionReason" TEXT,
    "mergeCommit" TEXT,
    "supersededBy" TEXT,
    "seenAt" DATETIME NOT NULL,
    "decidedAt" DATETIME,
    "mergedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "RequestDocument" (
    "requestId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "blob" TEXT NOT NULL,
    "content" TEXT NOT NULL,

    PRIMARY KEY ("requestId", "path"),
    CONSTRAINT "RequestDocument_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "Request" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RequestDecision" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "requestId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "conditions" TEXT NOT NULL,
    "decidedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Request_id_key" ON "Request"("id");

-- CreateIndex
CREATE INDEX "Request_status_seq_idx" ON "Request"("status", "seq");

-- CreateIndex
CREATE INDEX "Request_kind_seq_idx" ON "Request"("kind", "seq");

-- CreateIndex
CREATE INDEX "Request_author_seq_idx" ON "Request"("author", "seq");

-- CreateIndex
CREATE INDEX "Request_repository_branch_seq_idx" ON "Request"("repository", "branch", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Request_repository_branch_revision_key" ON "Request"("repository", "branch", "revision");

-- CreateIndex
CREATE INDEX "RequestDocument_path_idx" ON "RequestDocument"("path");

-- CreateIndex
CREATE INDEX "RequestDecision_requestId_seq_idx" ON "RequestDecision"("requestId", "seq");

