// Runs of scheduled policies: claiming a slot is what keeps a run from happening twice.
import { fromStamp, stamp, type Store } from "./store.js";

export class ScheduleRunRepository {
  constructor(private readonly store: Store) {}

  /** Claims (policy, slot); false when a run of that slot was already claimed by anyone. */
  async claim(policy: string, slot: Date): Promise<boolean> {
    // The unique (policy, slot) decides between ticks and replicas racing for the same slot.
    const inserted = await this.store.transaction((tx) =>
      tx
        .insertInto("ScheduleRun")
        .values({ policy, slot: stamp(slot), startedAt: stamp(new Date()) })
        .onConflict((c) => c.columns(["policy", "slot"]).doNothing())
        .executeTakeFirst(),
    );
    return inserted.numInsertedOrUpdatedRows === 1n;
  }

  async finish(policy: string, slot: Date, summary: string): Promise<void> {
    await this.store.transaction((tx) =>
      tx.updateTable("ScheduleRun").set({ finishedAt: stamp(new Date()), summary }).where("policy", "=", policy).where("slot", "=", stamp(slot)).execute(),
    );
  }

  /** Gives up an unfinished claim (a run cut short by shutdown): the slot counts as not run. */
  async abandon(policy: string, slot: Date): Promise<void> {
    await this.store.transaction((tx) =>
      tx.deleteFrom("ScheduleRun").where("policy", "=", policy).where("slot", "=", stamp(slot)).where("finishedAt", "is", null).execute(),
    );
  }

  async last(policy: string): Promise<{ slot: Date; finishedAt: Date | null; summary: string | null } | null> {
    const row = await this.store.read((tx) =>
      tx.selectFrom("ScheduleRun").select(["slot", "finishedAt", "summary"]).where("policy", "=", policy).orderBy("slot", "desc").limit(1).executeTakeFirst(),
    );
    return row ? { slot: fromStamp(row.slot), finishedAt: row.finishedAt === null ? null : fromStamp(row.finishedAt), summary: row.summary } : null;
  }
}
