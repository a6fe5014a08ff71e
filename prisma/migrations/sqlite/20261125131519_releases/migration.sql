-- CreateTable
CREATE TABLE "Release" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "artifactId" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "force" BOOLEAN NOT NULL DEFAULT false,
    "forceReason" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "supersededBy" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME,
    "commitSha" TEXT,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "pushedAt" DATETIME,
    CONSTRAINT "Release_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Hold" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "environment" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "releaseId" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "Release_id_key" ON "Release"("id");

-- CreateIndex
CREATE INDEX "Release_repository_branch_status_seq_idx" ON "Release"("repository", "branch", "status", "seq");

-- CreateIndex
CREATE INDEX "Release_environment_package_status_seq_idx" ON "Release"("environment", "package", "status", "seq");

-- CreateIndex
CREATE INDEX "Release_artifactId_environment_idx" ON "Release"("artifactId", "environment");

-- CreateIndex
CREATE INDEX "Release_status_seq_idx" ON "Release"("status", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Hold_environment_package_key" ON "Hold"("environment", "package");

