-- CreateTable
CREATE TABLE "Decision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "artifactId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "fired" BOOLEAN NOT NULL,
    "waiting" BOOLEAN NOT NULL DEFAULT false,
    "releaseId" TEXT,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "Decision_artifactId_id_idx" ON "Decision"("artifactId", "id");

