// The suite's own clock settings: every run is in a zone far from UTC (vitest.config.ts), so
// code that reads local time where relengd means UTC fails on every machine, not only on some.
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { TEST_TIME_ZONE } from "../vitest.config.js";

it("runs in a time zone other than UTC, in this process and in the processes it starts", () => {
  expect(TEST_TIME_ZONE).not.toMatch(/^(UTC|Etc\/UTC|GMT)$/);
  expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe(TEST_TIME_ZONE);
  expect(new Date("2026-11-25T05:00:00Z").getTimezoneOffset()).not.toBe(0);
  expect(execFileSync(process.execPath, ["-e", "process.stdout.write(Intl.DateTimeFormat().resolvedOptions().timeZone)"], { encoding: "utf8" })).toBe(TEST_TIME_ZONE);
});
