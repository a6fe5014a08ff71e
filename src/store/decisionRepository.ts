// Policy decisions: one row per (artifact, policy) evaluation, kept for `policy explain`.
import type { Prisma, Tx } from "./database.js";
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
    const now = new Date();
    const data = batches.flat().map((d) => ({ ...d, createdAt: now }));
    if (data.length > 0) await this.prisma.decision.createMany({ data });
    return batches.map(() => undefined);
  }, 512);

  constructor(private readonly prisma: Prisma) {}

  /** Records decisions inside a transaction the caller holds. */
  async recordIn(tx: Tx, decisions: NewDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    const now = new Date();
    await tx.decision.createMany({ data: decisions.map((d) => ({ ...d, createdAt: now })) });
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
