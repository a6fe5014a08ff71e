// The observed dist-git branches (stored by the bus ingest, on any replica) kept in memory for the
// approval facts, which are read synchronously: reloaded when this replica observes one, and on a
// timer for what other replicas stored (a cheap marker query decides whether to reload).
import type { Logger } from "pino";
import { distgitBranchesOf, withObservedBranches, type DistgitBranches } from "../domain/observedFacts.js";
import type { Facts } from "../domain/requests/facts.js";
import type { ObservedRepository } from "../store/observedRepository.js";

export class ObservedFacts {
  private branches: DistgitBranches = new Map();
  private marker: string | undefined;
  private version = 0;
  private memo: { facts: Facts; version: number; merged: Facts } | undefined;
  private running: Promise<boolean> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly observed: ObservedRepository,
    private readonly options: { pollMs?: number; logger?: Logger } = {},
  ) {}

  /** The facts with the observed branches merged in (the same object back while nothing changed). */
  apply(facts: Facts): Facts {
    if (this.memo && this.memo.facts === facts && this.memo.version === this.version) return this.memo.merged;
    const merged = withObservedBranches(facts, this.branches);
    this.memo = { facts, version: this.version, merged };
    return merged;
  }

  /** Told after a reload that changed what is observed (waiting requests are judged again). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reloads when the store changed; resolves to whether it did. A call during a reload runs one more after it. */
  refresh(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      let changed = false;
      do {
        this.again = false;
        changed = (await this.load()) || changed;
      } while (this.again);
      return changed;
    })().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.options.pollMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async load(): Promise<boolean> {
    try {
      const marker = await this.observed.marker();
      if (marker === this.marker) return false;
      const [repos, branches] = await Promise.all([this.observed.repos(), this.observed.branches()]);
      this.branches = distgitBranchesOf([...repos, ...branches]);
      this.marker = marker;
      this.version++;
      for (const l of this.listeners) l();
      return true;
    } catch (err) {
      // The last snapshot stays; the next refresh tries again.
      this.options.logger?.warn({ err }, "observed dist-git branches could not be read; the last ones read stay in the facts");
      return false;
    }
  }
}
