-- CreateTable
CREATE TABLE "UnreviewedReport" (
    "repository" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "head" TEXT,
    "documents" TEXT NOT NULL,
    "checkedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UnreviewedReport_pkey" PRIMARY KEY ("repository")
);

