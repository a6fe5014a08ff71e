-- CreateTable
CREATE TABLE "BusEvent" (
    "seq" SERIAL NOT NULL,
    "messageId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "bareTopic" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "artifactId" TEXT,
    "nvr" TEXT,
    "deliveries" INTEGER NOT NULL DEFAULT 1,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "parsed" BOOLEAN NOT NULL,
    "envelope" TEXT NOT NULL,

    CONSTRAINT "BusEvent_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "BusEvent_messageId_key" ON "BusEvent"("messageId");

-- CreateIndex
CREATE INDEX "BusEvent_status_seq_idx" ON "BusEvent"("status", "seq");

-- CreateIndex
CREATE INDEX "BusEvent_bareTopic_seq_idx" ON "BusEvent"("bareTopic", "seq");

-- CreateIndex
CREATE INDEX "BusEvent_nvr_status_idx" ON "BusEvent"("nvr", "status");

