-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "repoclosureReportId" TEXT;

