import pino from "pino";
import { describe, expect, it } from "vitest";
import { PRUNE_RUN_NAME, startPruneSchedule, type PruneScheduleDeps } from "../../src/flow/prune.js";
import type { Schedule } from "../../src/domain/schedule.js";

const logger = pino({ level: "silent" });

/** A prune schedule over an empty store, its timer ticked by hand at chosen instants. */
function harness(schedule: string) {
  let now = new Date("2026-03-04T05:06:07.890Z");
  let tick: (() => void) | undefined;
  const timers: { schedule: Schedule; name: string; stopped: boolean }[] = [];
  const claims: string[] = [];
  const finished: string[] = [];
  const deps: PruneScheduleDeps = {
    store: {
      unreferencedBefore: () => Promise.resolve([]),
      countDependents: () => Promise.resolve({ builds: 0, results: 0, decisions: 0 }),
      deleteUnreferenced: () => Promise.resolve({ artifacts: 0, builds: 0, results: 0, decisions: 0 }),
      countReferencedBefore: () => Promise.resolve(0),
    },
    runs: {
      claim: (name, slot) => {
        const key = `${name}@${slot.toISOString()}`;
        if (claims.includes(key)) return Promise.resolve(false);
        claims.push(key);
        return Promise.resolve(true);
      },
      finish: (name, slot) => {
        finished.push(`${name}@${slot.toISOString()}`);
        return Promise.resolve();
      },
    },
    logger,
    now: () => now,
    startTimer: (parsed, name, onTick) => {
      const timer = { schedule: parsed, name, stopped: false };
      timers.push(timer);
      tick = onTick;
      return { stop: () => void (timer.stopped = true) };
    },
  };
  const running = startPruneSchedule(deps, { schedule, olderThanSeconds: 86_400 });
  return {
    running,
    timers,
    claims,
    finished,
    /** Ticks at `at` and waits for the run it starts, if any. */
    async tickAt(at: string) {
      now = new Date(at);
      tick?.();
      await new Promise((r) => setTimeout(r, 10));
    },
  };
}

describe("startPruneSchedule", () => {
  it("hands the timer the parsed schedule, in UTC, under the prune's run name", async () => {
    const h = harness("0 3 * * *");
    expect(h.timers).toHaveLength(1);
    expect(h.timers[0]?.schedule.expression).toBe("0 3 * * *");
    expect(h.timers[0]?.schedule.timezone).toBe("UTC");
    expect(h.timers[0]?.name).toBe(PRUNE_RUN_NAME);
    await h.running.stop();
    expect(h.timers[0]?.stopped).toBe(true);
  });

  it("runs each tick for the schedule's last slot, so a late tick still claims its own slot", async () => {
    const h = harness("0 3 * * *");
    await h.tickAt("2026-03-04T03:00:00.400Z");
    await h.tickAt("2026-03-04T03:07:12.000Z");
    await h.tickAt("2026-03-05T03:00:59.000Z");
    expect(h.claims).toEqual([`${PRUNE_RUN_NAME}@2026-03-04T03:00:00.000Z`, `${PRUNE_RUN_NAME}@2026-03-05T03:00:00.000Z`]);
    expect(h.finished).toEqual(h.claims);
    await h.running.stop();
  });

  it("refuses a schedule the slot code would read otherwise than node-cron", () => {
    expect(() => harness("* * * * * *")).toThrow(/seconds field/);
    expect(() => harness("0 3 1 * 1")).toThrow(/day-of-week/);
  });
});
