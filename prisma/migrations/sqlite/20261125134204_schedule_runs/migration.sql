-- CreateTable
CREATE TABLE "ScheduleRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "policy" TEXT NOT NULL,
    "slot" DATETIME NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "summary" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "ScheduleRun_policy_slot_key" ON "ScheduleRun"("policy", "slot");

