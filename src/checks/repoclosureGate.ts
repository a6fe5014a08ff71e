// The repoclosure gate: releases stored `checking` are checked here, apart from the writer (one
// writer serves every environment of a repository, and a dnf run of minutes must not stall its
// releases and merges), then queued for the writer or blocked. One replica runs it (a lease).
import type { Logger } from "pino";
import { Drain, mapConcurrent } from "../concurrency/index.js";
import type { EnvironmentSet } from "../domain/environmentSet.js";
import { RepoclosureCancelled, type RepoclosureCheckInput } from "../flow/checkRepoclosure.js";
import { gateGroup, gateGroups, type GateResult } from "../flow/gateRelease.js";
import type { BranchLease } from "../store/branchLease.js";
import type { BrokenDepsReportRecord } from "../store/brokenDepsReportRepository.js";
import type { ReleaseRepository } from "../store/releaseRepository.js";

export interface RepoclosureGateDeps {
  releases: Pick<ReleaseRepository, "checking" | "judgeChecked">;
  /** RepoclosureChecks (shared with the scheduled reports): their stop() kills dnf on shutdown. */
  checks: { check(input: RepoclosureCheckInput, options: { fresh?: boolean }): Promise<BrokenDepsReportRecord> };
  environments: () => EnvironmentSet;
  /** Replicas sharing PostgreSQL: only the holder of `repoclosure-gate` checks. */
  lease: BranchLease;
  /** Wakes the writer of a repository. */
  notify: (repository: string) => void;
  /** Told the releases the gate blocked (bus announcements). */
  blocked?: (ids: string[]) => void;
  /** Told each group's verdict (tests, metrics). */
  onGated?: (result: GateResult) => void;
  publicUrl?: string | undefined;
  logger: Logger;
}

export interface RepoclosureGateOptions {
  /** How often checking releases of other replicas (or of a lost lease) are looked for. */
  pollMs: number;
  /** Checking releases taken per pass, oldest first. */
  batchSize: number;
  /** Repo sets checked at once. */
  concurrency: number;
}

export const GATE_LEASE_KEY = "repoclosure-gate";

export class RepoclosureGate {
  private readonly options: RepoclosureGateOptions;
  private readonly drain: Drain;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RepoclosureGateDeps,
    options: Partial<RepoclosureGateOptions> = {},
  ) {
    this.options = { pollMs: 5000, batchSize: 200, concurrency: 4, ...options };
    this.drain = new Drain(() => this.pass(), { onError: (err) => deps.logger.error({ err }, "repoclosure gate pass failed; the next poll tries again") });
  }

  /** Checks what a previous run left `checking` (a restart mid-check loses nothing), then follows wakes and polls. */
  start(): void {
    this.timer = setInterval(() => this.drain.wake(), this.options.pollMs);
    this.timer.unref();
    this.drain.wake();
  }

  /** A release was stored `checking`, or retried. */
  notify(): void {
    this.drain.wake();
  }

  /** Resolves when no pass runs. */
  settled(): Promise<void> {
    return this.drain.settled();
  }

  /**
   * No pass starts from now on; a check under way is let go (its releases stay `checking` for the
   * next start). The dnf it runs is killed by RepoclosureChecks.stop().
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.drain.stop();
  }

  private async pass(): Promise<boolean> {
    if (!(await this.deps.lease.hold(GATE_LEASE_KEY))) return false;
    for (;;) {
      if (this.drain.stopped) return false;
      const checking = await this.deps.releases.checking(this.options.batchSize);
      if (checking.length === 0) return true;
      const groups = gateGroups(checking);
      const settled = await mapConcurrent(groups, this.options.concurrency, (group) => this.cancellable(gateGroup({ ...this.deps, check: (i, o) => this.deps.checks.check(i, o) }, group)));
      let progressed = false;
      for (const [i, s] of settled.entries()) {
        if (s.status === "fulfilled") {
          progressed ||= s.value.queued.length + s.value.blocked.length + s.value.unchanged.length > 0;
          this.deps.onGated?.(s.value);
        } else if (s.reason instanceof RepoclosureCancelled) {
          return false;
        } else {
          this.deps.logger.error({ err: s.reason, releases: groups[i]?.releases.map((r) => r.id) }, "repoclosure gate could not check; the releases stay checking until the next poll");
        }
      }
      // Every group failed (the store, say): the poll tries again rather than this loop spinning.
      if (!progressed) return true;
    }
  }

  private cancellable<T>(work: Promise<T>): Promise<T> {
    if (this.abort.signal.aborted) return Promise.reject(new RepoclosureCancelled("relengd is shutting down"));
    return new Promise<T>((resolve, reject) => {
      const cancelled = () => reject(new RepoclosureCancelled("relengd is shutting down"));
      this.abort.signal.addEventListener("abort", cancelled, { once: true });
      work.then(resolve, reject).finally(() => this.abort.signal.removeEventListener("abort", cancelled));
    });
  }
}
