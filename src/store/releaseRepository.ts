// Releases and holds in the store. The release table is the writer's durable queue.
import { ulid } from "ulid";
import type { ReleaseStatus } from "../domain/release.js";
import type { Prisma } from "./database.js";
import { decodeCursor, encodeCursor } from "./artifactRepository.js";

export interface ReleaseRecord {
  seq: number;
  id: string;
  artifactId: string;
  environment: string;
  repository: string;
  branch: string;
  package: string;
  trigger: string;
  createdBy: string;
  force: boolean;
  forceReason: string | null;
  bulk: boolean;
  status: ReleaseStatus;
  reason: string | null;
  supersededBy: string | null;
  error: string | null;
  attempts: number;
  nextAttemptAt: Date | null;
  commitSha: string | null;
  createdAt: Date;
  updatedAt: Date;
  pushedAt: Date | null;
}

export interface HoldRecord {
  id: string;
  environment: string;
  package: string;
  reason: string;
  createdBy: string;
  createdAt: Date;
  releaseId: string | null;
}

export interface NewRelease {
  artifactId: string;
  environment: string;
  repository: string;
  branch: string;
  package: string;
  trigger: string;
  createdBy: string;
  force: boolean;
  forceReason?: string;
  /** Written in one commit with neighbouring bulk releases of the same trigger. */
  bulk?: boolean;
  /** Placed in the same transaction (a rollback's hold). */
  hold?: { reason: string };
}

export type EnqueueOutcome =
  | { status: "queued"; release: ReleaseRecord; hold?: HoldRecord }
  | { status: "held"; hold: HoldRecord }
  | { status: "duplicate"; existing: ReleaseRecord };

export interface ReleaseQuery {
  environment?: string;
  package?: string;
  status?: ReleaseStatus;
  artifactId?: string;
  limit: number;
  cursor?: string;
}

const asRecord = (row: Omit<ReleaseRecord, "status"> & { status: string }): ReleaseRecord => row as ReleaseRecord;

export class ReleaseRepository {
  constructor(private readonly prisma: Prisma) {}

