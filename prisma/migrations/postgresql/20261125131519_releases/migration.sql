-- CreateTable
CREATE TABLE "Release" (
    "seq" SERIAL NOT NULL,
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
    "nextAttemptAt" TIMESTAMP(3),
    "commitSha" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "pushedAt" TIMESTAMP(3),

    CONSTRAINT "Release_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "Hold" (
    "id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "releaseId" TEXT,

    CONSTRAINT "Hold_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Release" ADD CONSTRAINT "Release_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

