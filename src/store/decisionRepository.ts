// Policy decisions: one row per (artifact, policy) evaluation, kept for `policy explain`.
import { chunksFor, providerOf, sqlBoolean, sqlTimestamp, type Prisma, type Provider, type Tx } from "./database.js";
import { Prisma as Sql } from "./generated/sqlite/client.js";
import { GroupCommit } from "./groupCommit.js";

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
    await this.prisma.$transaction((tx) => insertDecisionsIn(tx, this.provider, batches.flat(), new Date()));
    return batches.map(() => undefined);
  }, 512);
  private readonly provider: Provider;

  constructor(private readonly prisma: Prisma) {
    this.provider = providerOf(prisma);
  }

  /** Records decisions inside a transaction the caller holds. */
  async recordIn(tx: Tx, decisions: NewDecision[]): Promise<void> {
    await insertDecisionsIn(tx, this.provider, decisions, new Date());
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
export async function insertDecisionsIn(tx: Tx, provider: Provider, decisions: readonly NewDecision[], now: Date): Promise<void> {
  if (decisions.length === 0) return;
  const stamp = sqlTimestamp(provider, now);
  const rows = decisions.map(
    (d) => Sql.sql`(${d.artifactId}, ${d.policy}, ${d.event}, ${sqlBoolean(provider, d.fired)}, ${sqlBoolean(provider, d.waiting)}, ${d.releaseId}, ${d.reason}, ${stamp})`,
  );
  for (const chunk of chunksFor(rows, 8)) {
    await tx.$executeRaw(Sql.sql`INSERT INTO "Decision" ("artifactId", "policy", "event", "fired", "waiting", "releaseId", "reason", "createdAt") VALUES ${Sql.join(chunk)}`);
  }
}
