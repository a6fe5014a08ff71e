// Policy decisions: one row per (artifact, policy) evaluation, kept for `policy explain`.
import type { Prisma } from "./database.js";

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
  constructor(private readonly prisma: Prisma) {}

  async record(decisions: NewDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    const now = new Date();
    await this.prisma.decision.createMany({ data: decisions.map((d) => ({ ...d, createdAt: now })) });
  }

  /** Decisions about an artifact, oldest first. */
  async forArtifact(artifactId: string, limit = 500): Promise<DecisionRecord[]> {
    return this.prisma.decision.findMany({ where: { artifactId }, orderBy: { id: "asc" }, take: limit });
  }
}
