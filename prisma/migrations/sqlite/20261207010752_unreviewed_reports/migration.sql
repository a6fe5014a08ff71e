-- CreateTable
CREATE TABLE "UnreviewedReport" (
    "repository" TEXT NOT NULL PRIMARY KEY,
    "branch" TEXT NOT NULL,
    "head" TEXT,
    "documents" TEXT NOT NULL,
    "checkedAt" DATETIME NOT NULL
);

