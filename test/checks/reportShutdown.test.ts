// A report policy's run that a shutdown cuts short (its dnf killed) is not recorded as run: the
// next start runs its slot, as one missed while down. Wired as the server wires it.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoclosureChecks } from "../../src/checks/repoclosureChecks.js";
import { dryRunMailer } from "../../src/mail/mailer.js";
import { BrokenDepsReportRepository } from "../../src/store/brokenDepsReportRepository.js";
import { ScheduleRunRepository } from "../../src/store/scheduleRunRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";

describe("a report policy's run cut short by shutdown", () => {
  let t: TestApp;
  let dir: string;
  let checks: RepoclosureChecks | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-report-shutdown-"));
    const policiesDir = path.join(dir, "policies");
    mkdirSync(policiesDir);
    writeFileSync(path.join(policiesDir, "environments.yaml"), "apiVersion: relengd/v1\nkind: Environments\nrepositories:\n  - name: gitops\nenvironments: []\n");
    writeFileSync(
      path.join(policiesDir, "report.yaml"),
      "apiVersion: relengd/v1\nkind: Policy\nmetadata:\n  name: nightly-report\nspec:\n  on: [schedule]\n  schedule:\n    cron: \"0 4 * * *\"\n  report:\n    tree: rawhide\n    arches: [x86_64]\n    repos:\n      - id: main\n        url: file:///nonexistent/repo\n",
    );
    // A dnf that never ends: the run is under way when the shutdown comes.
    const dnf = path.join(dir, "slow-dnf");
    writeFileSync(dnf, "#!/bin/sh\nsleep 600\n");
    chmodSync(dnf, 0o755);
    const made: { checks?: RepoclosureChecks } = {};
    const lateChecks = {
      check: (...args: Parameters<RepoclosureChecks["check"]>) => (made.checks as RepoclosureChecks).check(...args),
      stop: () => made.checks?.stop() ?? Promise.resolve(),
    };
    t = await startTestApp("sqlite", { policiesDir, repoclosure: { checks: lateChecks }, reports: { mailer: dryRunMailer(path.join(dir, "mail")), mail: { from: "relengd@localhost", ownerAddressTemplate: "{package}-owner@fedoraproject.org" } } });
    checks = new RepoclosureChecks({
      reports: new BrokenDepsReportRepository(t.database.db),
      tagHistory: () => Promise.resolve([]),
      runner: { dnf, workDir: path.join(dir, "work"), timeoutMs: 600_000, memoryBytes: 4 * 1024 ** 3 },
      maxAgeMs: 0,
      logger: pino({ level: "silent" }),
    });
    made.checks = checks;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives its slot up, stores no report, and leaves the slot to the next start", async () => {
    const policy = t.policies.get().reportPolicies?.find((p) => p.metadata.name === "nightly-report");
    expect(policy).toBeDefined();
    if (!policy || !checks) return;
    const slot = new Date("2031-05-06T04:00:00Z");
    const running = t.application.scheduler.runSlot(policy, slot);
    await new Promise((r) => setTimeout(r, 300));
    await checks.stop();
    expect(await running).toBe("ran");
    expect(await new ScheduleRunRepository(t.database.db).last("nightly-report")).toBeNull();
    expect((await new BrokenDepsReportRepository(t.database.db).list({ limit: 10 })).items).toEqual([]);
  }, 60_000);
});
