// The writer: drains queued releases into the GitOps repo, one writer per (repository, branch),
// in queue order, each release exactly once, never force-pushing.
import path from "node:path";
import type { Logger } from "pino";
import type { Artifact } from "../domain/artifact.js";
import { ruleRefusal, type ArtifactRuleOptions } from "../domain/artifactRules.js";
import { sameRequest } from "../domain/documents/index.js";
import { environmentPackageKey } from "../domain/environmentPackage.js";
import { activeFreeze, describeFreeze } from "../domain/freeze.js";
import { renderBulkCommitMessage, type BulkCommitInfo } from "../domain/trailers.js";
import { UnsafePathError } from "../domain/paths.js";
import { downgradeReason, kojiTagNvr, releaseRequirement, renderRelease, supersedingContender, type RenderedRelease, type TagContender } from "../domain/release.js";
import type { EnvironmentSet, ResolvedRepository } from "../policy/environments.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { BranchLease } from "../store/branchLease.js";
import type { ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import { PushRejected, RemoteUnavailable, Workspace, WorkspaceError, type FileCommit } from "./workspace.js";

export interface WriterOptions {
  /** Releases taken from the queue per write. */
  batchSize: number;
  /** Write attempts (remote unreachable or failing) before a release is `failed`. */
  maxAttempts: number;
  /** Rejected pushes (the branch moved) retried at once, re-rendered on the fresh head. */
  pushRetries: number;
  /** Delay before the n-th retry of an unreachable remote. */
  retryDelayMs: (attempt: number) => number;
  /** How often queued releases of other processes and delayed retries are looked for. */
  pollMs: number;
}

export const defaultWriterOptions: WriterOptions = {
  batchSize: 1000,
  maxAttempts: 8,
  pushRetries: 20,
  retryDelayMs: (attempt) => Math.min(300_000, 1000 * 2 ** (attempt - 1)),
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
  /** The clock of `failingSince` (tests move it instead of waiting). */
  now?: () => Date;
}

/**
 * Why a write attempt failed: the remote (unreachable, refusing, its own lock), this process's
 * workspace (a lock git left, a broken clone), the store, or anything else.
 */
export type WriteFailureCause = "remote" | "workspace" | "store" | "other";

/** Errors of the store's client and drivers (Prisma, better-sqlite3, pg). */
function isStoreError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; severity?: unknown; code?: unknown };
  return (typeof e.name === "string" && /^(PrismaClient|DriverAdapterError$|SqliteError$)/.test(e.name)) || (typeof e.severity === "string" && typeof e.code === "string");
}

export function failureCause(err: unknown): WriteFailureCause {
  if (err instanceof RemoteUnavailable || err instanceof PushRejected) return "remote";
  if (err instanceof WorkspaceError) return "workspace";
  return isStoreError(err) ? "store" : "other";
}

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

export interface BatchResult {
  repository: string;
  pushed: { id: string; commitSha: string }[];
  superseded: string[];
  blocked: string[];
  failed: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Release ids looked for in one `git log` (each a --grep of its own). */
const RELEASE_IDS_PER_GREP = 500;

// One lock per (remote, branch) for the whole process, shared by every Writer and BranchWriter
// that exists: a refactor that makes a writer per request must still write one batch at a time
// (Kargo shipped exactly that regression, kargo#5888). Across processes: see the README.
const branchLocks = new Map<string, Promise<void>>();

export async function withBranchLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = branchLocks.get(key) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const mine = new Promise<void>((r) => (release = r));
  const tail = previous.then(() => mine);
  branchLocks.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (branchLocks.get(key) === tail) branchLocks.delete(key);
  }
}
/** A person chose this build: a rollback, or a release forced with a reason. */
const isExplicit = (r: ReleaseRecord): boolean => r.trigger === "rollback" || r.force;

/** The lease of a branch is named after where it is written, not the repository's name. */
export const leaseKey = (repo: { url: string; branch: string }): string => `${repo.url}#${repo.branch}`;

