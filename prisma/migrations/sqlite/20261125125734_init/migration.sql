-- CreateTable
CREATE TABLE "Artifact" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "package" TEXT NOT NULL,
    "release" TEXT NOT NULL,
    "sourceRepo" TEXT NOT NULL,
    "sourceSha" TEXT NOT NULL,
    "sourceBranch" TEXT,
    "sourceEvent" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "bodyHash" TEXT NOT NULL,
    "body" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ArtifactBuild" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "artifactId" TEXT NOT NULL,
    "nvr" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "ArtifactBuild_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ArtifactResult" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "artifactId" TEXT NOT NULL,
    "testcase" TEXT NOT NULL,
    "refUrl" TEXT NOT NULL DEFAULT '',
    "outcome" TEXT NOT NULL,
    "scenario" TEXT,
    "note" TEXT,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "ArtifactResult_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RevokedToken" (
    "jti" TEXT NOT NULL PRIMARY KEY,
    "revokedAt" DATETIME NOT NULL,
    "expiresAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "Artifact_id_key" ON "Artifact"("id");

-- CreateIndex
CREATE INDEX "Artifact_package_seq_idx" ON "Artifact"("package", "seq");

-- CreateIndex
CREATE INDEX "Artifact_release_seq_idx" ON "Artifact"("release", "seq");

-- CreateIndex
CREATE INDEX "Artifact_sourceSha_seq_idx" ON "Artifact"("sourceSha", "seq");

-- CreateIndex
CREATE INDEX "Artifact_sourceBranch_seq_idx" ON "Artifact"("sourceBranch", "seq");

-- CreateIndex
CREATE INDEX "Artifact_createdAt_idx" ON "Artifact"("createdAt");

-- CreateIndex
CREATE INDEX "ArtifactBuild_nvr_idx" ON "ArtifactBuild"("nvr");

-- CreateIndex
CREATE INDEX "ArtifactBuild_artifactId_idx" ON "ArtifactBuild"("artifactId");

-- CreateIndex
CREATE UNIQUE INDEX "ArtifactResult_artifactId_testcase_refUrl_key" ON "ArtifactResult"("artifactId", "testcase", "refUrl");

