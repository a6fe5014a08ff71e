-- CreateTable
CREATE TABLE "RequestReview" (
    "requestId" TEXT NOT NULL,
    "reviewer" TEXT NOT NULL,
    "approve" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "groups" TEXT NOT NULL,
    "decidedAt" DATETIME NOT NULL,

    PRIMARY KEY ("requestId", "reviewer")
);

