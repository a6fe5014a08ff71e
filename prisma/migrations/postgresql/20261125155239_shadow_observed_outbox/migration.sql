-- CreateTable
CREATE TABLE "ShadowUpdate" (
    "alias" TEXT NOT NULL,
    "release" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "spec" TEXT NOT NULL,
    "problems" TEXT,
    "closedReason" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lastMessageId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "mergedAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "ShadowUpdate_pkey" PRIMARY KEY ("alias")
);

-- CreateTable
CREATE TABLE "ShadowChange" (
    "seq" SERIAL NOT NULL,
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
    "nextAttemptAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "writtenAt" TIMESTAMP(3),

    CONSTRAINT "ShadowChange_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "KojiTagBuild" (
    "id" SERIAL NOT NULL,
    "tag" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "nvr" TEXT NOT NULL,
    "buildId" INTEGER,
    "tagged" BOOLEAN NOT NULL,
    "eventAt" TIMESTAMP(3) NOT NULL,
    "messageId" TEXT NOT NULL,
    "observedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KojiTagBuild_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BusOutbox" (
    "seq" SERIAL NOT NULL,
    "messageId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "releaseSeq" INTEGER NOT NULL,
    "topic" TEXT NOT NULL,
    "envelope" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "publishedAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "BusOutbox_pkey" PRIMARY KEY ("seq")
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

