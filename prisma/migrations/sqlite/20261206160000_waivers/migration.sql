-- AlterTable
ALTER TABLE "ArtifactResult" ADD COLUMN "submittedAt" DATETIME;

-- CreateTable
CREATE TABLE "Waiver" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "artifactId" TEXT,
    "nvr" TEXT,
    "testcase" TEXT NOT NULL,
    "scenario" TEXT,
    "waived" BOOLEAN NOT NULL,
    "comment" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "environments" TEXT,
    "source" TEXT NOT NULL,
    "messageId" TEXT,
    "waivedAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Waiver_id_key" ON "Waiver"("id");

-- CreateIndex
CREATE UNIQUE INDEX "Waiver_messageId_key" ON "Waiver"("messageId");

-- CreateIndex
CREATE INDEX "Waiver_artifactId_seq_idx" ON "Waiver"("artifactId", "seq");

-- CreateIndex
CREATE INDEX "Waiver_nvr_seq_idx" ON "Waiver"("nvr", "seq");

