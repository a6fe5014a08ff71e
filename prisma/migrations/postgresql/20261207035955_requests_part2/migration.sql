-- AlterTable
ALTER TABLE "ShadowChange" ADD COLUMN     "removePaths" TEXT;

-- CreateTable
CREATE TABLE "ScmTicket" (
    "ticketId" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "author" TEXT,
    "content" TEXT NOT NULL,
    "kind" TEXT,
    "path" TEXT,
    "problems" TEXT,
    "unreadable" TEXT,
    "state" TEXT NOT NULL,
    "closeStatus" TEXT,
    "closedBy" TEXT,
    "closedReason" TEXT,
    "revision" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "verdictReview" TEXT,
    "verdictReasons" TEXT NOT NULL,
    "agreement" TEXT,
    "agreementRelengd" TEXT,
    "agreementBot" TEXT,
    "comparedAt" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 0,
    "lastMessageId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ScmTicket_pkey" PRIMARY KEY ("ticketId")
);

-- CreateTable
CREATE TABLE "ScmTicketVerdict" (
    "seq" SERIAL NOT NULL,
    "ticketId" INTEGER NOT NULL,
    "revision" INTEGER NOT NULL,
    "messageId" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "review" TEXT,
    "reasons" TEXT NOT NULL,
    "judgedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ScmTicketVerdict_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ForgeDelivery" (
    "seq" SERIAL NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "forge" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "repository" TEXT,
    "branch" TEXT,
    "revision" TEXT,
    "account" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ForgeDelivery_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ObservedBranch" (
    "id" SERIAL NOT NULL,
    "namespace" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "rev" TEXT,
    "agent" TEXT,
    "messageId" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObservedBranch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ObservedRepo" (
    "id" SERIAL NOT NULL,
    "namespace" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "agent" TEXT,
    "messageId" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObservedRepo_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ObservedSideTag" (
    "name" TEXT NOT NULL,
    "baseTag" TEXT NOT NULL,
    "tagId" INTEGER NOT NULL,
    "owner" TEXT,
    "packages" TEXT NOT NULL,
    "messages" INTEGER NOT NULL DEFAULT 1,
    "lastMessageId" TEXT NOT NULL,
    "lastTopic" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObservedSideTag_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "ShadowMeeting" (
    "meetingId" INTEGER NOT NULL,
    "calendar" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "lastSentAt" TIMESTAMP(3),
    "lastMessageId" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "ShadowMeeting_pkey" PRIMARY KEY ("meetingId")
);

-- CreateTable
CREATE TABLE "RequestReview" (
    "requestId" TEXT NOT NULL,
    "reviewer" TEXT NOT NULL,
    "approve" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "groups" TEXT NOT NULL,
    "decidedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RequestReview_pkey" PRIMARY KEY ("requestId","reviewer")
);

-- CreateIndex
CREATE INDEX "ScmTicket_agreement_comparedAt_idx" ON "ScmTicket"("agreement", "comparedAt");

-- CreateIndex
CREATE INDEX "ScmTicket_path_state_idx" ON "ScmTicket"("path", "state");

-- CreateIndex
CREATE UNIQUE INDEX "ScmTicketVerdict_ticketId_revision_key" ON "ScmTicketVerdict"("ticketId", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_deliveryId_key" ON "ForgeDelivery"("deliveryId");

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_digest_key" ON "ForgeDelivery"("digest");

-- CreateIndex
CREATE INDEX "ForgeDelivery_repository_branch_revision_idx" ON "ForgeDelivery"("repository", "branch", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "ObservedBranch_namespace_repo_branch_key" ON "ObservedBranch"("namespace", "repo", "branch");

-- CreateIndex
CREATE UNIQUE INDEX "ObservedRepo_namespace_repo_key" ON "ObservedRepo"("namespace", "repo");

-- CreateIndex
CREATE INDEX "ObservedSideTag_owner_idx" ON "ObservedSideTag"("owner");

-- CreateIndex
CREATE INDEX "ShadowMeeting_calendar_state_idx" ON "ShadowMeeting"("calendar", "state");

