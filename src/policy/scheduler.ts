// Runs scheduled policies with node-cron: each slot once (claimed in the store), and a slot
// missed while the server was down once at start-up.
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { isReportPolicy, policySchedule, type AnyPolicy } from "../domain/policy.js";
import { previousSlot } from "../domain/schedule.js";
import type { ScheduleRunRepository } from "../store/scheduleRunRepository.js";
import type { PolicySet } from "./loader.js";

/**
 * A run that could not finish for a reason of the process, not of the slot (a shutdown killed its
 * dnf): the slot is given up rather than recorded, so the next start runs it as a missed one.
 */
export class SlotAbandoned extends Error {}

export interface SchedulerDeps {
  policies: () => PolicySet;
  runs: ScheduleRunRepository;
  /** Does the work of one run; its result is kept with the run. */
  run: (policy: AnyPolicy, slot: Date) => Promise<string>;
  logger: Logger;
  now?: () => Date;
}

export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(private readonly deps: SchedulerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private scheduled(): AnyPolicy[] {
    const set = this.deps.policies();
    return [...set.policies, ...(set.reportPolicies ?? [])].filter((p) => p.spec.on.includes("schedule") && p.spec.schedule);
  }

  /** Catches up missed slots, then ticks every schedule policy of the current set. */
  async start(): Promise<void> {
    await this.catchUp();
    this.arm();
  }

  /** After a policy reload: the schedules may have changed. */
  rearm(): void {
    this.disarm();
    this.arm();
  }

  private arm(): void {
    for (const policy of this.scheduled()) {
      const schedule = policySchedule(policy);
      if (!schedule) continue;
      const task = cron.schedule(
        schedule.expression,
        () => {
          // The slot is the minute the expression names, whatever the tick's jitter.
          const slot = previousSlot(schedule, this.now());
          if (slot) this.track(this.runSlot(policy, slot));
        },
        { timezone: schedule.timezone, name: `relengd-${policy.metadata.name}` },
      );
      this.tasks.push(task);
    }
  }

  private disarm(): void {
    for (const t of this.tasks) void t.stop();
    this.tasks = [];
  }

  /**
   * For each schedule policy that has run before: if its latest slot is later than its last run,
   * the server was down then; run that slot once now. A policy that never ran has missed nothing.
   */
  async catchUp(): Promise<void> {
    for (const policy of this.scheduled()) {
      const schedule = policySchedule(policy);
      const slot = schedule && previousSlot(schedule, this.now());
      if (!slot) continue;
      const last = await this.deps.runs.last(policy.metadata.name);
      if (last && last.slot.getTime() < slot.getTime()) {
        this.deps.logger.info({ policy: policy.metadata.name, slot: slot.toISOString(), lastRun: last.slot.toISOString() }, "running a scheduled slot missed while down");
        // A report runs dnf for minutes: start-up does not wait for it (stop() does).
        if (isReportPolicy(policy)) this.track(this.runSlot(policy, slot));
        else await this.runSlot(policy, slot);
      }
    }
  }

  /** Runs `policy` for `slot` unless that slot already ran (here or on another replica). */
  async runSlot(policy: AnyPolicy, slot: Date): Promise<"ran" | "already-ran"> {
    const name = policy.metadata.name;
    if (!(await this.deps.runs.claim(name, slot))) return "already-ran";
    let summary: string;
    try {
      summary = await this.deps.run(policy, slot);
      this.deps.logger.info({ policy: name, slot: slot.toISOString(), summary }, "scheduled policy ran");
    } catch (err) {
      if (err instanceof SlotAbandoned) {
        await this.deps.runs.abandon(name, slot);
        this.deps.logger.warn({ policy: name, slot: slot.toISOString(), reason: err.message }, "scheduled policy's run given up; the next start runs its slot");
        return "ran";
      }
      summary = `error: ${(err as Error).message}`;
      this.deps.logger.error({ err, policy: name, slot: slot.toISOString() }, "scheduled policy failed");
    }
    await this.deps.runs.finish(name, slot, summary);
    return "ran";
  }

  private track(p: Promise<unknown>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  async stop(): Promise<void> {
    this.disarm();
    await Promise.allSettled([...this.running]);
  }
}
