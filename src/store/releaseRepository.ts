// Releases and holds in the store. The release table is the writer's durable queue.
import { environmentPackageKey } from "../domain/environmentPackage.js";
import { sql, type Selectable } from "kysely";
import type { ReleaseStatus } from "../domain/release.js";
import { repoclosurePreflightSchema, type RepoclosurePreflight } from "../domain/repoclosure.js";
import { decodeCursor, encodeCursor } from "./artifactRepository.js";
import { DecisionRepository, type NewDecision } from "./decisionRepository.js";
import type { Hold, Release } from "./generated/kysely/types.js";
import { GroupCommit } from "./groupCommit.js";
import { newId } from "./ids.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";

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
  /** The repoclosure preflight it is (or was) checked with; null: none. */
  preflight: RepoclosurePreflight | null;
  /** The broken-deps report the gate judged it by. */
  repoclosureReportId: string | null;
  /** The Relengd-Repoclosure trailer's value, once it passed the gate. */
  repoclosure: string | null;
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

export interface NewRelease extends Pick<ReleaseRecord, "artifactId" | "environment" | "repository" | "branch" | "package" | "trigger" | "createdBy" | "force"> {
  forceReason?: string;
  /** Written in one commit with neighbouring bulk releases of the same trigger. */
  bulk?: boolean;
  /** A decision to record in the same transaction, made from the outcome (policy releases). */
  decision?: (outcome: EnqueueOutcome) => NewDecision;
  /** Placed in the same transaction (a rollback's hold). */
  hold?: { reason: string };
  /** Checked first (stored `checking`, the gate queues or blocks it); absent: queued at once. */
  preflight?: RepoclosurePreflight;
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

/** A stored Release row as a record: the one mapper of the table (the bus outbox reads releases too). */
export function releaseFromRow(row: Selectable<Release>): ReleaseRecord {
  return {
    ...row,
    // Only this module writes the column, from a parsed preflight: one that does not parse is a bug, said loudly.
    preflight: row.preflight === null ? null : repoclosurePreflightSchema.parse(JSON.parse(row.preflight)),
    force: row.force === 1,
    bulk: row.bulk === 1,
    status: row.status as ReleaseStatus,
    nextAttemptAt: row.nextAttemptAt === null ? null : fromStamp(row.nextAttemptAt),
    createdAt: fromStamp(row.createdAt),
    updatedAt: fromStamp(row.updatedAt),
    pushedAt: row.pushedAt === null ? null : fromStamp(row.pushedAt),
  };
}

const holdFromRow = (row: Selectable<Hold>): HoldRecord => ({ ...row, createdAt: fromStamp(row.createdAt) });

/** Statuses a release is in while the writer still has it. */
const IN_WRITER: ReleaseStatus[] = ["queued", "committed"];
/** Statuses of a release that no longer stands in the way of another of the same artifact. */
const GIVEN_UP: ReleaseStatus[] = ["failed", "superseded", "blocked"];

/** Columns one release row binds in the queueing insert. */
const RELEASE_INSERT_COLUMNS = 16;

/** The holds on any of these (environment, package) pairs, keyed by environmentPackageKey. */
async function holdsIn(tx: Tx, pairs: readonly { environment: string; package: string }[]): Promise<Map<string, HoldRecord>> {
  const wanted = new Set(pairs.map(environmentPackageKey));
  const out = new Map<string, HoldRecord>();
  for (const environments of chunksFor([...new Set(pairs.map((p) => p.environment))], 1)) {
    const rows = await tx.selectFrom("Hold").selectAll().where("environment", "in", environments).execute();
    for (const h of rows) {
      const key = environmentPackageKey(h);
      if (wanted.has(key)) out.set(key, holdFromRow(h));
    }
  }
  return out;
}

/** `CASE "id" WHEN ? THEN ? … END`: per release its own value, in one statement. */
function byId(items: readonly { id: string; value: string }[]) {
  return sql<string>`CASE ${sql.ref("id")} ${sql.join(
    items.map((i) => sql`WHEN ${i.id} THEN ${i.value}`),
    sql` `,
  )} END`;
}

export class ReleaseRepository {
  private readonly enqueueQueue: GroupCommit<NewRelease, EnqueueOutcome>;
  private readonly decisions: DecisionRepository;

