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

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_deliveryId_key" ON "ForgeDelivery"("deliveryId");

-- CreateIndex
CREATE UNIQUE INDEX "ForgeDelivery_digest_key" ON "ForgeDelivery"("digest");

-- CreateIndex
CREATE INDEX "ForgeDelivery_repository_branch_revision_idx" ON "ForgeDelivery"("repository", "branch", "revision");

