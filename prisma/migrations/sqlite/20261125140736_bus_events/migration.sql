-- CreateTable
CREATE TABLE "BusEvent" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "messageId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "bareTopic" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "artifactId" TEXT,
    "nvr" TEXT,
    "deliveries" INTEGER NOT NULL DEFAULT 1,
    "receivedAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "parsed" BOOLEAN NOT NULL,
    "envelope" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "BusEvent_messageId_key" ON "BusEvent"("messageId");

-- CreateIndex
CREATE INDEX "BusEvent_status_seq_idx" ON "BusEvent"("status", "seq");

-- CreateIndex
CREATE INDEX "BusEvent_bareTopic_seq_idx" ON "BusEvent"("bareTopic", "seq");

-- CreateIndex
CREATE INDEX "BusEvent_nvr_status_idx" ON "BusEvent"("nvr", "status");

