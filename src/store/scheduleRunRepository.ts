// Runs of scheduled policies: claiming a slot is what keeps a run from happening twice.
import type { Prisma } from "./database.js";

export class ScheduleRunRepository {
  constructor(private readonly prisma: Prisma) {}

  /** Claims (policy, slot); false when a run of that slot was already claimed by anyone. */
  async claim(policy: string, slot: Date): Promise<boolean> {
    const existing = await this.prisma.scheduleRun.findUnique({ where: { policy_slot: { policy, slot } } });
    if (existing) return false;
    try {
      await this.prisma.scheduleRun.create({ data: { policy, slot, startedAt: new Date() } });
      return true;
    } catch (err) {
      // P2002: another tick or replica claimed it between the read and the insert.
      if ((err as { code?: string }).code === "P2002") return false;
      throw err;
    }
  }

  async finish(policy: string, slot: Date, summary: string): Promise<void> {
    await this.prisma.scheduleRun.updateMany({ where: { policy, slot }, data: { finishedAt: new Date(), summary } });
  }

  async last(policy: string): Promise<{ slot: Date; finishedAt: Date | null; summary: string | null } | null> {
    return this.prisma.scheduleRun.findFirst({ where: { policy }, orderBy: { slot: "desc" }, select: { slot: true, finishedAt: true, summary: true } });
  }
}
