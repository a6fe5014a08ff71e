-- CreateTable
CREATE TABLE "RequestReview" (
    "requestId" TEXT NOT NULL,
    "reviewer" TEXT NOT NULL,
    "approve" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "groups" TEXT NOT NULL,
    "decidedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RequestReview_pkey" PRIMARY KEY ("requestId","reviewer")
);

