// The scheduled broken-dependency report over real dnf, real RPM repos, a real store and a real
// SMTP server on the loopback: the report kept, mail in spam-o-matic form, never the same news
// twice, a mail that could not go told with the next report, and a dry run's .eml files.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoclosureChecks } from "../../src/checks/repoclosureChecks.js";
import type { KojiTagChange } from "../../src/domain/busMapping.js";
import { DEFAULT_OWNER_ADDRESS } from "../../src/domain/owners.js";
import { reportPolicySchema, type ReportPolicy } from "../../src/domain/policy.js";
import { produceBrokenDepsReport, type ProduceBrokenDepsReportDeps } from "../../src/flow/produceBrokenDepsReport.js";
import { runScheduledPolicy } from "../../src/flow/runSchedule.js";
import { dryRunMailer, smtpMailer } from "../../src/mail/mailer.js";
import { BrokenDepsReportRepository } from "../../src/store/brokenDepsReportRepository.js";
import { KojiTagRepository } from "../../src/store/kojiTagRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { designedRepos, haveRpmTools, makeRepo } from "../support/rpmRepo.js";
import { parseMail, startSmtpSink, type SmtpSink } from "../support/smtpSink.js";

const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;

function reportPolicy(name: string, repos: { id: string; url: string }[], lookaside: { id: string; url: string }[] = []): ReportPolicy {
  return reportPolicySchema.parse({
    apiVersion: "relengd/v1",
    kind: "Policy",
    metadata: { name },
    spec: { on: ["schedule"], schedule: { cron: "0 4 * * *" }, report: { tree: name, arches: ["x86_64", "aarch64"], repos, lookaside, kojiTag: "f45-build" } },
  });
}

