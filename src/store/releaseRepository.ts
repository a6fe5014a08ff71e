// Releases and holds in the store. The release table is the writer's durable queue.
import { environmentPackageKey } from "../domain/environmentPackage.js";
import type { ReleaseStatus } from "../domain/release.js";
import { insertDecisionsIn, type NewDecision } from "./decisionRepository.js";
import { chunksFor, providerOf, sqlBoolean, sqlTimestamp, type Prisma, type Provider } from "./database.js";
import { Prisma as Sql } from "./generated/sqlite/client.js";
import { GroupCommit } from "./groupCommit.js";
import { newId } from "./ids.js";
import { inList, sqlRunnerOf, valuesList, type SqlRunner, type SqlTx, type SqlValue } from "./sql.js";
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
  /** A decision to record in the same transaction, made from the outcome (policy releases). */
  decision?: (outcome: EnqueueOutcome) => NewDecision;
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

// Rows read with plain SQL come back as the driver gives them: on SQLite booleans are 0/1,
// timestamps ISO text and integers may be BigInt.
export const RELEASE_COLUMNS = `"seq", "id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "force", "forceReason", "bulk", "status", "reason", "supersededBy", "error", "attempts", "nextAttemptAt", "commitSha", "createdAt", "updatedAt", "pushedAt"`;
type Timestamp = Date | string;
export type ReleaseRow = Omit<ReleaseRecord, "seq" | "force" | "bulk" | "attempts" | "status" | "nextAttemptAt" | "createdAt" | "updatedAt" | "pushedAt"> & {
  seq: number | bigint;
  force: boolean | number | bigint;
  bulk: boolean | number | bigint;
  attempts: number | bigint;
  status: string;
  nextAttemptAt: Timestamp | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  pushedAt: Timestamp | null;
};

const dateOrNull = (value: Timestamp | null): Date | null => (value === null ? null : new Date(value));

