-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "preflight" TEXT,
ADD COLUMN     "repoclosure" TEXT,
ADD COLUMN     "repoclosureReportId" TEXT;

