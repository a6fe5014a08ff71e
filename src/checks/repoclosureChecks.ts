// The server's repoclosure checks: one run per repo set at a time (a second caller waits for the
// first one's result), a result reused while fresh, and every running dnf stopped on shutdown.
import type { Logger } from "pino";
import { repoSetKey } from "../domain/repoclosure.js";
import { checkRepoclosure, RepoclosureCancelled, type CheckRepoclosureDeps, type RepoclosureCheckInput } from "../flow/checkRepoclosure.js";
import type { BrokenDepsReportRecord, BrokenDepsReportRepository } from "../store/brokenDepsReportRepository.js";
import { pruneWorkFolders, runRepoclosure, type RepoclosureRunnerOptions } from "./repoclosure.js";

export interface RepoclosureChecksDeps {
  reports: Pick<BrokenDepsReportRepository, "save" | "latestByKey">;
  tagHistory: CheckRepoclosureDeps["tagHistory"];
  runner: RepoclosureRunnerOptions;
  /** A stored result this young is reused instead of running dnf again; 0: always run. */
  maxAgeMs: number;
  /** dnf's work folders of repo sets not checked for this long are removed after a run; absent: kept. */
  keepWorkMs?: number;
  logger: Logger;
  now?: () => Date;
}

export class RepoclosureChecks {
  private readonly running = new Map<string, Promise<BrokenDepsReportRecord>>();
  private readonly listeners: ((origin: string, status: BrokenDepsReportRecord["status"] | "cancelled", seconds: number) => void)[] = [];
  private readonly abort = new AbortController();

  constructor(private readonly deps: RepoclosureChecksDeps) {}

  /**
   * The result over `input.target`: a fresh stored one, the one being computed, or a new run.
   * `fresh`: only a run that started at or after this call counts (a retry asks for a new look):
   * a run already under way is waited for, then a new one starts. Rejects with
   * RepoclosureCancelled on shutdown.
   */
  async check(input: RepoclosureCheckInput, options: { fresh?: boolean } = {}): Promise<BrokenDepsReportRecord> {
    const key = repoSetKey(input.target);
    const now = this.deps.now ?? (() => new Date());
    const asked = now();
    for (;;) {
      if (this.abort.signal.aborted) throw new RepoclosureCancelled("relengd is shutting down");
      const inFlight = this.running.get(key);
      if (inFlight) {
        const result = await inFlight.catch(() => undefined);
        if (result && (!options.fresh || result.generatedAt >= asked)) return result;
        continue;
      }
      if (!options.fresh && this.deps.maxAgeMs > 0) {
        const stored = await this.deps.reports.latestByKey(key, new Date(now().getTime() - this.deps.maxAgeMs));
        if (stored) return stored;
      }
      // The map may have gained a run while the store was read.
      if (this.running.has(key)) continue;
      const run = this.start(key, input);
      return run;
    }
  }

  private start(key: string, input: RepoclosureCheckInput): Promise<BrokenDepsReportRecord> {
    const started = performance.now();
    const run = checkRepoclosure(
      {
        reports: this.deps.reports,
        tagHistory: this.deps.tagHistory,
        run: (target, signal) => runRepoclosure(target, this.deps.runner, signal),
        ...(this.deps.now ? { now: this.deps.now } : {}),
      },
      input,
      this.abort.signal,
    ).finally(() => {
      this.running.delete(key);
      this.pruneWork();
    });
    this.running.set(key, run);
    const tell = (status: BrokenDepsReportRecord["status"] | "cancelled") => {
      for (const l of this.listeners) l(input.origin, status, (performance.now() - started) / 1000);
    };
    run.then(
      (r) => {
        tell(r.status);
        this.deps.logger.info({ tree: input.tree, origin: input.origin, report: r.id, status: r.status, packages: r.packages, ms: Math.round(performance.now() - started) }, "repoclosure checked");
      },
      (err: unknown) => {
        if (err instanceof RepoclosureCancelled) tell("cancelled");
        this.deps.logger.warn({ err, tree: input.tree, origin: input.origin }, "repoclosure check did not finish");
      },
    );
    return run;
  }

  private pruning: Promise<void> | undefined;

  /** After a run: the work folders of repo sets long unchecked go (one pruning at a time). */
  private pruneWork(): void {
    const keep = this.deps.keepWorkMs;
    if (keep === undefined || this.pruning) return;
    this.pruning = pruneWorkFolders(this.deps.runner.workDir, keep, new Set(this.running.keys()))
      .then(
        (removed) => {
          if (removed.length > 0) this.deps.logger.info({ removed }, "removed the repoclosure work folders of repo sets not checked lately");
        },
        (err: unknown) => this.deps.logger.warn({ err }, "cannot prune the repoclosure work folders"),
      )
      .finally(() => {
        this.pruning = undefined;
      });
  }

  /** Tells `listener` of every run that ends: its origin, result (or `cancelled`) and time (metrics). */
  onChecked(listener: (origin: string, status: BrokenDepsReportRecord["status"] | "cancelled", seconds: number) => void): void {
    this.listeners.push(listener);
  }

  /** Repo sets being checked now. */
  inFlight(): number {
    return this.running.size;
  }

  /** Kills every running dnf and waits for the runs to end; later calls reject. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
    await this.pruning;
  }
}
