-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Release" (
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
    "bulk" BOOLEAN NOT NULL DEFAULT false,
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
INSERT INTO "new_Release" ("artifactId", "attempts", "branch", "commitSha", "createdAt", "createdBy", "environment", "error", "force", "forceReason", "id", "nextAttemptAt", "package", "pushedAt", "reason", "repository", "seq", "status", "supersededBy", "trigger", "updatedAt") SELECT "artifactId", "attempts", "branch", "commitSha", "createdAt", "createdBy", "environment", "error", "force", "forceReason", "id", "nextAttemptAt", "package", "pushedAt", "reason", "repository", "seq", "status", "supersededBy", "trigger", "updatedAt" FROM "Release";
DROP TABLE "Release";
ALTER TABLE "new_Release" RENAME TO "Release";
CREATE UNIQUE INDEX "Release_id_key" ON "Release"("id");
CREATE INDEX "Release_repository_branch_status_seq_idx" ON "Release"("repository", "branch", "status", "seq");
CREATE INDEX "Release_environment_package_status_seq_idx" ON "Release"("environment", "package", "status", "seq");
CREATE INDEX "Release_artifactId_environment_idx" ON "Release"("artifactId", "environment");
CREATE INDEX "Release_status_seq_idx" ON "Release"("status", "seq");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