  /**
   * Queues a release, durably, unless a hold or an earlier release of the same artifact to the
   * same environment stands in the way (both passed by `force`).
   */
  async enqueue(input: NewRelease): Promise<EnqueueOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const hold = await tx.hold.findUnique({ where: { environment_package: { environment: input.environment, package: input.package } } });
      if (hold && !input.force) return { status: "held", hold } as const;
      if (!input.force) {
        const existing = await tx.release.findFirst({
          where: { artifactId: input.artifactId, environment: input.environment, status: { notIn: ["failed", "superseded", "blocked"] } },
          orderBy: { seq: "desc" },
        });
        if (existing) return { status: "duplicate", existing: asRecord(existing) } as const;
      }
      const now = new Date();
      const { hold: holdInput, forceReason, ...rest } = input;
      const release = await tx.release.create({
        data: { ...rest, forceReason: forceReason ?? null, id: ulid(), status: "queued", createdAt: now, updatedAt: now },
      });
      let placed: HoldRecord | undefined;
      if (holdInput) {
        placed = await tx.hold.upsert({
          where: { environment_package: { environment: input.environment, package: input.package } },
          create: { id: ulid(), environment: input.environment, package: input.package, reason: holdInput.reason, createdBy: input.createdBy, createdAt: now, releaseId: release.id },
          update: { reason: holdInput.reason, createdBy: input.createdBy, createdAt: now, releaseId: release.id },
        });
      }
      return placed ? ({ status: "queued", release: asRecord(release), hold: placed } as const) : ({ status: "queued", release: asRecord(release) } as const);
    });
  }

  async get(id: string): Promise<ReleaseRecord | null> {
    const row = await this.prisma.release.findUnique({ where: { id } });
    return row ? asRecord(row) : null;
  }

  async list(q: ReleaseQuery): Promise<{ items: ReleaseRecord[]; nextCursor: string | null }> {
    const rows = await this.prisma.release.findMany({
      where: {
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.package ? { package: q.package } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.artifactId ? { artifactId: q.artifactId } : {}),
        ...(q.cursor ? { seq: { lt: decodeCursor(q.cursor) } } : {}),
      },
      orderBy: { seq: "desc" },
      take: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return { items: page.map(asRecord), nextCursor: rows.length > q.limit && last ? encodeCursor(last.seq) : null };
  }

  /** The next releases the writer of (repository, branch) should write, in queue order. */
  async due(repository: string, branch: string, limit: number, now = new Date()): Promise<ReleaseRecord[]> {
    const rows = await this.prisma.release.findMany({
      where: {
        repository,
        branch,
        status: { in: ["queued", "committed"] },
        OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }],
      },
      orderBy: { seq: "asc" },
      take: limit,
    });
    return rows.map(asRecord);
  }

  /** When the next delayed retry of (repository, branch) is due, if any. */
  async nextRetryAt(repository: string, branch: string): Promise<Date | null> {
    const row = await this.prisma.release.findFirst({
      where: { repository, branch, status: { in: ["queued", "committed"] }, nextAttemptAt: { not: null } },
      orderBy: { nextAttemptAt: "asc" },
      select: { nextAttemptAt: true },
    });
    return row?.nextAttemptAt ?? null;
  }

  async pendingRepositories(): Promise<{ repository: string; branch: string }[]> {
    const rows = await this.prisma.release.findMany({
      where: { status: { in: ["queued", "committed"] } },
      distinct: ["repository", "branch"],
      select: { repository: true, branch: true },
    });
    return rows;
  }

  /** Marks releases pushed; only those still in the writer's hands change. */
  async markPushed(items: { id: string; commitSha: string }[]): Promise<void> {
    if (items.length === 0) return;
    const now = new Date();
    await this.prisma.$transaction(
      items.map((i) =>
        this.prisma.release.updateMany({
          where: { id: i.id, status: { in: ["queued", "committed"] } },
          data: { status: "pushed", commitSha: i.commitSha, pushedAt: now, updatedAt: now, error: null, nextAttemptAt: null },
        }),
      ),
    );
  }

  async markCommitted(items: { id: string; commitSha: string }[]): Promise<void> {
    if (items.length === 0) return;
    const now = new Date();
    await this.prisma.$transaction(
      items.map((i) =>
        this.prisma.release.updateMany({ where: { id: i.id, status: { in: ["queued", "committed"] } }, data: { status: "committed", commitSha: i.commitSha, updatedAt: now } }),
      ),
    );
  }

  async markSuperseded(items: { id: string; by: string }[]): Promise<void> {
    if (items.length === 0) return;
    const now = new Date();
    await this.prisma.$transaction(
      items.map((i) =>
        this.prisma.release.updateMany({
          where: { id: i.id, status: { in: ["queued", "committed"] } },
          data: { status: "superseded", supersededBy: i.by, reason: `superseded by release ${i.by}`, updatedAt: now },
        }),
      ),
    );
  }

  async markBlocked(id: string, reason: string): Promise<void> {
    await this.prisma.release.updateMany({ where: { id, status: { in: ["queued", "committed"] } }, data: { status: "blocked", reason, updatedAt: new Date() } });
  }

  /** A write attempt failed: back to queued with a delay, or failed once attempts run out. */
  async markAttemptFailed(ids: string[], error: string, maxAttempts: number, delayMs: (attempt: number) => number): Promise<void> {
    const now = new Date();
    const rows = await this.prisma.release.findMany({ where: { id: { in: ids }, status: { in: ["queued", "committed"] } }, select: { id: true, attempts: true } });
    await this.prisma.$transaction(
      rows.map((r) => {
        const attempts = r.attempts + 1;
        return this.prisma.release.update({
          where: { id: r.id },
          data:
            attempts >= maxAttempts
              ? { status: "failed", attempts, error, nextAttemptAt: null, commitSha: null, updatedAt: now }
              : { status: "queued", attempts, error, nextAttemptAt: new Date(now.getTime() + delayMs(attempts)), commitSha: null, updatedAt: now },
        });
      }),
    );
  }

  /** A failed release goes back to the queue with fresh attempts. */
  async retry(id: string): Promise<ReleaseRecord | null> {
    const now = new Date();
    const changed = await this.prisma.release.updateMany({
      where: { id, status: "failed" },
      data: { status: "queued", attempts: 0, error: null, nextAttemptAt: null, updatedAt: now },
    });
    return changed.count === 1 ? this.get(id) : null;
  }

  /** Artifacts with a pushed release to `environment`, newest release first (schedule selection). */
  async artifactsPushedTo(environment: string, limit: number): Promise<string[]> {
    const rows = await this.prisma.release.findMany({
      where: { environment, status: "pushed" },
      orderBy: { seq: "desc" },
      take: limit,
      select: { artifactId: true },
    });
    return [...new Set(rows.map((r) => r.artifactId))];
  }

  /** Pushed releases of a package to an environment, newest first (for rollbacks). */
  async pushedHistory(environment: string, pkg: string, limit = 50): Promise<ReleaseRecord[]> {
    const rows = await this.prisma.release.findMany({ where: { environment, package: pkg, status: "pushed" }, orderBy: { seq: "desc" }, take: limit });
    return rows.map(asRecord);
  }

  async hold(environment: string, pkg: string): Promise<HoldRecord | null> {
    return this.prisma.hold.findUnique({ where: { environment_package: { environment, package: pkg } } });
  }

  async holds(filter: { environment?: string; package?: string } = {}): Promise<HoldRecord[]> {
    return this.prisma.hold.findMany({
      where: { ...(filter.environment ? { environment: filter.environment } : {}), ...(filter.package ? { package: filter.package } : {}) },
      orderBy: [{ environment: "asc" }, { package: "asc" }],
    });
  }

  async addHold(input: { environment: string; package: string; reason: string; createdBy: string }): Promise<{ status: "added"; hold: HoldRecord } | { status: "exists"; hold: HoldRecord }> {
    return this.prisma.$transaction(async (tx) => {
      const prior = await tx.hold.findUnique({ where: { environment_package: { environment: input.environment, package: input.package } } });
      if (prior) return { status: "exists", hold: prior } as const;
      const hold = await tx.hold.create({ data: { ...input, id: ulid(), createdAt: new Date(), releaseId: null } });
      return { status: "added", hold } as const;
    });
  }

  async removeHold(id: string): Promise<HoldRecord | null> {
    const hold = await this.prisma.hold.findUnique({ where: { id } });
    if (!hold) return null;
    await this.prisma.hold.deleteMany({ where: { id } });
    return hold;
  }
}
