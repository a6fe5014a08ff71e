-- CreateTable
CREATE TABLE "ShadowUpdate" (
    "alias" TEXT NOT NULL PRIMARY KEY,
    "release" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "spec" TEXT NOT NULL,
    "problems" TEXT,
    "closedReason" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lastMessageId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "mergedAt" DATETIME,
    "closedAt" DATETIME
);

-- CreateTable
CREATE TABLE "ShadowChange" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "messageId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "alias" TEXT,
    "path" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "mergeMessage" TEXT,
    "status" TEXT NOT NULL,
    "commitSha" TEXT,
    "mergeSha" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "nextAttemptAt" DATETIME,
    "createdAt" DATETIME NOT NULL,
    "writtenAt" DATETIME
);

-- CreateTable
CREATE TABLE "KojiTagBuild" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "tag" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "nvr" TEXT NOT NULL,
    "buildId" INTEGER,
    "tagged" BOOLEAN NOT NULL,
    "eventAt" DATETIME NOT NULL,
    "messageId" TEXT NOT NULL,
    "observedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "BusOutbox" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "messageId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "releaseSeq" INTEGER NOT NULL,
    "topic" TEXT NOT NULL,
    "envelope" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "publishedAt" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0
);

-- CreateIndex
CREATE INDEX "ShadowUpdate_state_updatedAt_idx" ON "ShadowUpdate"("state", "updatedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ShadowChange_messageId_key" ON "ShadowChange"("messageId");

-- CreateIndex
CREATE INDEX "ShadowChange_status_seq_idx" ON "ShadowChange"("status", "seq");

-- CreateIndex
CREATE INDEX "ShadowChange_alias_seq_idx" ON "ShadowChange"("alias", "seq");

-- CreateIndex
CREATE INDEX "KojiTagBuild_tag_package_tagged_idx" ON "KojiTagBuild"("tag", "package", "tagged");

-- CreateIndex
CREATE UNIQUE INDEX "KojiTagBuild_tag_nvr_key" ON "KojiTagBuild"("tag", "nvr");

-- CreateIndex
CREATE UNIQUE INDEX "BusOutbox_messageId_key" ON "BusOutbox"("messageId");

-- CreateIndex
CREATE UNIQUE INDEX "BusOutbox_key_key" ON "BusOutbox"("key");

-- CreateIndex
CREATE INDEX "BusOutbox_publishedAt_seq_idx" ON "BusOutbox"("publishedAt", "seq");

