import { defineConfig } from "vitest/config";

/**
 * Every run, local and CI, sees a zone far from UTC with daylight saving time (UTC+13 in the
 * southern summer, +12 in winter): code or a test that reads local time instead of UTC fails
 * here on everyone's machine, not only on a colleague's in another zone. One zone for all runs
 * rather than a second run under UTC: relengd's contract is UTC everywhere, so a run in UTC
 * adds nothing this one does not check. Child processes (relengd serve, the CLI, git, Chromium)
 * inherit it from the test process's environment.
 */
export const TEST_TIME_ZONE = "Pacific/Auckland";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    globalSetup: ["test/global-setup.ts"],
    env: { TZ: TEST_TIME_ZONE },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers than that only adds contention on SQLite files and git.
    maxWorkers: 2,
  },
});
