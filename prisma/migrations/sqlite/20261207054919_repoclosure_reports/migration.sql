-- AlterTable
ALTER TABLE "Release" ADD COLUMN "preflight" TEXT;
ALTER TABLE "Release" ADD COLUMN "repoclosure" TEXT;
ALTER TABLE "Release" ADD COLUMN "repoclosureReportId" TEXT;

-- CreateTable
CREATE TABLE "BrokenDepsReport" (
    "id" TEXT NOT NULL PRIMARY KEY,
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
    "generatedAt" DATETIME NOT NULL,
    "dnfMs" INTEGER NOT NULL,
    "mailedAt" DATETIME
);

-- CreateIndex
CREATE INDEX "BrokenDepsReport_repoSetKey_generatedAt_idx" ON "BrokenDepsReport"("repoSetKey", "generatedAt");

-- CreateIndex
CREATE INDEX "BrokenDepsReport_tree_generatedAt_idx" ON "BrokenDepsReport"("tree", "generatedAt");

-- CreateIndex
CREATE INDEX "BrokenDepsReport_generatedAt_idx" ON "BrokenDepsReport"("generatedAt");

