-- CreateTable
CREATE TABLE "ForgeDelivery" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
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
    "receivedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_deliveryId_key" ON "ForgeDelivery"("deliveryId");

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_digest_key" ON "ForgeDelivery"("digest");

-- CreateIndex
CREATE INDEX "ForgeDelivery_repository_branch_revision_idx" ON "ForgeDelivery"("repository", "branch", "revision");

