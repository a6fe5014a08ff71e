// Step pushWithRetry: a rejected push is made again on the fresh head; anything else is thrown at once.
import { describe, expect, it } from "vitest";
import { pushWithRetry } from "../../../src/gitops/steps/pushWithRetry.js";
import { PushRejected } from "../../../src/gitops/workspace.js";

function recorder() {
  const log: string[] = [];
  return {
    log,
    options: (retries: number, delay = (n: number) => 10 * (n + 1)) => ({
      retries,
      delayMs: delay,
      rejected: (n: number) => void log.push(`rejected ${n}`),
      refresh: async () => void log.push("refresh"),
      wait: async (ms: number) => void log.push(`wait ${ms}`),
    }),
  };
}

describe("pushWithRetry", () => {
  it("returns the first attempt's result without waiting", async () => {
    const r = recorder();
    expect(await pushWithRetry(async (attempt) => `sha@${attempt}`, r.options(3))).toBe("sha@0");
    expect(r.log).toEqual([]);
  });

  it("after a rejection tells, waits, refreshes, then writes again with the next attempt number", async () => {
    const r = recorder();
    const out = await pushWithRetry(async (attempt) => {
      r.log.push(`write ${attempt}`);
      if (attempt < 2) throw new PushRejected("the branch moved");
      return "landed";
    }, r.options(5));
    expect(out).toBe("landed");
    expect(r.log).toEqual(["write 0", "rejected 0", "wait 10", "refresh", "write 1", "rejected 1", "wait 20", "refresh", "write 2"]);
  });

  it("throws the rejection that exceeds the retries", async () => {
    const r = recorder();
    let attempts = 0;
    const rejected = new PushRejected("still moving");
    await expect(
      pushWithRetry(async () => {
        attempts++;
        throw rejected;
      }, r.options(2)),
    ).rejects.toBe(rejected);
    expect(attempts).toBe(3);
  });

  it("throws any other failure at once, without retrying", async () => {
    const r = recorder();
    let attempts = 0;
    await expect(
      pushWithRetry(async () => {
        attempts++;
        throw new Error("remote unavailable");
      }, r.options(5)),
    ).rejects.toThrow("remote unavailable");
    expect({ attempts, log: r.log }).toEqual({ attempts: 1, log: [] });
  });

  it("does not wait when the delay is 0", async () => {
    const r = recorder();
    await pushWithRetry(async (attempt) => {
      if (attempt === 0) throw new PushRejected("moved");
    }, r.options(1, () => 0));
    expect(r.log).toEqual(["rejected 0", "refresh"]);
  });
});
