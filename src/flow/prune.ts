// Retention: deletes artifacts older than a cutoff that no release references, page by page;
// also the optional server schedule (RELENGD_PRUNE_SCHEDULE) that runs it once per slot.
import cron from "node-cron";
import type { Logger } from "pino";
import { describeScheduleRefusal, parseSchedule, previousSlot, type Schedule } from "../domain/schedule.js";
import type { PruneCandidate, PruneRepository, PrunedCounts } from "../store/pruneRepository.js";
import type { ScheduleRunRepository } from "../store/scheduleRunRepository.js";

export interface PruneDeps {
  store: Pick<PruneRepository, "unreferencedBefore" | "countDependents" | "deleteUnreferenced" | "countReferencedBefore">;
  now?: () => Date;
}

export interface PruneRequest {
  /** Artifacts created longer ago than this go (when no release references them). */
  olderThanSeconds: number;
  /** Count and list what would go; delete nothing. */
  dryRun: boolean;
  /** Told of each artifact found to go, in insertion order (a dry run's listing). */
  onArtifact?: (artifact: PruneCandidate) => void;
  /** Artifacts read (and deleted) per round; the store cuts it further for SQLite's bind limit. */
  pageSize?: number;
}

export interface PruneReport extends PrunedCounts {
  cutoff: Date;
  dryRun: boolean;
  /** Artifacts older than the cutoff that stay because a release references them. */
  referencedKept: number;
}

export async function pruneArtifacts(deps: PruneDeps, request: PruneRequest): Promise<PruneReport> {
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - request.olderThanSeconds * 1000);
  const pageSize = request.pageSize ?? 500;
  const report: PruneReport = { cutoff, dryRun: request.dryRun, artifacts: 0, builds: 0, results: 0, decisions: 0, referencedKept: 0 };
  // Keyset paging by seq: deleted rows cannot shift a page, and memory stays one page.
  let afterSeq = 0;
  for (;;) {
    const page = await deps.store.unreferencedBefore(cutoff, afterSeq, pageSize);
    const last = page.at(-1);
    if (!last) break;
    afterSeq = last.seq;
    if (request.onArtifact) for (const artifact of page) request.onArtifact(artifact);
    const ids = page.map((a) => a.id);
    const counts = request.dryRun ? { artifacts: ids.length, ...(await deps.store.countDependents(ids)) } : await deps.store.deleteUnreferenced(ids);
    report.artifacts += counts.artifacts;
    report.builds += counts.builds;
    report.results += counts.results;
    report.decisions += counts.decisions;
  }
  report.referencedKept = await deps.store.countReferencedBefore(cutoff);
  return report;
}

/** One line for logs and the CLI: what went (or would go) and what stayed. */
export function describePrune(report: PruneReport): string {
  const verb = report.dryRun ? "would delete" : "deleted";
  return (
    `${verb} ${report.artifacts} artifact(s) created before ${report.cutoff.toISOString()} ` +
    `(${report.builds} build(s), ${report.results} result(s), ${report.decisions} decision(s)); ` +
    `kept ${report.referencedKept} older artifact(s) that releases reference`
  );
}

export interface ReportPruneDeps {
  store: Pick<PruneRepository, "prunableReportsBefore" | "deleteReports">;
  now?: () => Date;
}

export interface ReportPruneResult {
  cutoff: Date;
  dryRun: boolean;
  /** Broken-dependency reports that went (or would go). */
  reports: number;
}

/**
 * Deletes broken-dependency reports older than the cutoff, as artifacts go, except those the
 * store keeps (the newest of each tree, the diff's and the mail's baselines, and any a release
 * still waits on).
 */
