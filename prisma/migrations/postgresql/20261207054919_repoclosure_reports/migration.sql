-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "preflight" TEXT,
ADD COLUMN     "repoclosure" TEXT,
ADD COLUMN     "repoclosureReportId" TEXT;

-- CreateTable
CREATE TABLE "BrokenDepsReport" (
    "id" TEXT NOT NULL,
    "tree" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "repoSetKey" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "body" TEXT NOT NULL,
    "packages" INTEGER NOT NULL,
    "dependencies" INTEGER NOT NULL,
    "sources" INTEGER NOT NULL,
    "arches" TEXT NOT NULL,
    "generatedAt" TIMESTAMP(3) NOT NULL,
    "dnfMs" INTEGER NOT NULL,
    "mailedAt" TIMESTAMP(3),

    CONSTRAINT "BrokenDepsReport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BrokenDepsReport_repoSetKey_generatedAt_idx" ON "BrokenDepsReport"("repoSetKey", "generatedAt");

-- CreateIndex
CREATE INDEX "BrokenDepsReport_tree_generatedAt_idx" ON "BrokenDepsReport"("tree", "generatedAt");

-- CreateIndex
CREATE INDEX "BrokenDepsReport_generatedAt_idx" ON "BrokenDepsReport"("generatedAt");

