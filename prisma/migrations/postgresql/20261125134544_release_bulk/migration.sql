-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "bulk" BOOLEAN NOT NULL DEFAULT false;

