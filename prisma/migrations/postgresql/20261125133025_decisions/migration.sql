-- CreateTable
CREATE TABLE "Decision" (
    "id" SERIAL NOT NULL,
    "artifactId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "fired" BOOLEAN NOT NULL,
    "waiting" BOOLEAN NOT NULL DEFAULT false,
    "releaseId" TEXT,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Decision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Decision_artifactId_id_idx" ON "Decision"("artifactId", "id");

