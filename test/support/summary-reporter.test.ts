import { describe, expect, it } from "vitest";
import type { TestCase } from "vitest/node";
import { countOutcomes, renderSummary } from "./summary-reporter.js";

type Outcome = Pick<TestCase, "options" | "result">;
const outcome = (state: "passed" | "failed" | "skipped", fails = false): Outcome =>
  ({ options: { fails }, result: () => ({ state }) }) as unknown as Outcome; // only the two fields countOutcomes reads

describe("the summary reporter", () => {
  it("counts an it.fails test that failed as written apart from the passed ones", () => {
    const counts = countOutcomes([outcome("passed"), outcome("passed", true), outcome("failed"), outcome("skipped")]);
    expect(counts).toEqual({ passed: 1, failed: 1, skipped: 1, expectedFailures: 1 });
    expect(renderSummary(counts)).toBe("tests: 1 passed, 1 failed, 1 skipped, 1 expected to fail (it.fails)");
  });

  it("counts an it.fails test that passed (the bug is gone) as failed, as vitest does", () => {
    // vitest turns an it.fails test that passes into a failure: the state already says so.
    expect(countOutcomes([outcome("failed", true)])).toEqual({ passed: 0, failed: 1, skipped: 0, expectedFailures: 0 });
  });

  it("keeps the plain line when no test is expected to fail", () => {
    expect(renderSummary({ passed: 3, failed: 0, skipped: 2, expectedFailures: 0 })).toBe("tests: 3 passed, 0 failed, 2 skipped");
  });
});
