-- CreateIndex
CREATE INDEX "Release_status_updatedAt_idx" ON "Release"("status", "updatedAt");

