// The date-sensitive suites once more, with the wall clock a year ahead (scripts/test-shifted-clock.sh
// runs this under libfaketime, so the test process, relengd serve, the CLI and git all see it).
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * Suites whose code under test compares the wall clock with a date: schedule slots and compose
 * labels, freezes, waiting periods, token and OIDC expiry, retention cut-offs, the overview's
 * last day, release times as the CLI prints them. Add a suite here when it does. The Chromium
 * suite is not here: Chromium does not start under libfaketime's preload, and what the
 * dashboard computes from dates is checked through its API in dashboardApi.test.ts.
 */
export const DATE_SENSITIVE_SUITES = [
  "test/policy/schedule.test.ts",
  "test/policy/autoRelease.test.ts",
  "test/domain/policy.test.ts",
  "test/domain/documents.test.ts",
  "test/cli/policy.test.ts",
  "test/cli/release.test.ts",
  "test/store/prune.test.ts",
  "test/cli/prune.test.ts",
  "test/auth/tokens.test.ts",
  "test/auth/oidc.test.ts",
  "test/api/auth.test.ts",
  "test/bus/publisher.test.ts",
  "test/flow/ingestBusMessage.test.ts",
  "test/web/dashboardApi.test.ts",
  // Service levels' end-of-life dates are compared with today (slaValid).
  "test/domain/requests/approval.test.ts",
  "test/flow/requests.test.ts",
  // Issue 17: agreement counts since a time or a duration, meetings ordered by sent-at, and the
  // shadow writer's search for a change's own commit, which stops at commits older than the change.
  "test/bus/scmTickets.test.ts",
  "test/api/shadowAgreement.test.ts",
  "test/cli/requestAgreement.test.ts",
  "test/bus/observedTopics.test.ts",
  "test/bus/shadow.test.ts",
  "test/flow/requestKinds17.test.ts",
  "test/domain/requests/kinds17.test.ts",
  // Issue 18: report ages, prune cutoffs, the gate's freshness window and the report's dates.
  "test/api/reports.test.ts",
  "test/flow/produceBrokenDepsReport.test.ts",
  "test/checks/repoclosureChecks.test.ts",
  "test/checks/repoclosureGate.test.ts",
];

// Spread, not mergeConfig: that would add these suites to the base's include instead of replacing it.
export default defineConfig({
  ...base,
  test: { ...base.test, include: DATE_SENSITIVE_SUITES, setupFiles: ["test/support/shiftedClock.ts"] },
});
