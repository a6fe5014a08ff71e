-- AlterTable
ALTER TABLE "Release" ADD COLUMN "preflight" TEXT;
ALTER TABLE "Release" ADD COLUMN "repoclosure" TEXT;
ALTER TABLE "Release" ADD COLUMN "repoclosureReportId" TEXT;

