// Policy decisions: one row per (artifact, policy) evaluation, kept for `policy explain`.
import { GroupCommit } from "./groupCommit.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";

export interface DecisionRecord {
  id: number;
  artifactId: string;
  policy: string;
  event: string;
  fired: boolean;
  waiting: boolean;
  releaseId: string | null;
  reason: string | null;
  createdAt: Date;
}

export type NewDecision = Omit<DecisionRecord, "id" | "createdAt">;

/** Columns one decision row binds: the chunk size of the multi-row insert. */
const DECISION_COLUMNS = 8;

export class DecisionRepository {
  // Decisions of concurrent pushes are written together (a mass rebuild pushes thousands).
  private readonly queue = new GroupCommit<NewDecision[], void>(async (batches) => {
    await this.store.transaction((tx) => this.recordIn(tx, batches.flat()));
    return batches.map(() => undefined);
  }, 512);

  constructor(private readonly store: Store) {}

  /**
   * Records decisions inside a transaction the caller holds, as multi-row inserts: every pushed
   * artifact leaves a decision per policy.
   */
  async recordIn(tx: Tx, decisions: readonly NewDecision[], now = new Date()): Promise<void> {
    const createdAt = stamp(now);
    for (const chunk of chunksFor(decisions, DECISION_COLUMNS)) {
      await tx
        .insertInto("Decision")
        .values(
          chunk.map((d) => ({
            artifactId: d.artifactId,
            policy: d.policy,
            event: d.event,
            fired: flag(d.fired),
            waiting: flag(d.waiting),
            releaseId: d.releaseId,
            reason: d.reason,
            createdAt,
          })),
        )
        .execute();
    }
  }

  async record(decisions: NewDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await this.queue.submit(decisions);
  }

  /** Decisions about an artifact, oldest first. */
  async forArtifact(artifactId: string, limit = 500): Promise<DecisionRecord[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("Decision").selectAll().where("artifactId", "=", artifactId).orderBy("id", "asc").limit(limit).execute());
    return rows.map((r) => ({ ...r, fired: r.fired === 1, waiting: r.waiting === 1, createdAt: fromStamp(r.createdAt) }));
  }
}
