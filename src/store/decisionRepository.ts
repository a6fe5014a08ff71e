// Policy decisions: one row per (artifact, policy) evaluation, kept for `policy explain`.
import { chunksFor, sqlBoolean, sqlTimestamp, type Prisma } from "./database.js";
import { GroupCommit } from "./groupCommit.js";
import { sqlRunnerOf, valuesList, type SqlRunner, type SqlTx, type SqlValue } from "./sql.js";

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

export class DecisionRepository {
  // Decisions of concurrent pushes are written together (a mass rebuild pushes thousands).
  private readonly queue = new GroupCommit<NewDecision[], void>(async (batches) => {
    await this.sql.transaction((tx) => insertDecisionsIn(tx, batches.flat(), new Date()));
    return batches.map(() => undefined);
  }, 512);
  private readonly sql: SqlRunner;

  constructor(private readonly prisma: Prisma) {
    this.sql = sqlRunnerOf(prisma);
  }

  /** Records decisions inside a transaction the caller holds. */
  async recordIn(tx: SqlTx, decisions: NewDecision[]): Promise<void> {
    await insertDecisionsIn(tx, decisions, new Date());
  }

  async record(decisions: NewDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await this.queue.submit(decisions);
  }

  /** Decisions about an artifact, oldest first. */
  async forArtifact(artifactId: string, limit = 500): Promise<DecisionRecord[]> {
    return this.prisma.decision.findMany({ where: { artifactId }, orderBy: { id: "asc" }, take: limit });
  }
}

/**
 * Multi-row INSERTs: every pushed artifact leaves a decision per policy, and Prisma's createMany
 * spends more time compiling a statement of thousands of rows than the database takes to run it.
 */
export async function insertDecisionsIn(tx: SqlTx, decisions: readonly NewDecision[], now: Date): Promise<void> {
  if (decisions.length === 0) return;
  const stamp = sqlTimestamp(tx.provider, now);
  const rows: SqlValue[][] = decisions.map((d) => [d.artifactId, d.policy, d.event, sqlBoolean(tx.provider, d.fired), sqlBoolean(tx.provider, d.waiting), d.releaseId, d.reason, stamp]);
  for (const chunk of chunksFor(rows, 8)) {
    await tx.run(`INSERT INTO "Decision" ("artifactId", "policy", "event", "fired", "waiting", "releaseId", "reason", "createdAt") VALUES ${valuesList(chunk.length, 8)}`, chunk.flat());
  }
}
