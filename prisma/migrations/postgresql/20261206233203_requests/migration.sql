-- CreateTable
CREATE TABLE "Request" (
    "seq" SERIAL NOT NULL,
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
    "seenAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),
    "mergedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Request_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "RequestDocument" (
    "requestId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "blob" TEXT NOT NULL,
    "content" TEXT NOT NULL,

    CONSTRAINT "RequestDocument_pkey" PRIMARY KEY ("requestId","path")
);

-- CreateTable
CREATE TABLE "RequestDecision" (
    "seq" SERIAL NOT NULL,
    "requestId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "conditions" TEXT NOT NULL,
    "decidedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RequestDecision_pkey" PRIMARY KEY ("seq")
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

-- AddForeignKey
ALTER TABLE "RequestDocument" ADD CONSTRAINT "RequestDocument_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "Request"("id") ON DELETE CASCADE ON UPDATE CASCADE;

