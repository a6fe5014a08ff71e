-- AlterTable
ALTER TABLE "ArtifactResult" ADD COLUMN     "submittedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "Waiver" (
    "seq" SERIAL NOT NULL,
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
    "waivedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Waiver_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "Waiver_id_key" ON "Waiver"("id");

-- CreateIndex
CREATE UNIQUE INDEX "Waiver_messageId_key" ON "Waiver"("messageId");

-- CreateIndex
CREATE INDEX "Waiver_artifactId_seq_idx" ON "Waiver"("artifactId", "seq");

-- CreateIndex
CREATE INDEX "Waiver_nvr_seq_idx" ON "Waiver"("nvr", "seq");