maybe.each(testProviders)("the scheduled broken-dependency report on %s", (provider) => {
  let database: TestDatabase;
  let dir: string;
  let repos: ReturnType<typeof designedRepos>;
  let fixedRepo: { dir: string; url: string };
  let reports: BrokenDepsReportRepository;
  let checks: RepoclosureChecks;
  let smtp: SmtpSink;
  let clock = new Date(Date.UTC(2031, 4, 6, 4, 0, 0));
  const now = () => clock;
  const tick = () => (clock = new Date(clock.getTime() + 86_400_000));

  beforeAll(async () => {
    database = await freshDatabase(provider);
    dir = mkdtempSync(path.join(tmpdir(), "relengd-report-"));
    repos = designedRepos(dir);
    // The same tree a day later: beta now provides libbeta = 2 (alpha's versioned need is met), kappa is gone.
    fixedRepo = makeRepo(dir, "fixed", [
      { name: "beta", version: "2.0", provides: ["libbeta = 2"], arches: ["x86_64", "aarch64"], subpackages: [{ name: "beta-tools", requires: ["missingcap(foo)"] }] },
      { name: "alpha", noarch: true, requires: ["libbeta >= 2", "/usr/bin/nothere"] },
    ]);
    reports = new BrokenDepsReportRepository(database.db);
    const tags = new KojiTagRepository(database.db);
    const change = (nvr: string): KojiTagChange => ({ action: "tag", tag: "f45-build", package: "beta", nvr }) as KojiTagChange;
    await database.db.transaction((tx) => tags.observeIn(tx, change("beta-1.0-1.fc45"), new Date(Date.UTC(2031, 0, 2)), "m1", new Date()));
    checks = new RepoclosureChecks({
      reports,
      tagHistory: (tag, pkgs) => tags.history(tag, pkgs),
      runner: { dnf: "dnf", workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 },
      maxAgeMs: 600_000,
      logger: pino({ level: "silent" }),
      now,
    });
    smtp = await startSmtpSink();
  }, 180_000);
  afterAll(async () => {
    await checks?.stop();
    await smtp?.close();
    await database?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = (mailer: ProduceBrokenDepsReportDeps["mailer"], mailed: string[] = []): ProduceBrokenDepsReportDeps => ({
    check: (input, options) => checks.check(input, options),
    reports,
    mailer,
    publicUrl: "https://relengd.example.org",
    mailConfig: { from: "relengd@fedoraproject.org", list: "devel@lists.fedoraproject.org", ownerAddressTemplate: DEFAULT_OWNER_ADDRESS },
    now,
    onMailed: (outcome, n) => mailed.push(`${outcome}:${n}`),
  });

  it("keeps the report and mails each source package's owners and the list, in spam-o-matic form; the same state again mails nothing", async () => {
    const policy = reportPolicy("rawhide", [{ id: "main", url: repos.main.url }], [{ id: "lookaside", url: repos.lookaside.url }]);
    const mailer = smtpMailer(smtp.url);
    const counted: string[] = [];
    const run = await produceBrokenDepsReport(deps(mailer, counted), policy);
    expect(run.report).toMatchObject({ status: "broken", tree: "rawhide", origin: "policy/rawhide" });
    // Exactly the designed set, arch by arch.
    for (const [arch, rows] of Object.entries(repos.expected)) {
      const sorted = (list: { source: string; nevra: string; unresolved: string[] }[] | undefined) => list?.map((r) => ({ source: r.source, nevra: r.nevra, unresolved: [...r.unresolved].sort() }));
      expect(sorted(run.report.report?.arches[arch])).toEqual(sorted(rows));
    }
    expect(run.mailed).toBe(4);
    expect(counted).toEqual(["sent:4"]);
    const bySubject = new Map(smtp.received.map((m) => [m.headers.get("subject"), m]));
    expect([...bySubject.keys()].sort()).toEqual(["Broken dependencies in rawhide: 5 newly broken, 0 fixed", "Broken dependencies: alpha", "Broken dependencies: beta", "Broken dependencies: kappa"]);
    const alpha = bySubject.get("Broken dependencies: alpha");
    expect(alpha?.headers.get("to")).toBe("alpha-owner@fedoraproject.org");
    expect(alpha?.headers.get("from")).toBe("relengd@fedoraproject.org");
    // beta's build last provided libbeta: its owners are told too.
    expect(alpha?.headers.get("cc")).toBe("beta-owner@fedoraproject.org");
    expect(alpha?.recipients.sort()).toEqual(["alpha-owner@fedoraproject.org", "beta-owner@fedoraproject.org"]);
    expect(alpha?.body).toContain("alpha has broken dependencies in the rawhide tree:");
    expect(alpha?.body).toContain("On x86_64:\n[alpha]\n\talpha-1.0-1.fc45.noarch requires /usr/bin/nothere\n\talpha-1.0-1.fc45.noarch requires libbeta >= 2\n");
    expect(alpha?.body).toContain(`The whole report: https://relengd.example.org/reports/broken-deps/${run.report.id}`);
    const kappa = bySubject.get("Broken dependencies: kappa");
    expect(kappa?.headers.has("cc")).toBe(false);
    expect(kappa?.body).toContain("On aarch64:\n[kappa]\n\tkappa-1.0-1.fc45.aarch64 requires lambda-aarch64-only\n");
    const summary = bySubject.get("Broken dependencies in rawhide: 5 newly broken, 0 fixed");
    expect(summary?.headers.get("to")).toBe("devel@lists.fedoraproject.org");
    expect(summary?.body).toContain("[beta]\n\tbeta-tools-1.0-1.fc45.x86_64 requires missingcap(foo)");
    expect((await reports.get(run.report.id))?.mailedAt).toEqual(clock);

    // The next day, nothing changed: a report is kept, no news, no mail.
    tick();
    const again = await produceBrokenDepsReport(deps(mailer), policy);
    expect(again.report.id).not.toBe(run.report.id);
    expect(again.news).toEqual({ newlyBroken: [], fixed: [] });
    expect(again.mailed).toBe(0);
    expect(smtp.received).toHaveLength(4);
    mailer.close();
  }, 180_000);

  it("a mail that cannot go is told with the next report, once", async () => {
    const policy = reportPolicy("rawhide", [{ id: "fixed", url: fixedRepo.url }]);
    tick();
    // Nothing listens on this port: the SMTP connection is refused.
    const down = smtpMailer("smtp://127.0.0.1:9", { timeoutMs: 5_000 });
    const counted: string[] = [];
    const failed = await produceBrokenDepsReport(deps(down, counted), policy);
    down.close();
    expect(failed.mailed).toBe(0);
    expect(failed.mailError).toBeTruthy();
    expect(counted).toEqual(["failed:3"]);
    expect((await reports.get(failed.report.id))?.mailedAt).toBeNull();

    tick();
    const up = smtpMailer(smtp.url);
    const before = smtp.received.length;
    const told = await produceBrokenDepsReport(deps(up), policy);
    up.close();
    // Against the last mailed report: kappa and alpha's versioned need fixed, nothing new broken.
    expect(told.news?.newlyBroken).toEqual([]);
    expect(told.news?.fixed.map((r) => `${r.arch} ${r.nevra} ${r.unresolved.join(",")}`).sort()).toEqual([
      "aarch64 alpha-1.0-1.fc45.noarch libbeta >= 2",
      "aarch64 kappa-1.0-1.fc45.aarch64 lambda-aarch64-only",
      "x86_64 alpha-1.0-1.fc45.noarch libbeta >= 2",
    ]);
    const news = smtp.received.slice(before);
    expect(news.map((m) => m.headers.get("subject")).sort()).toEqual(["Broken dependencies in rawhide: 0 newly broken, 3 fixed", "Broken dependencies: alpha", "Broken dependencies: kappa"]);
    const kappa = news.find((m) => m.headers.get("subject") === "Broken dependencies: kappa");
    expect(kappa?.body).toContain("kappa has no broken dependencies left in the rawhide tree.");
    expect(kappa?.body).toContain("Fixed since the last report:\n\nOn aarch64:\n[kappa]\n\tkappa-1.0-1.fc45.aarch64 requires lambda-aarch64-only");
    // And again: nothing new.
    tick();
    const quiet = await produceBrokenDepsReport(deps(smtpMailer(smtp.url)), policy);
    expect(quiet.mailed).toBe(0);
  }, 180_000);

  it("a repository that cannot be read is kept as an error and mails nothing", async () => {
    const policy = reportPolicy("gone", [{ id: "gone", url: `file://${dir}/does-not-exist` }]);
    const before = smtp.received.length;
    const summary = await runScheduledPolicy({ evaluate: undefined as never, report: deps(smtpMailer(smtp.url)) }, policy, clock);
    expect(summary).toMatch(/the check could not run/);
    expect(smtp.received.length).toBe(before);
    expect((await reports.latest("gone"))?.status).toBe("error");
  }, 180_000);

  it("without SMTP, writes each message as an .eml file", async () => {
    const policy = reportPolicy("dryrun", [{ id: "main", url: repos.main.url }], [{ id: "lookaside", url: repos.lookaside.url }]);
    const out = path.join(dir, "mail");
    tick();
    const run = await produceBrokenDepsReport({ ...deps(dryRunMailer(out, now)), mailConfig: { from: "relengd@localhost", ownerAddressTemplate: "{package}-maintainers@example.org" } }, policy);
    expect(run.mailed).toBe(3);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(3);
    const mails = files.map((f) => parseMail(readFileSync(path.join(out, f), "utf8")));
    expect(mails.map((m) => m.headers.get("to")).sort()).toEqual(["alpha-maintainers@example.org", "beta-maintainers@example.org", "kappa-maintainers@example.org"]);
    expect(mails.find((m) => m.headers.get("subject") === "Broken dependencies: beta")?.body).toContain("\tbeta-tools-1.0-1.fc45.aarch64 requires missingcap(foo)");
  }, 180_000);
});