  constructor(private readonly store: Store) {
    this.decisions = new DecisionRepository(store);
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
    return this.store.transaction((tx) => this.enqueueIn(tx, inputs));
  }

  /**
   * Queues releases inside a transaction the caller holds (a push: an artifact, its policy
   * decisions and the releases they fire are committed together). Multi-row statements: this
   * runs in every push's transaction. With `recordDecisions: false` the inputs' decisions are
   * left to the caller, who records them with its others in one statement.
   */
  async enqueueIn(tx: Tx, inputs: NewRelease[], options: { fresh?: boolean; recordDecisions?: boolean } = {}): Promise<EnqueueOutcome[]> {
    if (inputs.length === 0) return [];
    const holds = await holdsIn(tx, inputs);
    const standing = new Map<string, ReleaseRecord | string>();
    // Artifacts created in this very transaction cannot have releases yet.
    if (!options.fresh) {
      for (const ids of chunksFor([...new Set(inputs.map((i) => i.artifactId))], 1, GIVEN_UP.length)) {
        const standingRows = await tx
          .selectFrom("Release")
          .selectAll()
          .where("artifactId", "in", ids)
          .where("status", "not in", GIVEN_UP)
          .orderBy("seq", "desc")
          .execute();
        for (const row of standingRows) {
          const key = `${row.artifactId}\0${row.environment}`;
          if (!standing.has(key)) standing.set(key, releaseFromRow(row));
        }
      }
    }

    const now = new Date();
    const at = stamp(now);
    const plan: ({ kind: "held"; hold: HoldRecord } | { kind: "duplicate"; key: string } | { kind: "new"; id: string; input: NewRelease })[] = [];
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
      }
    }
    const fresh = plan.flatMap((p) => (p.kind === "new" ? [p] : []));
    // The stored row is known but for its sequence number: RETURNING gives that, so nothing is
    // read back.
    const seqs = new Map<string, number>();
    for (const chunk of chunksFor(fresh, RELEASE_INSERT_COLUMNS)) {
      const returned = await tx
        .insertInto("Release")
        .values(
          chunk.map(({ id, input }) => ({
            id,
            artifactId: input.artifactId,
            environment: input.environment,
            repository: input.repository,
            branch: input.branch,
            package: input.package,
            trigger: input.trigger,
            createdBy: input.createdBy,
            force: flag(input.force),
            forceReason: input.forceReason ?? null,
            bulk: flag(input.bulk ?? false),
            createdAt: at,
            updatedAt: at,
            status: input.preflight ? "checking" : "queued",
            attempts: 0,
            preflight: input.preflight ? JSON.stringify(input.preflight) : null,
          })),
        )
        .returning(["id", "seq"])
        .execute();
      for (const r of returned) seqs.set(r.id, r.seq);
    }
    const inserted = new Map<string, ReleaseRecord>();
    for (const { id, input: i } of fresh) {
      const seq = seqs.get(id);
      if (seq === undefined) throw new Error(`release ${id} was not stored`);
      inserted.set(id, {
        seq,
        id,
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
        status: i.preflight ? "checking" : "queued",
        reason: null,
        supersededBy: null,
        error: null,
        attempts: 0,
        nextAttemptAt: null,
        commitSha: null,
        createdAt: now,
        updatedAt: now,
        pushedAt: null,
        preflight: i.preflight ?? null,
        repoclosureReportId: null,
        repoclosure: null,
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
          const placed = await tx
            .insertInto("Hold")
            .values({ id: newId(), environment: p.input.environment, package: p.input.package, reason: p.input.hold.reason, createdBy: p.input.createdBy, createdAt: at, releaseId: release.id })
            .onConflict((oc) =>
              oc.columns(["environment", "package"]).doUpdateSet((eb) => ({
                reason: eb.ref("excluded.reason"),
                createdBy: eb.ref("excluded.createdBy"),
                createdAt: eb.ref("excluded.createdAt"),
                releaseId: eb.ref("excluded.releaseId"),
              })),
            )
            .returningAll()
            .executeTakeFirst();
          if (!placed) throw new Error(`hold on ${p.input.environment}/${p.input.package} was not stored`);
          outcomes.push({ status: "queued", release, hold: holdFromRow(placed) });
        } else outcomes.push({ status: "queued", release });
      }
    }
    if (options.recordDecisions === false) return outcomes;
    const decisions = inputs.flatMap((input, i) => (input.decision ? [input.decision(outcomes[i] as EnqueueOutcome)] : []));
    await this.decisions.recordIn(tx, decisions, now);
    return outcomes;
  }

  async get(id: string): Promise<ReleaseRecord | null> {
    const row = await this.store.read((tx) => tx.selectFrom("Release").selectAll().where("id", "=", id).executeTakeFirst());
    return row ? releaseFromRow(row) : null;
  }

  async list(q: ReleaseQuery): Promise<{ items: ReleaseRecord[]; nextCursor: string | null }> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .selectAll()
        .$if(q.environment !== undefined, (w) => w.where("environment", "=", q.environment as string))
        .$if(q.package !== undefined, (w) => w.where("package", "=", q.package as string))
        .$if(q.status !== undefined, (w) => w.where("status", "=", q.status as string))
        .$if(q.artifactId !== undefined, (w) => w.where("artifactId", "=", q.artifactId as string))
        .$if(q.cursor !== undefined, (w) => w.where("seq", "<", decodeCursor(q.cursor as string)))
        .orderBy("seq", "desc")
        .limit(q.limit + 1)
        .execute(),
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return { items: page.map(releaseFromRow), nextCursor: rows.length > q.limit && last ? encodeCursor(last.seq) : null };
  }

  /** The next releases the writer of (repository, branch) should write, in queue order. */
  async due(repository: string, branch: string, limit: number, now = new Date()): Promise<ReleaseRecord[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .selectAll()
        .where("repository", "=", repository)
        .where("branch", "=", branch)
        .where("status", "in", IN_WRITER)
        .where((w) => w.or([w("nextAttemptAt", "is", null), w("nextAttemptAt", "<=", stamp(now))]))
        .orderBy("seq", "asc")
        .limit(limit)
        .execute(),
    );
    return rows.map(releaseFromRow);
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
    await this.store.read(async (tx) => {
      // Per pair at most one environment and one package; the statuses and the sequence number once.
      for (const chunk of chunksFor(unique, 2, IN_WRITER.length + 2)) {
        const environments = [...new Set(chunk.map((p) => p.environment))];
        const packages = [...new Set(chunk.map((p) => p.package))];
        const rows = await tx
          .selectFrom("Release")
          .selectAll()
          .where("environment", "in", environments)
          .where("package", "in", packages)
          .where((w) => w.or([w("status", "in", IN_WRITER), w.and([w("status", "=", "pushed"), w("seq", ">", sinceSeq)])]))
          .execute();
        for (const r of rows) if (wanted.has(environmentPackageKey(r))) out.set(r.id, releaseFromRow(r));
      }
    });
    return [...out.values()].sort((a, b) => a.seq - b.seq);
  }

  /** When the next delayed retry of (repository, branch) is due, if any. */
  async nextRetryAt(repository: string, branch: string): Promise<Date | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select("nextAttemptAt")
        .where("repository", "=", repository)
        .where("branch", "=", branch)
        .where("status", "in", IN_WRITER)
        .where("nextAttemptAt", "is not", null)
        .orderBy("nextAttemptAt", "asc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row?.nextAttemptAt ? fromStamp(row.nextAttemptAt) : null;
  }

  async pendingRepositories(): Promise<{ repository: string; branch: string }[]> {
    // Distinct in the database: during a mass rebuild the writer's poll would otherwise read
    // every queued row.
    return this.store.read((tx) => tx.selectFrom("Release").select(["repository", "branch"]).distinct().where("status", "in", IN_WRITER).execute());
  }

  /** Where releases were failed (attempts run out): the writer reconciles them with history at start. */
  async attemptedRepositories(): Promise<{ repository: string; branch: string }[]> {
    return this.store.read((tx) => tx.selectFrom("Release").select(["repository", "branch"]).distinct().where("status", "=", "failed").execute());
  }

  /** Per repository: releases not yet pushed, and when the oldest of them was queued. */
  async queueStats(): Promise<{ repository: string; depth: number; oldest: Date | null }[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select((eb) => ["repository", eb.fn.countAll<number>().as("depth"), eb.fn.min("createdAt").as("oldest")])
        .where("status", "in", IN_WRITER)
        .groupBy("repository")
        .execute(),
    );
    return rows.map((r) => ({ repository: r.repository, depth: Number(r.depth), oldest: r.oldest === null ? null : fromStamp(r.oldest) }));
  }

  /** Releases waiting for their repoclosure preflight, and when the oldest was stored (metrics). */
  async checkingStats(): Promise<{ count: number; oldest: Date | null }> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select((eb) => [eb.fn.countAll<number>().as("count"), eb.fn.min("createdAt").as("oldest")])
        .where("status", "=", "checking")
        .executeTakeFirst(),
    );
    return { count: Number(row?.count ?? 0), oldest: row?.oldest ? fromStamp(row.oldest) : null };
  }

  /**
   * Those of `ids` recorded as anything but pushed (unknown ids are left out). Pushed is final:
   * no release leaves it, so the writer need not remember where in history such a release is.
   */
  async notPushed(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await this.store.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1, 1)) {
        const rows = await tx.selectFrom("Release").select("id").where("id", "in", chunk).where("status", "<>", "pushed").execute();
        for (const r of rows) out.add(r.id);
      }
    });
    return out;
  }

  /** Marks releases pushed; only those still in the writer's hands change. One statement per chunk. */
  async markPushed(items: { id: string; commitSha: string }[]): Promise<void> {
    const at = stamp(new Date());
    // Binds besides the list: the five values set and the two statuses.
    await this.markWritten(items, { status: "pushed", pushedAt: at, updatedAt: at, error: null, nextAttemptAt: null }, 7);
  }

  async markCommitted(items: { id: string; commitSha: string }[]): Promise<void> {
    await this.markWritten(items, { status: "committed", updatedAt: stamp(new Date()) }, 4);
  }

  /**
   * Releases found in the remote's history are pushed with the commit that has them, whatever
   * they are recorded as (a crash between push and record, attempts run out meanwhile, a retry):
   * history is what happened.
   */
  async markPushedFromHistory(items: { id: string; commitSha: string }[]): Promise<void> {
    const at = stamp(new Date());
    await this.markWritten(items, { status: "pushed", pushedAt: at, updatedAt: at, error: null, nextAttemptAt: null, reason: null }, 7, "any-but-pushed");
  }

  /**
   * A commit of (repository, branch) whose history holds only releases recorded as pushed: the
   * commit of the newest release recorded pushed. Every path that records a release pushed has
   * first recorded every release in the history below its commit (the writer scans and records
   * history before it writes on top of it), so history before this commit need not be read again.
   */
  async pushedWatermark(repository: string, branch: string): Promise<string | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select("commitSha")
        .where("repository", "=", repository)
        .where("branch", "=", branch)
        .where("status", "=", "pushed")
        .where("commitSha", "is not", null)
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row?.commitSha ?? null;
  }

  /** Releases of (repository, branch) that a write may have reached but that are not recorded pushed. */
  async unrecordedReleases(repository: string, branch: string): Promise<string[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select("id")
        .where("repository", "=", repository)
        .where("branch", "=", branch)
        .where("status", "in", [...IN_WRITER, "failed"])
        .execute(),
    );
    return rows.map((r) => r.id);
  }

  // Each release its own commit id, in one statement per chunk (a batch is hundreds of
  // releases): a CASE of (id, sha) over the releases it names.
  private async markWritten(
    items: { id: string; commitSha: string }[],
    set: { status: ReleaseStatus; updatedAt: string; pushedAt?: string; error?: null; nextAttemptAt?: null; reason?: null },
    reserved: number,
    from: "in-writer" | "any-but-pushed" = "in-writer",
  ): Promise<void> {
    if (items.length === 0) return;
    await this.store.transaction(async (tx) => {
      // Per release: its id and commit in the CASE, its id in the IN list.
      for (const chunk of chunksFor(items, 3, reserved)) {
        await tx
          .updateTable("Release")
          .set({ ...set, commitSha: byId(chunk.map((i) => ({ id: i.id, value: i.commitSha }))) })
          .where(
            "id",
            "in",
            chunk.map((i) => i.id),
          )
          .$if(from === "in-writer", (w) => w.where("status", "in", IN_WRITER))
          .$if(from === "any-but-pushed", (w) => w.where("status", "<>", "pushed"))
          .execute();
      }
    });
  }

  async markSuperseded(items: { id: string; by: string }[]): Promise<void> {
    if (items.length === 0) return;
    const at = stamp(new Date());
    await this.store.transaction(async (tx) => {
      // Per release: its id and superseder in each of the two CASEs, and its id in the IN list;
      // besides, the status and time set and the two statuses it may be in.
      for (const chunk of chunksFor(items, 5, 4)) {
        await tx
          .updateTable("Release")
          .set({
            status: "superseded",
            supersededBy: byId(chunk.map((i) => ({ id: i.id, value: i.by }))),
            reason: byId(chunk.map((i) => ({ id: i.id, value: `superseded by release ${i.by}` }))),
            updatedAt: at,
          })
          .where(
            "id",
            "in",
            chunk.map((i) => i.id),
          )
          .where("status", "in", IN_WRITER)
          .execute();
      }
    });
  }

  async markBlocked(id: string, reason: string): Promise<void> {
    await this.store.transaction((tx) =>
      tx.updateTable("Release").set({ status: "blocked", reason, updatedAt: stamp(new Date()) }).where("id", "=", id).where("status", "in", IN_WRITER).execute(),
    );
  }

  /** A write attempt failed: back to queued with a delay, or failed once attempts run out. */
  async markAttemptFailed(ids: string[], error: string, maxAttempts: number, delayMs: (attempt: number) => number): Promise<void> {
    const now = new Date();
    const at = stamp(now);
    await this.store.transaction(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1, IN_WRITER.length)) {
        const rows = await tx.selectFrom("Release").select(["id", "attempts"]).where("id", "in", chunk).where("status", "in", IN_WRITER).execute();
        // One statement per attempt count (a batch shares one, mostly), not one per release: a
        // batch of a thousand took longer than PostgreSQL's transaction timeout under load.
        const byAttempts = new Map<number, string[]>();
        for (const r of rows) byAttempts.set(r.attempts + 1, [...(byAttempts.get(r.attempts + 1) ?? []), r.id]);
        for (const [attempts, all] of byAttempts) {
          const next = attempts >= maxAttempts ? null : stamp(new Date(now.getTime() + delayMs(attempts)));
          // Besides the ids: the six values set.
          for (const same of chunksFor(all, 1, 6)) {
            await tx
              .updateTable("Release")
              .set({ status: next === null ? "failed" : "queued", attempts, error, nextAttemptAt: next, commitSha: null, updatedAt: at })
              .where("id", "in", same)
              .execute();
          }
        }
      }
    });
  }

  /**
   * Releases waiting for the repoclosure gate, oldest first. `attempts` of a checking release
   * counts how often a person asked for the check again (a retry): such a one wants a fresh look.
   */
  async checking(limit: number): Promise<ReleaseRecord[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("Release").selectAll().where("status", "=", "checking").orderBy("seq", "asc").limit(limit).execute());
    return rows.map(releaseFromRow);
  }

  /**
   * The gate's verdict on a checking release: queued for the writer (with the report and the
   * trailer's value) or blocked with the reason. Only a release still `checking` changes (two
   * replicas, a retry meanwhile): false when it had left that status.
   */
  async judgeChecked(id: string, verdict: { status: "queued"; reportId: string; repoclosure: string } | { status: "blocked"; reportId: string; reason: string }): Promise<boolean> {
    const at = stamp(new Date());
    const set =
      verdict.status === "queued"
        ? { status: "queued", repoclosureReportId: verdict.reportId, repoclosure: verdict.repoclosure, reason: null, attempts: 0, updatedAt: at }
        : { status: "blocked", repoclosureReportId: verdict.reportId, repoclosure: null, reason: verdict.reason, updatedAt: at };
    const changed = await this.store.transaction((tx) => tx.updateTable("Release").set(set).where("id", "=", id).where("status", "=", "checking").executeTakeFirst());
    return changed.numUpdatedRows === 1n;
  }

  /** A release the gate blocked is checked again (`attempts` counts the asks: the gate then wants a fresh result); null when it is not one. */
  async recheck(id: string): Promise<ReleaseRecord | null> {
    const changed = await this.store.transaction((tx) =>
      tx
        .updateTable("Release")
        .set((eb) => ({ status: "checking", reason: null, repoclosureReportId: null, repoclosure: null, attempts: eb(eb.ref("attempts"), "+", 1), updatedAt: stamp(new Date()) }))
        .where("id", "=", id)
        .where("status", "=", "blocked")
        .where("preflight", "is not", null)
        // Blocked by the gate (a report, no trailer value), not by the writer after it passed.
        .where("repoclosureReportId", "is not", null)
        .where("repoclosure", "is", null)
        .executeTakeFirst(),
    );
    return changed.numUpdatedRows === 1n ? this.get(id) : null;
  }

  /** A failed release goes back to the queue with fresh attempts. */
  async retry(id: string): Promise<ReleaseRecord | null> {
    const changed = await this.store.transaction((tx) =>
      tx
        .updateTable("Release")
        .set({ status: "queued", attempts: 0, error: null, nextAttemptAt: null, updatedAt: stamp(new Date()) })
        .where("id", "=", id)
        .where("status", "=", "failed")
        .executeTakeFirst(),
    );
    return changed.numUpdatedRows === 1n ? this.get(id) : null;
  }

  /** Artifacts with a pushed release to `environment`, newest release first (schedule selection). */
  async artifactsPushedTo(environment: string, limit: number): Promise<string[]> {
    const rows = await this.store.read((tx) =>
      tx.selectFrom("Release").select("artifactId").where("environment", "=", environment).where("status", "=", "pushed").orderBy("seq", "desc").limit(limit).execute(),
    );
    return [...new Set(rows.map((r) => r.artifactId))];
  }

  /** Pushed releases of a package to an environment, newest first (for rollbacks). */
  async pushedHistory(environment: string, pkg: string, limit = 50): Promise<ReleaseRecord[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .selectAll()
        .where("environment", "=", environment)
        .where("package", "=", pkg)
        .where("status", "=", "pushed")
        .orderBy("seq", "desc")
        .limit(limit)
        .execute(),
    );
    return rows.map(releaseFromRow);
  }

  async hold(environment: string, pkg: string): Promise<HoldRecord | null> {
    const row = await this.store.read((tx) => tx.selectFrom("Hold").selectAll().where("environment", "=", environment).where("package", "=", pkg).executeTakeFirst());
    return row ? holdFromRow(row) : null;
  }

  /** The holds on any of these (environment, package) pairs, keyed by environmentPackageKey. */
  async holdsOn(pairs: { environment: string; package: string }[]): Promise<Map<string, HoldRecord>> {
    if (pairs.length === 0) return new Map();
    return this.store.read((tx) => holdsIn(tx, pairs));
  }

  async holds(filter: { environment?: string; package?: string } = {}): Promise<HoldRecord[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Hold")
        .selectAll()
        .$if(filter.environment !== undefined, (w) => w.where("environment", "=", filter.environment as string))
        .$if(filter.package !== undefined, (w) => w.where("package", "=", filter.package as string))
        .orderBy("environment", "asc")
        .orderBy("package", "asc")
        .execute(),
    );
    return rows.map(holdFromRow);
  }

  async addHold(input: { environment: string; package: string; reason: string; createdBy: string }): Promise<{ status: "added"; hold: HoldRecord } | { status: "exists"; hold: HoldRecord }> {
    return this.store.transaction(async (tx) => {
      const prior = await tx.selectFrom("Hold").selectAll().where("environment", "=", input.environment).where("package", "=", input.package).executeTakeFirst();
      if (prior) return { status: "exists", hold: holdFromRow(prior) } as const;
      const hold = await tx
        .insertInto("Hold")
        .values({ ...input, id: newId(), createdAt: stamp(new Date()), releaseId: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { status: "added", hold: holdFromRow(hold) } as const;
    });
  }

  async removeHold(id: string): Promise<HoldRecord | null> {
    return this.store.transaction(async (tx) => {
      const hold = await tx.selectFrom("Hold").selectAll().where("id", "=", id).executeTakeFirst();
      if (!hold) return null;
      await tx.deleteFrom("Hold").where("id", "=", id).execute();
      return holdFromRow(hold);
    });
  }
}