export async function pruneBrokenDepsReports(deps: ReportPruneDeps, request: { olderThanSeconds: number; dryRun: boolean; pageSize?: number }): Promise<ReportPruneResult> {
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - request.olderThanSeconds * 1000);
  const pageSize = request.pageSize ?? 500;
  let reports = 0;
  // Reports are a few a day per tree: a dry run counts them in one read.
  if (request.dryRun) return { cutoff, dryRun: true, reports: (await deps.store.prunableReportsBefore(cutoff, 1_000_000)).length };
  for (;;) {
    const page = await deps.store.prunableReportsBefore(cutoff, pageSize);
    if (page.length === 0) break;
    const deleted = await deps.store.deleteReports(page.map((r) => r.id));
    reports += deleted;
    // Nothing deleted: another process took them meanwhile; what is left is kept.
    if (deleted === 0) break;
  }
  return { cutoff, dryRun: false, reports };
}

export function describeReportPrune(result: ReportPruneResult): string {
  return `${result.dryRun ? "would delete" : "deleted"} ${result.reports} broken-dependency report(s) generated before ${result.cutoff.toISOString()}`;
}

/** The name prune runs are claimed under in the schedule-run table; no policy can have it (policy names have no colon). */
export const PRUNE_RUN_NAME = "relengd:prune";

/** A running timer that calls its tick on a schedule. */
export interface ScheduleTimer {
  stop(): Promise<void> | void;
}

/** Starts a timer calling `tick` when `schedule` fires. */
export type StartScheduleTimer = (schedule: Schedule, name: string, tick: () => void) => ScheduleTimer;

/** node-cron fires the schedule (in its time zone), as it fires scheduled policies. */
export const cronTimer: StartScheduleTimer = (schedule, name, tick) =>
  cron.schedule(schedule.expression, tick, { timezone: schedule.timezone, name });

export interface PruneScheduleDeps extends PruneDeps {
  /** Broken-dependency reports go on the same schedule and cutoff (absent: only artifacts). */
  reports?: ReportPruneDeps["store"];
  runs: Pick<ScheduleRunRepository, "claim" | "finish">;
  logger: Logger;
  /** What fires the ticks; node-cron unless a test needs them faster than once a minute. */
  startTimer?: StartScheduleTimer;
}

/**
 * Runs pruneArtifacts on `schedule` (five-field cron, UTC, as config.ts checked it with domain/schedule). Each slot runs once across replicas:
 * the slot is claimed in the schedule-run table first, as scheduled policies are.
 */
export function startPruneSchedule(deps: PruneScheduleDeps, options: { schedule: string; olderThanSeconds: number }): { stop(): Promise<void> } {
  const parsed = parseSchedule(options.schedule, "UTC");
  if (!parsed.ok) throw new Error(`the prune schedule ${JSON.stringify(options.schedule)} is refused: ${describeScheduleRefusal(parsed)}`);
  const schedule = parsed.value;
  let running: Promise<void> | undefined;
  const runSlot = async (slot: Date) => {
    if (!(await deps.runs.claim(PRUNE_RUN_NAME, slot))) return;
    let summary: string;
    try {
      summary = describePrune(await pruneArtifacts(deps, { olderThanSeconds: options.olderThanSeconds, dryRun: false }));
      if (deps.reports) summary += `; ${describeReportPrune(await pruneBrokenDepsReports({ store: deps.reports, ...(deps.now ? { now: deps.now } : {}) }, { olderThanSeconds: options.olderThanSeconds, dryRun: false }))}`;
      deps.logger.info({ slot: slot.toISOString(), summary }, "scheduled prune ran");
    } catch (err) {
      summary = `error: ${(err as Error).message}`;
      deps.logger.error({ err, slot: slot.toISOString() }, "scheduled prune failed");
    }
    await deps.runs.finish(PRUNE_RUN_NAME, slot, summary);
  };
  const task = (deps.startTimer ?? cronTimer)(schedule, PRUNE_RUN_NAME, () => {
    // The slot is the schedule's own last firing, whatever the tick's jitter or the timer's pace.
    const slot = previousSlot(schedule, deps.now?.() ?? new Date());
    // A run still going when the next tick comes is not doubled up.
    if (!slot || running) return;
    running = runSlot(slot)
      .catch((err: unknown) => deps.logger.error({ err }, "scheduled prune could not be claimed"))
      .finally(() => (running = undefined));
  });
  return {
    async stop() {
      await task.stop();
      await running;
    },
  };
}
