// The writer: drains queued releases into the GitOps repo, one writer per (repository, branch),
// in queue order, each release exactly once, never force-pushing.
import { isStoreError } from "../store/storeFailure.js";
import path from "node:path";
import type { Logger } from "pino";
import type { ArtifactRuleOptions } from "../domain/artifactRules.js";
import { assignCommits, planCommits, renderReleases } from "../domain/commitPlan.js";
import type { EnvironmentSet, ResolvedRepository } from "../domain/environmentSet.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { BranchLease } from "../store/branchLease.js";
import type { ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import type { RequestRepository } from "../store/requestRepository.js";
import { backoff, Drain, inSlices, KeyedMutex } from "../concurrency/index.js";
import { branchKey } from "./branchKey.js";
import { emptyResult, toWrite, type BatchItem, type BatchResult } from "./steps/batch.js";
import { HistoryIndex } from "./steps/historyIndex.js";
import { mergeRequest, type MergeOutcome } from "./steps/mergeRequests.js";
import { pushWithRetry } from "./steps/pushWithRetry.js";
import { recheck } from "./steps/recheck.js";
import { supersede } from "./steps/supersede.js";
import { PushRejected, RemoteUnavailable, Workspace, WorkspaceError } from "./workspace.js";

export type { BatchResult } from "./steps/batch.js";

export interface WriterOptions {
  /** Releases taken from the queue per write. */
  batchSize: number;
  /**
   * A batch of more releases than this is a backlog: a policy's releases next to each other share
   * one commit (see planCommits). At most this many, one commit each.
   */
  coalesceAbove: number;
  /** Write attempts (remote unreachable or failing) before a release is `failed`. */
  maxAttempts: number;
  /** Rejected pushes (the branch moved) retried at once, re-rendered on the fresh head. */
  pushRetries: number;
  /** Delay before the n-th retry of an unreachable remote. */
  retryDelayMs: (attempt: number) => number;
  /** How often queued releases of other processes and delayed retries are looked for. */
  pollMs: number;
}

const remoteBackoff = backoff({ firstMs: 1000, maxMs: 300_000 });

export const defaultWriterOptions: WriterOptions = {
  batchSize: 1000,
  coalesceAbove: 50,
  maxAttempts: 8,
  pushRetries: 20,
  // Attempts count from 1: the first failed one waits a second.
  retryDelayMs: (attempt) => remoteBackoff(attempt - 1),
  pollMs: 1000,
};

export interface WriterDeps {
  releases: ReleaseRepository;
  artifacts: ArtifactRepository;
  environments: () => EnvironmentSet;
  /** The ingest rules, checked again at write time: an artifact that breaks one is never written. */
  rules: ArtifactRuleOptions;
  workspacesDir: string;
  logger: Logger;
  /** Told after each batch (metrics, events, tests). */
  onWritten?: (result: BatchResult) => void;
  /**
   * Which branches this process may write when replicas share the store (PostgreSQL): a
   * branch whose lease another replica holds is left to it. Absent: every branch is ours.
   */
  lease?: BranchLease;
  /** Timings and counts for metrics. */
  instruments?: WriterInstruments;
  /** The clock of `failingSince` and of the write-time gate's freezes (tests move it instead of waiting). */
  now?: () => Date;
  /** Approved requests, merged by the writer of their repository's branch. Absent: none are. */
  requests?: RequestRepository;
  /** Told after each request the writer tried to merge. */
  onMerged?: (outcome: MergeOutcome) => void;
  /** RELENGD_PUBLIC_URL: the Relengd-Repoclosure-Report trailer's link starts with it. */
  publicUrl?: string | undefined;
}

/**
 * Why a write attempt failed: the remote (unreachable, refusing, its own lock), this process's
 * workspace (a lock git left, a broken clone), the store, or anything else.
 */
export type WriteFailureCause = "remote" | "workspace" | "store" | "other";

/** Errors of the store's client and drivers (Prisma, better-sqlite3, pg). */
export function failureCause(err: unknown): WriteFailureCause {
  if (err instanceof RemoteUnavailable || err instanceof PushRejected) return "remote";
  if (err instanceof WorkspaceError) return "workspace";
  return isStoreError(err) ? "store" : "other";
}

/** Releases rendered between two turns of the event loop (about 5 ms of YAML). */
const RENDER_SLICE = 50;

/** Workspace repairs (stale locks removed, the clone rebuilt) tried per attempt before it counts as failed. */
const WORKSPACE_RECOVERIES = 2;

export interface WriterInstruments {
  commitSeconds(repository: string, seconds: number): void;
  pushSeconds(repository: string, seconds: number): void;
  pushRetried(repository: string): void;
  writeFailed(repository: string, cause: WriteFailureCause): void;
}

/** What readiness (and an operator) needs to know of a repository's writer. */
export interface WriterHealth {
  repository: string;
  /** Since when every attempt to reach the remote has failed; null while it answers. */
  unreachableSince: Date | null;
  /** Since when every write attempt has failed, whatever the cause; null once one succeeds. */
  failingSince: Date | null;
  /** The cause of the last failed attempt while failing. */
  cause: WriteFailureCause | null;
  /** The last failed attempt's error while failing. */
  error: string | null;
  /** Releases found in the remote's history but not yet recorded as pushed: what the writer keeps in memory. */
  rememberedReleases: number;
}

// One lock per (remote, branch) for the whole process, shared by every Writer and BranchWriter
// that exists: a refactor that makes a writer per request must still write one batch at a time
// (Kargo shipped exactly that regression, kargo#5888). Across processes: see the README.
// Keyed by branchKey.
export const branchLocks = new KeyedMutex();

/** The lease of a branch is named after where it is written, not the repository's name. */
export const leaseKey = (repo: { url: string; branch: string }): string => branchKey(repo.url, repo.branch);

/** A rejected push is tried again soon, spread so that two writers racing do not race again. */
const pushBackoff = backoff({ firstMs: 25, maxMs: 2000, jitter: 0.5 });

export class Writer {
  private readonly branches = new Map<string, BranchWriter>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly options: WriterOptions;

  constructor(
    private readonly deps: WriterDeps,
    options: Partial<WriterOptions> = {},
  ) {
    this.options = { ...defaultWriterOptions, ...options };
  }

  /**
   * Resumes every repository with queued releases (crash recovery), and reconciles those with
   * releases a write may have reached (failed ones too) with their remote's history; then polls.
   */
  async start(): Promise<void> {
    const repositories = new Set([...(await this.deps.releases.pendingRepositories()), ...(await this.deps.releases.attemptedRepositories())].map((p) => p.repository));
    for (const repository of [...repositories, ...((await this.deps.requests?.repositoriesWithApproved()) ?? [])]) this.notify(repository);
    this.timer = setInterval(() => {
      void Promise.all([this.deps.releases.pendingRepositories().then((list) => list.map((p) => p.repository)), this.deps.requests?.repositoriesWithApproved() ?? []])
        .then(([pending, approved]) => new Set([...pending, ...approved]).forEach((r) => this.notify(r)))
        .catch((err: unknown) => this.deps.logger.error({ err }, "writer poll failed"));
    }, this.options.pollMs);
    this.timer.unref();
  }

  /** A release was queued for `repository`: make sure its writer runs. */
  notify(repository: string): void {
    if (this.stopped) return;
    const repo = this.deps.environments().repositories.get(repository);
    if (!repo) {
      this.deps.logger.warn({ repository }, "release queued for an undeclared repository");
      return;
    }
    let w = this.branches.get(repository);
    if (!w || w.url !== repo.url || w.branch !== repo.branch) {
      w = new BranchWriter(repo, path.join(this.deps.workspacesDir, `${repo.name}.git`), this.deps, this.options);
      this.branches.set(repository, w);
    }
    w.kick();
  }

  health(): WriterHealth[] {
    return [...this.branches.entries()].map(([repository, w]) => ({
      repository,
      unreachableSince: w.failing?.cause === "remote" ? w.failing.since : null,
      failingSince: w.failing?.since ?? null,
      cause: w.failing?.cause ?? null,
      error: w.failing?.error ?? null,
      rememberedReleases: w.rememberedReleases,
    }));
  }

  /** Resolves when every writer is idle (nothing running, nothing due). */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.all([...this.branches.values()].map((w) => w.settled()));
      if ([...this.branches.values()].every((w) => !w.busy)) return;
    }
  }

  /** Stops polling and waits for the writes in flight (their commits and pushes) to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.branches.values()].map((w) => w.stop()));
  }
}

class BranchWriter {
  private readonly drain = new Drain(() => this.writeDue(), {
    onError: (err) => this.deps.logger.error({ err, repository: this.repo.name }, "writer crashed; will resume on the next poll"),
  });
  private workspace: Workspace | null = null;
  private fetched = false;
  private readonly history: HistoryIndex;
  /** Since when every attempt failed, and why the last one did; null once one succeeds. */
  failing: { since: Date; cause: WriteFailureCause; error: string } | null = null;
  /** Workspace repairs tried since the last attempt counted (see WORKSPACE_RECOVERIES). */
  private recoveries = 0;
  /** After a merge failed for a cause other than the request: not before then again. */
  private mergesPausedUntil = 0;
  private mergeFailures = 0;

  constructor(
    private readonly repo: ResolvedRepository,
    private readonly dir: string,
    private readonly deps: WriterDeps,
    private readonly options: WriterOptions,
  ) {
    this.history = new HistoryIndex({ releases: deps.releases, repository: repo.name, branch: repo.branch, logger: deps.logger });
  }

  get url(): string {
    return this.repo.url;
  }
  get branch(): string {
    return this.repo.branch;
  }
  get busy(): boolean {
    return this.drain.busy;
  }
  get rememberedReleases(): number {
    return this.history.remembered;
  }

  kick(): void {
    this.drain.wake();
  }

  settled(): Promise<void> {
    return this.drain.settled();
  }

  stop(): Promise<void> {
    return this.drain.stop();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** One drain pass: batches until none is due; false when the branch is not ours to write now. */
  private async writeDue(): Promise<boolean> {
    const key = branchKey(this.repo.url, this.repo.branch);
    for (;;) {
      if (this.drain.stopped) return false;
      if (!(await this.leased())) return false;
      if (!this.history.reconciled) await branchLocks.run(key, () => this.reconcile());
      // The queue is read under the lock too: what another writer just wrote is no longer due.
      const wrote = await branchLocks.run(key, async () => {
        const batch = await this.deps.releases.due(this.repo.name, this.repo.branch, this.options.batchSize);
        if (batch.length === 0) return false;
        await this.writeBatch(batch);
        return true;
      });
      if (!wrote) {
        await this.mergeApproved(key);
        return true;
      }
    }
  }

  /**
   * Approved requests merged one at a time under the branch's lock, in the order they were
   * approved; releases queued meanwhile wait at most one merge.
   */
  private async mergeApproved(key: string): Promise<void> {
    const requests = this.deps.requests;
    if (!requests || Date.now() < this.mergesPausedUntil) return;
    const approved = await requests.approved(this.repo.name);
    for (const request of approved) {
      if (this.drain.stopped) return;
      const failed = await branchLocks.run(key, async () => {
        try {
          const outcome = await mergeRequest(
            {
              repo: this.repo,
              requests,
              open: () => this.open(),
              push: (ws, sha) => this.push(ws, sha),
              retry: { retries: this.options.pushRetries, delayMs: pushBackoff, refresh: () => this.workspace?.fetch() ?? Promise.resolve() },
              now: () => this.now(),
              logger: this.deps.logger,
            },
            request,
          );
          this.deps.onMerged?.(outcome);
          return false;
        } catch (err) {
          this.fetched = false;
          this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err), request: request.id, repository: this.repo.name }, "cannot merge an approved request now; trying again later");
          return true;
        }
      });
      if (failed) {
        this.mergeFailures++;
        this.mergesPausedUntil = Date.now() + this.options.retryDelayMs(this.mergeFailures);
        return;
      }
      this.mergeFailures = 0;
    }
  }

  /**
   * Start-up: releases in the remote's history are recorded pushed before anything is written,
   * whatever they are recorded as (failed after a crash, queued for a retry). Tried again on the
   * next drain when the remote cannot be read.
   */
  private async reconcile(): Promise<void> {
    const result = emptyResult(this.repo.name);
    try {
      const ws = await this.open();
      await this.history.scan(ws, await ws.head(), result);
    } catch (err) {
      this.fetched = false;
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err), repository: this.repo.name }, "cannot reconcile the store with the remote's history yet");
      return;
    }
    if (result.pushed.length > 0) this.deps.onWritten?.(result);
  }

  /** Whether this process may write the branch now; the poll asks again while it may not. */
  private async leased(): Promise<boolean> {
    if (!this.deps.lease) return true;
    try {
      return await this.deps.lease.hold(leaseKey(this.repo));
    } catch (err) {
      this.deps.logger.warn({ err, repository: this.repo.name }, "cannot reach the store to take the branch lease");
      return false;
    }
  }

  private async open(): Promise<Workspace> {
    if (!this.workspace) {
      const ws = new Workspace(this.dir, this.repo.url, this.repo.branch);
      // At start-up: the locks a crash left in the workspace.
      const sweep = await ws.open();
      if (sweep.removed.length > 0) this.deps.logger.warn({ repository: this.repo.name, removed: sweep.removed }, "removed stale git locks from the workspace");
      this.workspace = ws;
    }
    if (!this.fetched) {
      await this.workspace.fetch();
      this.fetched = true;
    }
    return this.workspace;
  }

  /** The steps of a batch: recheck, what history has, supersede, then plan, commit and push. */
  private async writeBatch(batch: ReleaseRecord[]): Promise<void> {
    const log = this.deps.logger.child({ repository: this.repo.name, branch: this.repo.branch });
    const result = emptyResult(this.repo.name);
    const ids = batch.map((r) => r.id);
    try {
      const envs = this.deps.environments();
      const writable = await recheck(
        { releases: this.deps.releases, artifacts: this.deps.artifacts, environments: envs, rules: this.deps.rules, repository: this.repo.name, now: this.now() },
        batch,
        result,
      );
      // History wins: a release already written is pushed, whatever came after it.
      const unwritten = await this.alreadyWritten(writable, result);
      const live = await supersede({ releases: this.deps.releases, artifacts: this.deps.artifacts, environments: envs }, unwritten, result);
      if (live.length > 0) await this.writeAndPush(live, result);
      this.failing = null;
      this.recoveries = 0;
    } catch (err) {
      // A fetch is due next time: the local view of the remote may be stale.
      this.fetched = false;
      const repair = err instanceof WorkspaceError ? await this.repairWorkspace(err, log) : "";
      if (repair === true) {
        // Written again at once: the drain loop takes what is still due.
        this.deps.onWritten?.(result);
        return;
      }
      this.recoveries = 0;
      const cause = failureCause(err);
      const message = `${cause}: ${err instanceof Error ? err.message : String(err)}${repair}`;
      if (err instanceof RemoteUnavailable) log.warn({ err: message, cause, releases: ids.length }, "remote unavailable; releases stay queued");
      else if (cause === "workspace") log.warn({ err: message, cause, releases: ids.length }, "local workspace failed; releases stay queued");
      else log.error({ err, cause }, "write failed");
      this.failing = { since: this.failing?.since ?? this.now(), cause, error: message };
      this.deps.instruments?.writeFailed(this.repo.name, cause);
      const pending = ids.filter((id) => !result.pushed.some((p) => p.id === id) && !result.superseded.includes(id) && !result.blocked.includes(id));
      await this.deps.releases.markAttemptFailed(pending, message, this.options.maxAttempts, this.options.retryDelayMs);
      result.failed.push(...pending);
    }
    this.deps.onWritten?.(result);
  }

  /**
   * A failed workspace is repaired when that is safe: the stale locks the error names (and any
   * other) are removed, or, when no lock explains it, the clone is rebuilt from the remote.
   * True when the write should be tried again at once, else what the failure's record should add.
   */
  private async repairWorkspace(err: WorkspaceError, log: Logger): Promise<true | string> {
    if (this.recoveries >= WORKSPACE_RECOVERIES) return "";
    this.recoveries++;
    const ws = this.workspace ?? new Workspace(this.dir, this.repo.url, this.repo.branch);
    const sweep = ws.clearStaleLocks(err.locks);
    if (sweep.held.length > 0) {
      log.warn({ err: err.message, held: sweep.held }, "workspace locks may be held by a running process; left in place");
      return `; left in place, held by ${[...new Set(sweep.held.map((h) => h.by))].join("; ")}`;
    }
    // A lock the error named and gone by now was held by a git process that has ended since.
    if (sweep.removed.length > 0 || err.locks.length > 0) {
      log.warn({ err: err.message, removed: sweep.removed }, "removed stale git locks from the workspace; writing again at once");
      return true;
    }
    if (!(await ws.rebuild().catch(() => false))) return "; the workspace could not be rebuilt";
    log.warn({ err: err.message }, "workspace rebuilt from the remote; writing again at once");
    this.workspace = ws;
    this.history.forget();
    return true;
  }

  /** Marks releases whose commit is already in the remote's history pushed; returns the others. */
  private async alreadyWritten(items: BatchItem[], result: BatchResult): Promise<BatchItem[]> {
    if (items.length === 0) return items;
    const ws = await this.open();
    await this.history.scan(ws, await ws.head(), result);
    return this.history.withoutWritten(items, result);
  }

  /**
   * Renders the releases on the branch's head, plans the commits, makes and pushes them; a
   * rejected push (the branch moved) is planned again on the fresh head.
   */
  private async writeAndPush(items: BatchItem[], result: BatchResult): Promise<void> {
    const envs = this.deps.environments();
    let pending = items;
    await pushWithRetry(
      async () => {
        const ws = await this.open();
        const head = await ws.head();
        // What history already has is done, whatever the release's record says.
        await this.history.scan(ws, head, result);
        pending = await this.history.withoutWritten(pending, result);
        if (pending.length === 0) return;

        // Rendering YAML is the batch's largest piece of CPU: in slices, so requests are served meanwhile.
        const renderings = await inSlices(
          pending.map((p) => ({ release: toWrite(p.release, this.deps.publicUrl), artifact: p.artifact })),
          RENDER_SLICE,
          (slice) => [renderReleases(slice, envs.environments)],
        );
        const rendered = renderings.flatMap((r) => r.rendered);
        const unrenderable = renderings.flatMap((r) => r.unrenderable);
        for (const u of unrenderable) {
          await this.deps.releases.markBlocked(u.id, u.reason);
          result.blocked.push(u.id);
        }
        const renderedIds = new Set(rendered.map((r) => r.release.spec.id));
        pending = pending.filter((p) => renderedIds.has(p.release.id));

        const plan = planCommits(rendered, await ws.readFiles(head, rendered.map((r) => r.out.path)), { coalesce: rendered.length > this.options.coalesceAbove });
        const commitStarted = performance.now();
        const shas = await ws.commit(head, plan.commits, this.repo.author);
        this.deps.instruments?.commitSeconds(this.repo.name, (performance.now() - commitStarted) / 1000);
        const assigned = assignCommits(plan, head, shas);
        // Refused on this head; a re-render after a rejected push decides again.
        for (const d of plan.downgrades) {
          await this.deps.releases.markBlocked(d.id, d.reason);
          result.blocked.push(d.id);
        }
        const refused = new Set(plan.downgrades.map((d) => d.id));
        pending = pending.filter((p) => !refused.has(p.release.id));
        const tip = shas.at(-1);
        if (!tip) {
          await this.history.recordPushed(assigned, result, "written");
          return;
        }
        // The commit's record and the push overlap (the record's fsync is a few ms of a release's
        // latency); both are done before anything is recorded pushed.
        const [recorded, pushed] = await Promise.allSettled([this.deps.releases.markCommitted(assigned), this.push(ws, tip)]);
        if (pushed.status === "rejected") throw pushed.reason;
        if (recorded.status === "rejected") throw recorded.reason;
        this.history.pushed(assigned, tip);
        await this.history.recordPushed(assigned, result, "written");
      },
      {
        retries: this.options.pushRetries,
        delayMs: pushBackoff,
        rejected: (attempt) => {
          this.deps.instruments?.pushRetried(this.repo.name);
          this.deps.logger.info({ repository: this.repo.name, attempt }, "push rejected: the branch moved; re-rendering on the fresh head");
        },
        refresh: () => this.workspace?.fetch() ?? Promise.resolve(),
      },
    );
  }

  /** Pushes `tip`, timed whether it lands or not. */
  private async push(ws: Workspace, tip: string): Promise<void> {
    const started = performance.now();
    try {
      await ws.push(tip);
    } finally {
      this.deps.instruments?.pushSeconds(this.repo.name, (performance.now() - started) / 1000);
    }
  }
}
