// The server's repoclosure checks over real dnf and a real store: blame from the observed tag
// history, one run per repo set at a time, fresh results reused, shutdown mid-run.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneWorkFolders } from "../../src/checks/repoclosure.js";
import { RepoclosureChecks } from "../../src/checks/repoclosureChecks.js";
import { RepoclosureCancelled } from "../../src/flow/checkRepoclosure.js";
import type { KojiTagChange } from "../../src/domain/busMapping.js";
import { repoSetKey, type RepoclosureTarget } from "../../src/domain/repoclosure.js";
import { BrokenDepsReportRepository } from "../../src/store/brokenDepsReportRepository.js";
import { KojiTagRepository } from "../../src/store/kojiTagRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { designedRepos, haveRpmTools } from "../support/rpmRepo.js";

const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;

maybe.each(testProviders)("RepoclosureChecks on %s", (provider) => {
  let database: TestDatabase;
  let dir: string;
  let repos: ReturnType<typeof designedRepos>;
  let reports: BrokenDepsReportRepository;
  let tags: KojiTagRepository;
  let clock = new Date(Date.UTC(2031, 4, 6, 12, 0, 0));
  const now = () => clock;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    dir = mkdtempSync(path.join(tmpdir(), "relengd-checks-"));
    repos = designedRepos(dir);
    reports = new BrokenDepsReportRepository(database.db);
    tags = new KojiTagRepository(database.db);
    // libbeta's provider was rebuilt in f45-build after the last good state: beta is to blame.
    const change = (action: "tag" | "untag", nvr: string): KojiTagChange => ({ action, tag: "f45-build", package: "beta", nvr }) as KojiTagChange;
    await database.db.transaction((tx) => tags.observeIn(tx, change("tag", "beta-0.9-1.fc45"), new Date(Date.UTC(2031, 0, 1)), "m1", new Date()));
    await database.db.transaction((tx) => tags.observeIn(tx, change("tag", "beta-1.0-1.fc45"), new Date(Date.UTC(2031, 0, 2)), "m2", new Date()));
  }, 120_000);
  afterAll(async () => {
    await database?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (): RepoclosureTarget => ({ arches: ["x86_64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [{ id: "lookaside", url: repos.lookaside.url }], kojiTag: "f45-build" });
  const checks = (over: { dnf?: string; maxAgeMs?: number } = {}) =>
    new RepoclosureChecks({
      reports,
      tagHistory: (tag, pkgs) => tags.history(tag, pkgs),
      runner: { dnf: over.dnf ?? "dnf", workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 },
      maxAgeMs: over.maxAgeMs ?? 600_000,
      logger: pino({ level: "silent" }),
      now,
    });

  it("stores the report with blame from the tag history, and reads it back the same", async () => {
    const record = await checks().check({ tree: "f45-build", origin: "gate", target: target() }, { fresh: true });
    expect(record.status).toBe("broken");
    const alpha = record.report?.arches.x86_64?.find((r) => r.source === "alpha");
    expect(alpha?.blame).toEqual(["beta"]);
    // beta-tools' own missing capability names no package the history knows.
    expect(record.report?.arches.x86_64?.find((r) => r.source === "beta")?.blame).toEqual([]);
    expect(await reports.get(record.id)).toEqual(record);
  }, 120_000);

  it("two callers at once share one run; a later caller within the age reuses it; fresh runs again", async () => {
    const c = checks();
    clock = new Date(clock.getTime() + 3_600_000);
    const [a, b] = await Promise.all([c.check({ tree: "t", origin: "gate", target: target() }), c.check({ tree: "t", origin: "gate", target: target() })]);
    expect(a.id).toBe(b.id);
    clock = new Date(clock.getTime() + 60_000);
    expect((await c.check({ tree: "t", origin: "gate", target: target() })).id).toBe(a.id);
    const again = await c.check({ tree: "t", origin: "gate", target: target() }, { fresh: true });
    expect(again.id).not.toBe(a.id);
    // Past the age, the stored result is not taken.
    clock = new Date(clock.getTime() + 601_000);
    expect((await c.check({ tree: "t", origin: "gate", target: target() })).id).not.toBe(again.id);
  }, 120_000);

  it("an unreadable repository is stored as an error, and is a result like any other", async () => {
    const bad: RepoclosureTarget = { arches: ["x86_64"], repos: [{ id: "gone", url: `file://${dir}/gone` }], lookaside: [] };
    const record = await checks().check({ tree: "gone", origin: "gate", target: bad });
    expect(record).toMatchObject({ status: "error", report: null });
    expect(record.error).toMatch(/gone|repomd|metadata/i);
  }, 120_000);

  it("shutdown mid-run kills dnf, stores nothing and rejects the waiting callers", async () => {
    const fake = path.join(dir, "slow-dnf");
    writeFileSync(fake, "#!/bin/sh\nsleep 600\n");
    chmodSync(fake, 0o755);
    const c = checks({ dnf: fake });
    const told: string[] = [];
    c.onChecked((origin, status) => told.push(`${origin} ${status}`));
    const t: RepoclosureTarget = { ...target(), arches: ["aarch64"] };
    const first = c.check({ tree: "slow", origin: "gate", target: t }, { fresh: true });
    const second = c.check({ tree: "slow", origin: "gate", target: t }, { fresh: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.inFlight()).toBe(1);
    await c.stop();
    await expect(first).rejects.toBeInstanceOf(RepoclosureCancelled);
    await expect(second).rejects.toBeInstanceOf(RepoclosureCancelled);
    await expect(c.check({ tree: "slow", origin: "gate", target: t })).rejects.toBeInstanceOf(RepoclosureCancelled);
    expect(told).toEqual(["gate cancelled"]);
  }, 120_000);
});

maybe("RepoclosureChecks: a fresh look while a run is under way", () => {
  it("waits for the run that began before it, then runs again", async () => {
    const database = await freshDatabase("sqlite");
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-checks-fresh-"));
    try {
      const repos = designedRepos(dir);
      const reports = new BrokenDepsReportRepository(database.db);
      let clock = new Date(Date.UTC(2031, 4, 6, 12, 0, 0));
      // A dnf that announces each start, then runs the real one.
      const log = path.join(dir, "starts.log");
      const wrapper = path.join(dir, "counting-dnf");
      writeFileSync(wrapper, `#!/bin/sh\n[ "$1" = repoclosure ] && echo start >> "${log}" && sleep 0.5\nexec dnf "$@"\n`);
      chmodSync(wrapper, 0o755);
      const c = new RepoclosureChecks({
        reports,
        tagHistory: () => Promise.resolve([]),
        runner: { dnf: wrapper, workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 },
        maxAgeMs: 600_000,
        logger: pino({ level: "silent" }),
        now: () => clock,
      });
      const target: RepoclosureTarget = { arches: ["x86_64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [] };
      const first = c.check({ tree: "t", origin: "gate", target });
      await new Promise((r) => setTimeout(r, 100));
      clock = new Date(clock.getTime() + 1000);
      const retry = c.check({ tree: "t", origin: "gate", target }, { fresh: true });
      const [a, b] = await Promise.all([first, retry]);
      expect(b.id).not.toBe(a.id);
      expect(b.generatedAt.getTime()).toBeGreaterThan(a.generatedAt.getTime());
      expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(2);
    } finally {
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("dnf's work folders of repo sets not checked lately", () => {
  it("are removed after a run; the run's own, recent ones, those in use and other files stay", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-checks-prune-"));
    try {
      const work = path.join(dir, "work");
      mkdirSync(work);
      // Ages from the file system's own clock, as the pruning reads them.
      writeFileSync(path.join(work, ".probe"), "");
      const fsNow = statSync(path.join(work, ".probe")).mtimeMs;
      const folder = (key: string, arch: string, ageDays: number | null) => {
        const f = path.join(work, `${key}-${arch}`);
        mkdirSync(path.join(f, "cache"), { recursive: true });
        if (ageDays !== null) {
          writeFileSync(path.join(f, "dnf.conf"), "[main]\n");
          const at = new Date(fsNow - ageDays * 86_400_000);
          utimesSync(path.join(f, "dnf.conf"), at, at);
        }
        return `${key}-${arch}`;
      };
      const stale = folder("a".repeat(32), "x86_64", 8);
      const recent = folder("b".repeat(32), "x86_64", 6);
      const busy = folder("c".repeat(32), "aarch64", 30);
      const unconfigured = folder("d".repeat(32), "x86_64", null);
      mkdirSync(path.join(work, "not-a-work-folder"));
      expect(await pruneWorkFolders(work, 7 * 86_400_000, new Set(["c".repeat(32)]))).toEqual([stale]);
      expect(readdirSync(work).sort()).toEqual([".clock", ".probe", busy, recent, unconfigured, "not-a-work-folder"].sort());
      expect(await pruneWorkFolders(path.join(dir, "absent"), 0)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

maybe("RepoclosureChecks prunes the work folders after a run", () => {
  it("removes a long-unchecked repo set's folder and keeps the one it just used", async () => {
    const database = await freshDatabase("sqlite");
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-checks-prune-run-"));
    try {
      const repos = designedRepos(dir);
      const work = path.join(dir, "work");
      const old = path.join(work, `${"e".repeat(32)}-x86_64`);
      mkdirSync(path.join(old, "root"), { recursive: true });
      writeFileSync(path.join(old, "dnf.conf"), "[main]\n");
      utimesSync(path.join(old, "dnf.conf"), new Date(statSync(old).mtimeMs - 30 * 86_400_000), new Date(statSync(old).mtimeMs - 30 * 86_400_000));
      const c = new RepoclosureChecks({
        reports: new BrokenDepsReportRepository(database.db),
        tagHistory: () => Promise.resolve([]),
        runner: { dnf: "dnf", workDir: work, timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 },
        maxAgeMs: 0,
        keepWorkMs: 7 * 86_400_000,
        logger: pino({ level: "silent" }),
      });
      const target: RepoclosureTarget = { arches: ["x86_64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [] };
      await c.check({ tree: "t", origin: "gate", target });
      await c.stop();
      expect(existsSync(old)).toBe(false);
      expect(existsSync(path.join(work, `${repoSetKey(target)}-x86_64`, "dnf.conf"))).toBe(true);
    } finally {
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
