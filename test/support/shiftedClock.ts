// Setup of the shifted-clock run (vitest.shifted-clock.config.ts): refuses to run the suites on
// the real clock, so a run that silently lost its libfaketime preload cannot pass for one that had it.
import { execFileSync } from "node:child_process";

const DAY_MS = 86_400_000;
const realNow = Number(process.env.RELENGD_TEST_REAL_NOW);
if (!Number.isFinite(realNow) || realNow <= 0) {
  throw new Error("the shifted-clock run needs RELENGD_TEST_REAL_NOW (the real time in ms); run it with scripts/test-shifted-clock.sh");
}
const shift = (now: number) => Math.round((now - realNow) / DAY_MS);
const ownShift = shift(Date.now());
// A child process (relengd serve, the CLI, git) must see the same clock as the tests.
const childShift = shift(Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(Date.now()))"], { encoding: "utf8" })));
if (ownShift < 360 || childShift < 360) {
  throw new Error(`the clock is shifted by ${ownShift} days here and ${childShift} days in a child process, not a year: is libfaketime preloaded?`);
}