const jitter = (ms: number) => Math.round(ms * (0.5 + Math.random()));

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
    for (const repository of repositories) this.notify(repository);
    this.timer = setInterval(() => {
      void this.deps.releases
        .pendingRepositories()
        .then((list) => list.forEach((p) => this.notify(p.repository)))
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
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private workspace: Workspace | null = null;
  private fetched = false;
  /**
   * Release ids found in the remote's history, with their commit; kept up to `scannedHead`.
   * Only releases not yet recorded as pushed are kept: those are the ones a batch may hold
   * again (after a crash between push and record, or a retry), and they are few, where all
   * the ids of a branch's history grow without bound.
   */
  private readonly inHistory = new Map<string, string>();
  private scannedHead: string | null = null;
  /** Since when every attempt failed, and why the last one did; null once one succeeds. */
  failing: { since: Date; cause: WriteFailureCause; error: string } | null = null;
  /** Workspace repairs tried since the last attempt counted (see WORKSPACE_RECOVERIES). */
  private recoveries = 0;
  /** Whether this process has looked in history for the releases a write may have reached before it started. */
  private reconciled = false;

  constructor(
    private readonly repo: ResolvedRepository,
    private readonly dir: string,
    private readonly deps: WriterDeps,
    private readonly options: WriterOptions,
  ) {}

  get url(): string {
    return this.repo.url;
  }
  get branch(): string {
    return this.repo.branch;
  }
  get busy(): boolean {
    return this.running !== null;
  }
  get rememberedReleases(): number {
    return this.inHistory.size;
  }

  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.deps.logger.error({ err, repository: this.repo.name }, "writer crashed; will resume on the next poll"))
      .finally(() => {
        this.running = null;
      });
  }

  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.settled();
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        if (this.stopping) return;
        if (!(await this.leased())) return;
        if (!this.reconciled) await withBranchLock(`${this.repo.url}\0${this.repo.branch}`, () => this.reconcile());
        // The queue is read under the lock too: what another writer just wrote is no longer due.
        const wrote = await withBranchLock(`${this.repo.url}\0${this.repo.branch}`, async () => {
          const batch = await this.deps.releases.due(this.repo.name, this.repo.branch, this.options.batchSize);
          if (batch.length === 0) return false;
          await this.writeBatch(batch);
          return true;
        });
        if (!wrote) break;
      }
    } while (this.again && !this.stopping);
  }

  /**
   * Start-up: releases in the remote's history are recorded pushed before anything is written,
   * whatever they are recorded as (failed after a crash, queued for a retry). Tried again on the
   * next drain when the remote cannot be read.
   */
  private async reconcile(): Promise<void> {
    const result: BatchResult = { repository: this.repo.name, pushed: [], superseded: [], blocked: [], failed: [] };
    try {
      const ws = await this.open();
      await this.scanHistory(ws, await ws.head(), result);
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

  private async writeBatch(batch: ReleaseRecord[]): Promise<void> {
    const log = this.deps.logger.child({ repository: this.repo.name, branch: this.repo.branch });
    const result: BatchResult = { repository: this.repo.name, pushed: [], superseded: [], blocked: [], failed: [] };
    const ids = batch.map((r) => r.id);
    try {
      const writable = await this.recheck(batch, result);
      // History wins: a release already written is pushed, whatever came after it.
      const unwritten = await this.alreadyWritten(writable, result);
      const live = await this.supersede(unwritten, result);
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
      this.failing = { since: this.failing?.since ?? (this.deps.now?.() ?? new Date()), cause, error: message };
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
    this.scannedHead = null;
    this.inHistory.clear();
    return true;
  }

  /** Releases that still qualify now, at write time; the others become `blocked` with the reason. */
  private async recheck(batch: ReleaseRecord[], result: BatchResult): Promise<{ release: ReleaseRecord; artifact: Artifact }[]> {
    const envs = this.deps.environments();
    const artifacts = await this.deps.artifacts.getMany(batch.map((r) => r.artifactId));
    // One read for the batch's holds (a hold is rare; a batch is hundreds of releases).
    const holds = await this.deps.releases.holdsOn(batch.filter((r) => !r.force).map((r) => ({ environment: r.environment, package: r.package })));
    const out: { release: ReleaseRecord; artifact: Artifact }[] = [];
    for (const release of batch) {
      const env = envs.environments.get(release.environment);
      const artifact = artifacts.get(release.artifactId);
      let reason: string | undefined;
      const broken = artifact ? ruleRefusal(artifact, this.deps.rules) : undefined;
      if (!env) reason = `environment ${release.environment} is no longer declared in ${envs.source}`;
      else if (env.repository !== this.repo.name) reason = `environment ${release.environment} now writes to repository ${env.repository}`;
      else if (!artifact) reason = `artifact ${release.artifactId} no longer exists`;
      else if (broken) reason = broken;
      else {
        const req = releaseRequirement(artifact, env);
        if (!req.ok) reason = req.reason;
        else if (!release.force) {
          // The same checks a policy decision makes, again at write time: a hold placed or a
          // freeze begun since the release was queued stops it.
          const hold = holds.get(environmentPackageKey(release));
          const frozen = activeFreeze(env.freezes, new Date(), release.package, release.artifactId);
          if (hold) reason = `${release.environment}/${release.package} is held: ${hold.reason}`;
          else if (frozen) reason = describeFreeze(release.environment, frozen);
        }
      }
      if (reason || !artifact) {
        await this.deps.releases.markBlocked(release.id, reason ?? "artifact missing");
        result.blocked.push(release.id);
      } else out.push({ release, artifact });
    }
    return out;
  }

  /**
   * Koji tags are declarative: of the releases of one package to one tag, only the one whose
   * build should end up there is written (see supersedingContender: the newest build by rpm's
   * order, or the latest a person chose), whether the others are in this batch, still queued,
   * or pushed meanwhile (a release held back by a failed attempt must not put an older build back).
   */
  private async supersede(items: { release: ReleaseRecord; artifact: Artifact }[], result: BatchResult): Promise<{ release: ReleaseRecord; artifact: Artifact }[]> {
    const envs = this.deps.environments();
    const tagged = items.filter(({ release }) => envs.environments.get(release.environment)?.kind === "KojiTag");
    if (tagged.length === 0) return items;
    const sinceSeq = Math.min(...tagged.map(({ release }) => release.seq));
    const rivals = await this.deps.releases.tagContenders(
      tagged.map(({ release }) => ({ environment: release.environment, package: release.package })),
      sinceSeq,
    );
    // The builds of rivals outside this batch: their artifacts are read only when there are any.
    const known = new Map(items.map(({ artifact }) => [artifact.id, artifact]));
    const missing = rivals.filter((r) => !known.has(r.artifactId)).map((r) => r.artifactId);
    if (missing.length > 0) for (const [id, a] of await this.deps.artifacts.getMany(missing)) known.set(id, a);
    const contender = (r: ReleaseRecord): TagContender => {
      const artifact = known.get(r.artifactId);
      return { id: r.id, seq: r.seq, nvr: artifact ? kojiTagNvr(artifact) : undefined, explicit: isExplicit(r), written: r.status === "pushed" };
    };
    const byPair = new Map<string, TagContender[]>();
    for (const r of rivals) {
      const key = environmentPackageKey(r);
      const list = byPair.get(key) ?? [];
      list.push(contender(r));
      byPair.set(key, list);
    }
    const superseded: { id: string; by: string }[] = [];
    const live = items.filter(({ release }) => {
      const others = byPair.get(environmentPackageKey(release));
      if (!others) return true;
      const by = supersedingContender(contender(release), others);
      if (by) {
        superseded.push({ id: release.id, by: by.id });
        return false;
      }
      return true;
    });
    if (superseded.length > 0) {
      await this.deps.releases.markSuperseded(superseded);
      result.superseded.push(...superseded.map((s) => s.id));
    }
    return live;
  }

  /** Marks releases whose commit is already in the remote's history pushed; returns the others. */
  private async alreadyWritten(items: { release: ReleaseRecord; artifact: Artifact }[], result: BatchResult): Promise<{ release: ReleaseRecord; artifact: Artifact }[]> {
    if (items.length === 0) return items;
    const ws = await this.open();
    await this.scanHistory(ws, await ws.head(), result);
    return this.withoutWritten(items, result);
  }

  /**
   * Leaves out of a batch what history already has: releases the scan just recorded pushed, and
   * those pushed by this writer whose record failed (recorded now).
   */
  private async withoutWritten<T extends { release: ReleaseRecord }>(items: T[], result: BatchResult): Promise<T[]> {
    const recorded = new Set(result.pushed.map((p) => p.id));
    const done = items.flatMap((p) => {
      const commitSha = recorded.has(p.release.id) ? undefined : this.inHistory.get(p.release.id);
      return commitSha ? [{ id: p.release.id, commitSha }] : [];
    });
    if (done.length > 0) await this.recordPushed(done, result);
    for (const d of done) recorded.add(d.id);
    return items.filter((p) => !recorded.has(p.release.id));
  }

  /** Records releases whose commits are in the remote's history as pushed; they need no remembering after that. */
  private async recordPushed(items: { id: string; commitSha: string }[], result: BatchResult, how: "written" | "fromHistory" = "fromHistory"): Promise<void> {
    if (items.length === 0) return;
    if (how === "written") await this.deps.releases.markPushed(items);
    else await this.deps.releases.markPushedFromHistory(items);
    result.pushed.push(...items);
    for (const i of items) this.inHistory.delete(i.id);
  }

  /**
   * Records every release in history up to `head` that the store does not have as pushed, reading
   * only what is new: the commits since the last scan, or, first in a process (or after a rewrite),
   * since the store's watermark (a commit below which every release is recorded), so that a
   * restart costs what was written since, not the repository's whole history. Only without a
   * watermark in `head`'s history is all of it read.
   */
  private async scanHistory(ws: Workspace, head: string | null, result: BatchResult): Promise<void> {
    // Pushed by this writer, their record failed: recorded before anything else is, or the
    // watermark would pass over them.
    if (this.inHistory.size > 0) await this.recordPushed([...this.inHistory].map(([id, commitSha]) => ({ id, commitSha })), result);
    if (!head) {
      // No branch yet: nothing can be in its history.
      this.inHistory.clear();
      this.scannedHead = null;
      this.reconciled = true;
      return;
    }
    if (head === this.scannedHead) return;
    let from = this.scannedHead && (await ws.isAncestor(this.scannedHead, head)) ? this.scannedHead : null;
    if (!from) {
      this.inHistory.clear();
      const watermark = await this.deps.releases.pushedWatermark(this.repo.name, this.repo.branch);
      if (watermark && (await ws.isAncestor(watermark, head))) from = watermark;
    }
    const found = await ws.releaseIdsBetween(from, head);
    if (!this.reconciled && from) {
      // Releases a write reached before this process started (its record lost in a crash, failed
      // by attempts since, retried) may lie below the watermark: looked for by id, so the cost
      // is what is not recorded, not the history's length.
      const attempted = (await this.deps.releases.unrecordedReleases(this.repo.name, this.repo.branch)).filter((id) => !found.has(id));
      for (let i = 0; i < attempted.length; i += RELEASE_IDS_PER_GREP) {
        for (const [id, sha] of await ws.releaseIdsBetween(null, from ?? head, attempted.slice(i, i + RELEASE_IDS_PER_GREP))) found.set(id, sha);
      }
    }
    // Asked after the scan: a release in this history that is pushed by now stays pushed.
    const open = found.size > 0 ? await this.deps.releases.notPushed([...found.keys()]) : new Set<string>();
    const recorded = new Set(result.pushed.map((p) => p.id));
    const written = [...found].filter(([id]) => open.has(id) && !recorded.has(id)).map(([id, commitSha]) => ({ id, commitSha }));
    if (written.length > 0) {
      this.deps.logger.info({ repository: this.repo.name, releases: written.length }, "releases found in the remote's history recorded as pushed");
      await this.recordPushed(written, result);
    }
    this.reconciled = true;
    this.scannedHead = head;
  }

  private async writeAndPush(items: { release: ReleaseRecord; artifact: Artifact }[], result: BatchResult): Promise<void> {
    const envs = this.deps.environments();
    let pending = items;
    for (let attempt = 0; ; attempt++) {
      const ws = await this.open();
      const head = await ws.head();
      // Crash recovery and idempotency: what history already has is done, whatever the
      // release's record says. History is read once, then only the commits new since.
      await this.scanHistory(ws, head, result);
      pending = await this.withoutWritten(pending, result);
      if (pending.length === 0) return;

      const rendered: { release: ReleaseRecord; out: RenderedRelease }[] = [];
      for (const p of pending) {
        const env = envs.environments.get(p.release.environment);
        if (!env) continue;
        try {
          const out = renderRelease(
            { id: p.release.id, artifactId: p.artifact.id, environment: env.name, trigger: p.release.trigger, createdAt: p.release.createdAt, ...(p.release.forceReason ? { forceReason: p.release.forceReason } : {}) },
            p.artifact,
            env,
          );
          rendered.push({ release: p.release, out });
        } catch (err) {
          const reason = err instanceof UnsafePathError ? err.message : `cannot render: ${(err as Error).message}`;
          await this.deps.releases.markBlocked(p.release.id, reason);
          result.blocked.push(p.release.id);
        }
      }
      pending = pending.filter((p) => rendered.some((r) => r.release.id === p.release.id));

      // A document that already says the same (same spec, same artifact) makes no commit: the
      // release is recorded with the commit that has it. Only the release id would differ.
      const current: Map<string, string | undefined> = await ws.readFiles(head, rendered.map((r) => r.out.path));
      // One commit per release; bulk releases (mass rebuilds) queued next to each other with the
      // same trigger share one commit, whose message lists every release.
      interface Draft {
        files: Map<string, string>;
        message?: string;
        bulk?: BulkCommitInfo;
      }
      const drafts: Draft[] = [];
      // Per rendered release: its draft, null when the document already says it, undefined when refused.
      const commitIndex: (number | null | undefined)[] = [];
      const lastWriter = new Map<string, number>();
      const downgrades: { id: string; reason: string }[] = [];
      for (const r of rendered) {
        if (sameRequest(current.get(r.out.path), r.out.document)) {
          commitIndex.push(lastWriter.get(r.out.path) ?? null);
          continue;
        }
        // The document holds a newer build than this release would put there.
        const downgrade = isExplicit(r.release) ? undefined : downgradeReason(current.get(r.out.path), r.out.document);
        if (downgrade) {
          downgrades.push({ id: r.release.id, reason: downgrade });
          commitIndex.push(undefined);
          continue;
        }
        current.set(r.out.path, r.out.content);
        const open = drafts.at(-1);
        const entry = { releaseId: r.release.id, artifactId: r.release.artifactId, environment: r.release.environment, nvrs: r.out.nvrs };
        if (r.release.bulk && open?.bulk && open.bulk.trigger === r.release.trigger) {
          open.files.set(r.out.path, r.out.content);
          open.bulk.releases.push(entry);
        } else {
          drafts.push(
            r.release.bulk
              ? { files: new Map([[r.out.path, r.out.content]]), bulk: { trigger: r.release.trigger, releases: [entry] } }
              : { files: new Map([[r.out.path, r.out.content]]), message: r.out.commitMessage },
          );
        }
        lastWriter.set(r.out.path, drafts.length - 1);
        commitIndex.push(drafts.length - 1);
      }
      const commits: FileCommit[] = drafts.map((d) => ({
        files: [...d.files].map(([path, content]) => ({ path, content })),
        message: d.bulk ? renderBulkCommitMessage(d.bulk) : (d.message as string),
      }));
      const commitStarted = performance.now();
      const shas = await ws.commit(head, commits, this.repo.author);
      this.deps.instruments?.commitSeconds(this.repo.name, (performance.now() - commitStarted) / 1000);
      const tip = shas.at(-1) ?? head;
      const assigned = rendered.flatMap((r, i) => {
        const idx = commitIndex[i];
        if (idx === undefined) return [];
        return [{ id: r.release.id, commitSha: (idx === null ? head : shas[idx]) ?? tip ?? "" }];
      });
      // Refused on this head; a re-render after a rejected push decides again.
      for (const d of downgrades) {
        await this.deps.releases.markBlocked(d.id, d.reason);
        result.blocked.push(d.id);
      }
      pending = pending.filter((p) => !downgrades.some((d) => d.id === p.release.id));
      if (shas.length === 0) {
        await this.recordPushed(assigned, result, "written");
        return;
      }
      await this.deps.releases.markCommitted(assigned);
      const pushStarted = performance.now();
      try {
        await ws.push(tip as string);
      } catch (err) {
        this.deps.instruments?.pushSeconds(this.repo.name, (performance.now() - pushStarted) / 1000);
        if (!(err instanceof PushRejected) || attempt >= this.options.pushRetries) throw err;
        this.deps.instruments?.pushRetried(this.repo.name);
        this.deps.logger.info({ repository: this.repo.name, attempt }, "push rejected: the branch moved; re-rendering on the fresh head");
        await sleep(jitter(Math.min(2000, 25 * 2 ** attempt)));
        await ws.fetch();
        continue;
      }
      this.deps.instruments?.pushSeconds(this.repo.name, (performance.now() - pushStarted) / 1000);
      // These commits are history now; the next scan starts after them.
      // Remembered until recorded: should that fail, the next batch finds them here.
      for (const a of assigned) if (!this.inHistory.has(a.id)) this.inHistory.set(a.id, a.commitSha);
      this.scannedHead = tip as string;
      await this.recordPushed(assigned, result, "written");
      return;
    }
  }
}