export function releaseFromRow(row: ReleaseRow): ReleaseRecord {
  return {
    ...row,
    seq: Number(row.seq),
    force: Boolean(Number(row.force)),
    bulk: Boolean(Number(row.bulk)),
    attempts: Number(row.attempts),
    status: row.status as ReleaseStatus,
    nextAttemptAt: dateOrNull(row.nextAttemptAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    pushedAt: dateOrNull(row.pushedAt),
  };
}

const HOLD_COLUMNS = `"id", "environment", "package", "reason", "createdBy", "createdAt", "releaseId"`;
type HoldRow = Omit<HoldRecord, "createdAt"> & { createdAt: Timestamp };
const holdFromRow = (row: HoldRow): HoldRecord => ({ ...row, createdAt: new Date(row.createdAt) });

/** The holds on any of these (environment, package) pairs, keyed by environmentPackageKey. */
async function holdsIn(tx: SqlTx, pairs: readonly { environment: string; package: string }[]): Promise<Map<string, HoldRecord>> {
  const wanted = new Set(pairs.map(environmentPackageKey));
  const out = new Map<string, HoldRecord>();
  for (const environments of chunksFor([...new Set(pairs.map((p) => p.environment))], 1)) {
    const rows = await tx.all<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM "Hold" WHERE "environment" IN (${inList(environments.length)})`, environments);
    for (const h of rows) {
      const key = environmentPackageKey(h);
      if (wanted.has(key)) out.set(key, holdFromRow(h));
    }
  }
  return out;
}

export class ReleaseRepository {
  private readonly provider: Provider;
  private readonly sql: SqlRunner;
  private readonly enqueueQueue: GroupCommit<NewRelease, EnqueueOutcome>;

  constructor(private readonly prisma: Prisma) {
    this.provider = providerOf(prisma);
    this.sql = sqlRunnerOf(prisma);
    this.enqueueQueue = new GroupCommit((batch) => this.enqueueBatch(batch), 256);
  }

  /**
   * Queues a release, durably, unless a hold or an earlier release of the same artifact to the
   * same environment stands in the way (both passed by `force`). Concurrent calls (a mass
   * rebuild's policy decisions) are queued in one transaction.
   */
  enqueue(input: NewRelease): Promise<EnqueueOutcome> {
    return this.enqueueQueue.submit(input);
  }

  private async enqueueBatch(inputs: NewRelease[]): Promise<EnqueueOutcome[]> {
    return this.sql.transaction((tx) => this.enqueueIn(tx, inputs));
  }

  /**
   * Queues releases inside a transaction the caller holds (ingest: an artifact, its policy
   * decisions and the releases they fire are committed together). Plain SQL: this runs in
   * every ingest transaction.
   */
  async enqueueIn(tx: SqlTx, inputs: NewRelease[], options: { fresh?: boolean } = {}): Promise<EnqueueOutcome[]> {
    if (inputs.length === 0) return [];
    const holds = await holdsIn(tx, inputs);
    const standing = new Map<string, ReleaseRecord | string>();
    // Artifacts created in this very transaction cannot have releases yet.
    if (!options.fresh) {
      for (const ids of chunksFor([...new Set(inputs.map((i) => i.artifactId))], 1)) {
        const standingRows = await tx.all<ReleaseRow>(
          `SELECT ${RELEASE_COLUMNS} FROM "Release" WHERE "artifactId" IN (${inList(ids.length)}) AND "status" NOT IN ('failed', 'superseded', 'blocked') ORDER BY "seq" DESC`,
          ids,
        );
        for (const row of standingRows) {
          const key = `${row.artifactId}\0${row.environment}`;
          if (!standing.has(key)) standing.set(key, releaseFromRow(row));
        }
      }
    }

    const now = new Date();
    const stamp = sqlTimestamp(tx.provider, now);
    const plan: ({ kind: "held"; hold: HoldRecord } | { kind: "duplicate"; key: string } | { kind: "new"; id: string; input: NewRelease })[] = [];
    const rows: SqlValue[][] = [];
    for (const input of inputs) {
      const hold = holds.get(environmentPackageKey(input));
      const key = `${input.artifactId}\0${input.environment}`;
      if (hold && !input.force) plan.push({ kind: "held", hold });
      else if (!input.force && standing.has(key)) plan.push({ kind: "duplicate", key });
      else {
        const id = newId();
        // A later input of this batch for the same pair sees this one as standing.
        standing.set(key, id);
        plan.push({ kind: "new", id, input });
        rows.push([
          id,
          input.artifactId,
          input.environment,
          input.repository,
          input.branch,
          input.package,
          input.trigger,
          input.createdBy,
          sqlBoolean(tx.provider, input.force),
          input.forceReason ?? null,
          sqlBoolean(tx.provider, input.bulk ?? false),
          stamp,
          stamp,
        ]);
      }
    }
    // The stored row is known but for its sequence number: RETURNING gives that, so nothing is
    // read back.
    const seqs = new Map<string, number>();
    for (const chunk of chunksFor(rows, 13)) {
      const returned = await tx.all<{ id: string; seq: number | bigint }>(
        `INSERT INTO "Release" ("id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "force", "forceReason", "bulk", "createdAt", "updatedAt", "status", "attempts") VALUES ${valuesList(chunk.length, 13, "'queued', 0")} RETURNING "id", "seq"`,
        chunk.flat(),
      );
      for (const r of returned) seqs.set(r.id, Number(r.seq));
    }
    const inserted = new Map<string, ReleaseRecord>();
    for (const p of plan) {
      if (p.kind !== "new") continue;
      const seq = seqs.get(p.id);
      if (seq === undefined) throw new Error(`release ${p.id} was not stored`);
      const i = p.input;
      inserted.set(p.id, {
        seq,
        id: p.id,
        artifactId: i.artifactId,
        environment: i.environment,
        repository: i.repository,
        branch: i.branch,
        package: i.package,
        trigger: i.trigger,
        createdBy: i.createdBy,
        force: i.force,
        forceReason: i.forceReason ?? null,
        bulk: i.bulk ?? false,
        status: "queued",
        reason: null,
        supersededBy: null,
        error: null,
        attempts: 0,
        nextAttemptAt: null,
        commitSha: null,
        createdAt: now,
        updatedAt: now,
        pushedAt: null,
      });
    }
    const outcomes: EnqueueOutcome[] = [];
    for (const p of plan) {
      if (p.kind === "held") outcomes.push({ status: "held", hold: p.hold });
      else if (p.kind === "duplicate") {
        const prior = standing.get(p.key);
        const existing = typeof prior === "string" ? inserted.get(prior) : prior;
        if (!existing) throw new Error("standing release vanished within its transaction");
        outcomes.push({ status: "duplicate", existing });
      } else {
        const release = inserted.get(p.id) as ReleaseRecord;
        if (p.input.hold) {
          // A rollback's hold replaces any hold on the pair, keeping the pair's one row.
          const [placed] = await tx.all<HoldRow>(
            `INSERT INTO "Hold" ("id", "environment", "package", "reason", "createdBy", "createdAt", "releaseId") VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT ("environment", "package") DO UPDATE SET "reason" = excluded."reason", "createdBy" = excluded."createdBy", "createdAt" = excluded."createdAt", "releaseId" = excluded."releaseId"
             RETURNING ${HOLD_COLUMNS}`,
            [newId(), p.input.environment, p.input.package, p.input.hold.reason, p.input.createdBy, stamp, release.id],
          );
          if (!placed) throw new Error(`hold on ${p.input.environment}/${p.input.package} was not stored`);
          outcomes.push({ status: "queued", release, hold: holdFromRow(placed) });
        } else outcomes.push({ status: "queued", release });
      }
    }
    const decisions = inputs.flatMap((input, i) => (input.decision ? [input.decision(outcomes[i] as EnqueueOutcome)] : []));
    await insertDecisionsIn(tx, decisions, now);
    return outcomes;
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

  /**
   * The releases competing with a writer's batch for the same (environment, package): every
   * one not yet written, and those pushed after `sinceSeq` (the batch's oldest). Older pushed
   * releases are in the document already; the writer compares against that.
   */
  async tagContenders(pairs: { environment: string; package: string }[], sinceSeq: number): Promise<ReleaseRecord[]> {
    if (pairs.length === 0) return [];
    const unique = [...new Map(pairs.map((p) => [environmentPackageKey(p), p])).values()];
    const wanted = new Set(unique.map(environmentPackageKey));
    const out = new Map<string, ReleaseRecord>();
    await this.sql.read(async (tx) => {
      // Per pair at most one environment and one package, and the sequence number once.
      for (const chunk of chunksFor(unique, 2, 1)) {
        const environments = [...new Set(chunk.map((p) => p.environment))];
        const packages = [...new Set(chunk.map((p) => p.package))];
        const rows = await tx.all<ReleaseRow>(
          `SELECT ${RELEASE_COLUMNS} FROM "Release" WHERE "environment" IN (${inList(environments.length)}) AND "package" IN (${inList(packages.length)}) AND ("status" IN ('queued', 'committed') OR ("status" = 'pushed' AND "seq" > ?))`,
          [...environments, ...packages, sinceSeq],
        );
        for (const r of rows) if (wanted.has(environmentPackageKey(r))) out.set(r.id, releaseFromRow(r));
      }
    });
    return [...out.values()].sort((a, b) => a.seq - b.seq);
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
    // Prisma's `distinct` reads every matching row and dedups in JavaScript: during a mass
    // rebuild that was 25,000 rows a second for the writer's poll. The database does it here.
    return this.prisma.$queryRaw<{ repository: string; branch: string }[]>(
      Sql.sql`SELECT DISTINCT "repository", "branch" FROM "Release" WHERE "status" IN ('queued', 'committed')`,
    );
  }

  /** Where releases were failed (attempts run out): the writer reconciles them with history at start. */
  async attemptedRepositories(): Promise<{ repository: string; branch: string }[]> {
    return this.prisma.$queryRaw<{ repository: string; branch: string }[]>(Sql.sql`SELECT DISTINCT "repository", "branch" FROM "Release" WHERE "status" = 'failed'`);
  }

  /** Per repository: releases not yet pushed, and when the oldest of them was queued. */
  async queueStats(): Promise<{ repository: string; depth: number; oldest: Date | null }[]> {
    const rows = await this.prisma.$queryRaw<{ repository: string; depth: number | bigint; oldest: Date | string | null }[]>(
      Sql.sql`SELECT "repository", COUNT(*) AS "depth", MIN("createdAt") AS "oldest" FROM "Release" WHERE "status" IN ('queued', 'committed') GROUP BY "repository"`,
    );
    return rows.map((r) => ({ repository: r.repository, depth: Number(r.depth), oldest: r.oldest === null ? null : new Date(r.oldest) }));
  }

  /**
   * Those of `ids` recorded as anything but pushed (unknown ids are left out). Pushed is final:
   * no release leaves it, so the writer need not remember where in history such a release is.
   */
  async notPushed(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await this.sql.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1)) {
        const rows = await tx.all<{ id: string }>(`SELECT "id" FROM "Release" WHERE "id" IN (${inList(chunk.length)}) AND "status" <> 'pushed'`, chunk);
        for (const r of rows) out.add(r.id);
      }
    });
    return out;
  }

  /** Marks releases pushed; only those still in the writer's hands change. One statement per chunk. */
  async markPushed(items: { id: string; commitSha: string }[]): Promise<void> {
    await this.markWritten(items, `"status" = 'pushed', "pushedAt" = ?, "updatedAt" = ?, "error" = NULL, "nextAttemptAt" = NULL`, 2);
  }

  async markCommitted(items: { id: string; commitSha: string }[]): Promise<void> {
    await this.markWritten(items, `"status" = 'committed', "updatedAt" = ?`, 1);
  }

  /**
   * Releases found in the remote's history are pushed with the commit that has them, whatever
   * they are recorded as (a crash between push and record, attempts run out meanwhile, a retry):
   * history is what happened.
   */
  async markPushedFromHistory(items: { id: string; commitSha: string }[]): Promise<void> {
    await this.markWritten(items, `"status" = 'pushed', "pushedAt" = ?, "updatedAt" = ?, "error" = NULL, "nextAttemptAt" = NULL, "reason" = NULL`, 2, `"status" <> 'pushed'`);
  }

  /**
   * A commit of (repository, branch) whose history holds only releases recorded as pushed: the
   * commit of the newest release recorded pushed. Every path that records a release pushed has
   * first recorded every release in the history below its commit (the writer scans and records
   * history before it writes on top of it), so history before this commit need not be read again.
   */
  async pushedWatermark(repository: string, branch: string): Promise<string | null> {
    const row = await this.prisma.release.findFirst({
      where: { repository, branch, status: "pushed", commitSha: { not: null } },
      orderBy: { seq: "desc" },
      select: { commitSha: true },
    });
    return row?.commitSha ?? null;
  }

  /** Releases of (repository, branch) that a write may have reached but that are not recorded pushed. */
  async unrecordedReleases(repository: string, branch: string): Promise<string[]> {
    const rows = await this.prisma.release.findMany({ where: { repository, branch, status: { in: ["queued", "committed", "failed"] } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  // Each release its own commit id, in one statement per chunk (a batch is hundreds of
  // releases): a VALUES list of (id, sha) joined to the releases it names.
  private async markWritten(items: { id: string; commitSha: string }[], set: string, stamps: number, from = `"status" IN ('queued', 'committed')`): Promise<void> {
    if (items.length === 0) return;
    const stamp = sqlTimestamp(this.provider, new Date());
    await this.sql.transaction(async (tx) => {
      // Per release: its id and commit in the CASE, its id in the IN list; the stamps once.
      for (const chunk of chunksFor(items, 3, stamps)) {
        const shaCase = `CASE "id" ${chunk.map(() => "WHEN ? THEN ?").join(" ")} END`;
        await tx.run(
          `UPDATE "Release" SET ${set}, "commitSha" = ${shaCase} WHERE "id" IN (${inList(chunk.length)}) AND ${from}`,
          [...new Array<SqlValue>(stamps).fill(stamp), ...chunk.flatMap((i) => [i.id, i.commitSha]), ...chunk.map((i) => i.id)],
        );
      }
    });
  }

  async markSuperseded(items: { id: string; by: string }[]): Promise<void> {
    if (items.length === 0) return;
    const stamp = sqlTimestamp(this.provider, new Date());
    await this.sql.transaction(async (tx) => {
      // Per release: its id and superseder in each of the two CASEs, and its id in the IN list.
      for (const chunk of chunksFor(items, 5, 1)) {
        const byCase = `CASE "id" ${chunk.map(() => "WHEN ? THEN ?").join(" ")} END`;
        const pairs = chunk.flatMap((i) => [i.id, i.by]);
        await tx.run(
          `UPDATE "Release" SET "status" = 'superseded', "supersededBy" = ${byCase}, "reason" = 'superseded by release ' || ${byCase}, "updatedAt" = ? WHERE "id" IN (${inList(chunk.length)}) AND "status" IN ('queued', 'committed')`,
          [...pairs, ...pairs, stamp, ...chunk.map((i) => i.id)],
        );
      }
    });
  }

  async markBlocked(id: string, reason: string): Promise<void> {
    await this.prisma.release.updateMany({ where: { id, status: { in: ["queued", "committed"] } }, data: { status: "blocked", reason, updatedAt: new Date() } });
  }

  /** A write attempt failed: back to queued with a delay, or failed once attempts run out. */
  async markAttemptFailed(ids: string[], error: string, maxAttempts: number, delayMs: (attempt: number) => number): Promise<void> {
    const now = new Date();
    const stamp = sqlTimestamp(this.provider, now);
    await this.sql.transaction(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1)) {
        const rows = await tx.all<{ id: string; attempts: number | bigint }>(
          `SELECT "id", "attempts" FROM "Release" WHERE "id" IN (${inList(chunk.length)}) AND "status" IN ('queued', 'committed')`,
          chunk,
        );
        // One statement per attempt count (a batch shares one, mostly), not one per release: a
        // batch of a thousand took longer than PostgreSQL's transaction timeout under load.
        const byAttempts = new Map<number, string[]>();
        for (const r of rows) byAttempts.set(Number(r.attempts) + 1, [...(byAttempts.get(Number(r.attempts) + 1) ?? []), r.id]);
        for (const [attempts, all] of byAttempts) {
          const next = attempts >= maxAttempts ? null : sqlTimestamp(this.provider, new Date(now.getTime() + delayMs(attempts)));
          for (const same of chunksFor(all, 1, 4)) {
            await tx.run(
              `UPDATE "Release" SET "status" = ${next === null ? "'failed'" : "'queued'"}, "attempts" = ?, "error" = ?, "nextAttemptAt" = ?, "commitSha" = NULL, "updatedAt" = ? WHERE "id" IN (${inList(same.length)})`,
              [attempts, error, next, stamp, ...same],
            );
          }
        }
      }
    });
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

  /** The holds on any of these (environment, package) pairs, keyed by environmentPackageKey. */
  async holdsOn(pairs: { environment: string; package: string }[]): Promise<Map<string, HoldRecord>> {
    if (pairs.length === 0) return new Map();
    return this.sql.read((tx) => holdsIn(tx, pairs));
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
      const hold = await tx.hold.create({ data: { ...input, id: newId(), createdAt: new Date(), releaseId: null } });
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
