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

-- CreateIndex
CREATE INDEX "ScmTicket_agreement_comparedAt_idx" ON "ScmTicket"("agreement", "comparedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ScmTicketVerdict_ticketId_revision_key" ON "ScmTicketVerdict"("ticketId", "revision");

