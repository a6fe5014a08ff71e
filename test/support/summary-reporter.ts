// Prints one plain closing line ("N passed, N failed, N skipped") that any CI log reader understands.
import type { Reporter, TestCase, TestModule } from "vitest/node";

export interface SummaryCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** `it.fails` tests that failed as written: a known bug still there, not a behaviour that works. */
  expectedFailures: number;
}

/** What the run's tests came to; vitest reports an `it.fails` that failed as passed, counted apart here. */
export function countOutcomes(tests: Iterable<Pick<TestCase, "options" | "result">>): SummaryCounts {
  const counts: SummaryCounts = { passed: 0, failed: 0, skipped: 0, expectedFailures: 0 };
  for (const t of tests) {
    const state = t.result().state;
    if (state === "passed" && t.options.fails) counts.expectedFailures++;
    else if (state === "passed") counts.passed++;
    else if (state === "failed") counts.failed++;
    else counts.skipped++;
  }
  return counts;
}

export function renderSummary(c: SummaryCounts): string {
  const expected = c.expectedFailures > 0 ? `, ${c.expectedFailures} expected to fail (it.fails)` : "";
  return `tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${expected}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = countOutcomes(testModules.flatMap((m) => [...m.children.allTests()]));
    process.stdout.write(`\n${renderSummary(counts)}\n`);
  }
}
