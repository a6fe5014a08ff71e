// bench/repoclosure: the repoclosure gate's whole path (RepoclosureChecks.check: dnf repoclosure,
// the source packages read from the repo's primary metadata, parsing, blame from the store, storing the report, then
// rendering it as text and JSON) against `dnf repoclosure` run alone with the same arguments, on a
// generated repository of 5,000 packages, in the same run.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { sourcesFromPrimary } from "../src/checks/primarySources.js";
import { runRepoclosure } from "../src/checks/repoclosure.js";
import { RepoclosureChecks } from "../src/checks/repoclosureChecks.js";
import { renderBrokenDepsReport, renderBrokenDepsText } from "../src/domain/brokenDeps.js";
import { parseRepoclosureOutput, repoclosureTargetSchema, repoSetKey, type RepoclosureTarget } from "../src/domain/repoclosure.js";
import { BrokenDepsReportRepository } from "../src/store/brokenDepsReportRepository.js";
import { KojiTagRepository } from "../src/store/kojiTagRepository.js";
import { migrate } from "../src/store/migrator.js";
import { openStore } from "../src/store/store.js";
import { makeRepo, type SpecPackage } from "../test/support/rpmRepo.js";
import { benchLine, ms, ratio, table, verdict } from "./load.js";
import { benchDatabase } from "./relengdServer.js";

const PACKAGES = Number(process.env.BENCH_PACKAGES ?? 5000);
const SPECS = Number(process.env.BENCH_SPECS ?? 5);
const BROKEN = Number(process.env.BENCH_BROKEN ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// The issue's target: relengd's overhead at most 20 % of dnf alone.
const MAX_RATIO = 1.2;
// Bump when the generated repository changes: the cache is keyed by it.
const REPO_VERSION = "1";
const DNF = process.env.RELENGD_DNF ?? "dnf";
const ARCH = "x86_64";

/**
 * PACKAGES packages from SPECS spec files (a main package and many subpackages each; the last spec
 * noarch), every one providing a capability and requiring two others', a tenth owning a file
 * that others require; BROKEN of them also require what nothing provides (half a versioned
 * requirement nothing meets, half a capability nobody has).
 */
function benchSpecs(): { specs: SpecPackage[]; broken: Set<string> } {
  const perSpec = Math.ceil(PACKAGES / SPECS);
  const every = Math.max(1, Math.floor(PACKAGES / BROKEN));
  const broken = new Set<string>();
  const specs: SpecPackage[] = [];
  const fileOf = (i: number) => `/usr/share/bench/f${i - (i % 10)}`;
  for (let s = 0; s < SPECS; s++) {
    const names: string[] = [];
    for (let j = 0; j < perSpec && s * perSpec + j < PACKAGES; j++) names.push(j === 0 ? `bench${s}` : `bench${s}-sub${j}`);
    const deps = (i: number) => {
      const requires = [`benchcap(${(i * 7 + 1) % PACKAGES})`, `benchcap(${(i * 13 + 5) % PACKAGES}) >= 1.0`];
      if (i % 10 === 3) requires.push(fileOf((i * 31) % PACKAGES));
      if (i % every === every - 1 && broken.size < BROKEN) {
        requires.push(broken.size % 2 === 0 ? `benchcap(${i}) >= 2.0` : `bench-missing(${i})`);
        broken.add(names[i - s * perSpec] as string);
      }
      return { requires, provides: [`benchcap(${i}) = 1.0`], files: i % 10 === 0 ? [fileOf(i)] : [] };
    };
    const base = s * perSpec;
    specs.push({
      name: names[0] as string,
      ...(s === SPECS - 1 ? { noarch: true } : { arches: [ARCH] }),
      ...deps(base),
      subpackages: names.slice(1).map((name, k) => ({ name, ...deps(base + k + 1) })),
    });
  }
  return { specs, broken };
}

/** The generated repository, built once and kept under the temp dir (keyed by its parameters). */
function cachedRepo(): { url: string; broken: Set<string>; built: boolean } {
  const dir = path.join(tmpdir(), `relengd-bench-repoclosure-v${REPO_VERSION}-${PACKAGES}-${SPECS}-${BROKEN}`);
  const { specs, broken } = benchSpecs();
  const done = path.join(dir, "done");
  if (existsSync(done)) return { url: `file://${path.join(dir, "repo")}`, broken, built: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t = performance.now();
  makeRepo(dir, "repo", specs);
  writeFileSync(done, `${new Date().toISOString()} ${Math.round(performance.now() - t)} ms\n`);
  return { url: `file://${path.join(dir, "repo")}`, broken, built: true };
}

/** dnf's options as src/checks/repoclosure.ts gives them: its own root, config and cache, only the named repos. */
function dnfOptions(target: RepoclosureTarget, work: string): string[] {
  const root = path.join(work, "root");
  const reposDir = path.join(work, "repos.d");
  const conf = path.join(work, "dnf.conf");
  mkdirSync(root, { recursive: true });
  mkdirSync(reposDir, { recursive: true });
  writeFileSync(conf, "[main]\ngpgcheck=0\nskip_if_unavailable=False\ninstall_weak_deps=False\n");
  return [
    `--installroot=${root}`,
    `--config=${conf}`,
    `--setopt=reposdir=${reposDir}`,
    `--setopt=cachedir=${path.join(work, "cache")}`,
    "--setopt=skip_if_unavailable=False",
    "--releasever=rawhide",
    `--forcearch=${ARCH}`,
    "--assumeyes",
    ...target.repos.flatMap((r) => [`--repofrompath=${r.id},${r.url}`, `--repo=${r.id}`]),
  ];
}

/** `dnf repoclosure` alone, with the runner's arguments. */
function dnfAlone(target: RepoclosureTarget, work: string): Promise<{ ms: number; code: number | null; out: string }> {
  return runDnf(["repoclosure", ...dnfOptions(target, work), "--refresh", `--arch=${ARCH}`, "--arch=noarch", ...target.repos.map((r) => `--check=${r.id}`)], work);
}

/**
 * What the runner did with a second dnf process until it read the repo's metadata itself: the
 * source packages of the broken NEVRAs by `dnf repoquery`, from the cache the gate's run left.
 */
function repoqueryAlone(target: RepoclosureTarget, gateWork: string, nevras: string[]): Promise<{ ms: number; code: number | null; out: string }> {
  const work = path.join(gateWork, `${repoSetKey(target)}-${ARCH}`);
  return runDnf(["repoquery", ...dnfOptions(target, work), "--cacheonly", "--quiet", "--qf", "%{name}-%{evr}.%{arch}\t%{sourcerpm}", "--", ...nevras], work);
}

function runDnf(args: string[], work: string): Promise<{ ms: number; code: number | null; out: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(DNF, args, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", HOME: work } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: performance.now() - t, code, out }));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function benchOn(name: string, databaseUrl: string | undefined, target: RepoclosureTarget, expectedBroken: Set<string>, dir: string): Promise<boolean> {
  const database = benchDatabase(dir, name, databaseUrl);
  console.log(`\n== ${name}: ${database.where}`);
  try {
    await migrate(database.url);
    const db = await openStore(database.url);
    try {
      const reports = new BrokenDepsReportRepository(db);
      const tags = new KojiTagRepository(db);
      const runner = { dnf: DNF, workDir: path.join(dir, `${name}-gate`), timeoutMs: 600_000, memoryBytes: 8 * 1024 ** 3 };
      const checks = new RepoclosureChecks({ reports, tagHistory: (tag, pkgs) => tags.history(tag, pkgs), runner, maxAgeMs: 0, logger: pino({ level: "silent" }) });
      const gate = async () => {
        const t = performance.now();
        const record = await checks.check({ tree: "f45-build", origin: "gate", target }, { fresh: true });
        const stored = performance.now() - t;
        if (!record.report) throw new Error(`the check did not give a report: ${record.error ?? record.status}`);
        const text = renderBrokenDepsText(record.report);
        const json = renderBrokenDepsReport(record.report);
        return { ms: performance.now() - t, storedMs: stored, dnfMs: record.dnfMs, record, bytes: text.length + json.length };
      };
      const alone = () => dnfAlone(target, path.join(dir, `${name}-alone`));

      // One of each first: caches (dnf's solv files, the store's pages) warm on both sides.
      const warmGate = await gate();
      const warmAlone = await alone();
      const found = new Set(Object.values(warmGate.record.report?.arches ?? {}).flatMap((rows) => rows.map((r) => r.nevra.replace(/-[^-]+-[^-]+$/, ""))));
      const aloneFound = parseRepoclosureOutput(warmAlone.out).packages.length;
      const same = found.size === expectedBroken.size && [...expectedBroken].every((n) => found.has(n));
      console.log(`gate found ${found.size} broken packages (${same ? "exactly the designed ones" : "NOT the designed set"}); dnf alone listed ${aloneFound} (exit ${warmAlone.code})`);

      const nevras = Object.values(warmGate.record.report?.arches ?? {}).flatMap((rows) => rows.map((r) => r.nevra));
      const gateMs: number[] = [];
      const gateDnfMs: number[] = [];
      const gateStoredMs: number[] = [];
      const aloneMs: number[] = [];
      const repoqueryMs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternated, so drift in the machine's load hits every side alike.
        const a = await alone();
        aloneMs.push(a.ms);
        const g = await gate();
        gateMs.push(g.ms);
        gateDnfMs.push(g.dnfMs);
        gateStoredMs.push(g.storedMs);
        const q = await repoqueryAlone(target, runner.workDir, nevras);
        if (q.code !== 0) throw new Error(`dnf repoquery exited ${q.code}: ${q.out.slice(-500)}`);
        repoqueryMs.push(q.ms);
      }
      // Where the rest goes: the source packages from the metadata, parsing, the store and
      // rendering, each timed alone on the same data.
      const tPrimary = performance.now();
      const fromPrimary = await sourcesFromPrimary(target.repos[0]?.url.replace(/^file:\/\//, "") ?? "", new Set(nevras));
      const primaryMs = performance.now() - tPrimary;
      if (fromPrimary?.size !== new Set(nevras).size) throw new Error(`the primary metadata gave ${fromPrimary?.size ?? "no"} of ${nevras.length} source packages`);
      const tRun = performance.now();
      const run = await runRepoclosure(target, { ...runner, workDir: path.join(dir, `${name}-parts`) });
      const runMs = performance.now() - tRun;
      if (!run.ok) throw new Error(run.error);
      const tParse = performance.now();
      for (let i = 0; i < 10; i++) parseRepoclosureOutput(warmAlone.out);
      const parseMs = (performance.now() - tParse) / 10;
      const report = warmGate.record.report;
      if (!report) throw new Error("no report");
      const tSave = performance.now();
      await reports.save({ tree: "f45-build", origin: "bench", repoSetKey: "bench", arches: target.arches, generatedAt: new Date(), dnfMs: 0, report });
      const saveMs = performance.now() - tSave;
      const tRender = performance.now();
      renderBrokenDepsText(report);
      renderBrokenDepsReport(report);
      const renderMs = performance.now() - tRender;

      const g = median(gateMs);
      const a = median(aloneMs);
      const rows = [
        ["", "median", "min", "max"],
        ["dnf repoclosure alone", ms(a), ms(Math.min(...aloneMs)), ms(Math.max(...aloneMs))],
        ["gate, whole path", ms(g), ms(Math.min(...gateMs)), ms(Math.max(...gateMs))],
        ["  of it: dnf repoclosure", ms(median(gateDnfMs)), ms(Math.min(...gateDnfMs)), ms(Math.max(...gateDnfMs))],
        ["  of it: check() (report stored)", ms(median(gateStoredMs)), ms(Math.min(...gateStoredMs)), ms(Math.max(...gateStoredMs))],
        [`(not in the gate) dnf repoquery of the ${nevras.length} NEVRAs`, ms(median(repoqueryMs)), ms(Math.min(...repoqueryMs)), ms(Math.max(...repoqueryMs))],
      ];
      console.log(table(rows));
      console.log(
        `parts, once each: runner ${ms(runMs)} (of it dnf ${ms(run.dnfMs ?? 0)}); source packages of ${nevras.length} NEVRAs from the primary metadata ${ms(primaryMs)}; ` +
          `parse ${ms(parseMs)}; save ${ms(saveMs)}; render text + JSON ${ms(renderMs)} (${warmGate.bytes} bytes)`,
      );
      const r = g / a;
      console.log(`gate / dnf alone: ${ratio(g, a)} (overhead ${((r - 1) * 100).toFixed(1)} %)`);
      // The runner used to ask a second dnf process for the source packages: on a repo this size it
      // cost as much as the repoclosure (the gate was 1.8-2.1× dnf alone). Had it still:
      const q = median(repoqueryMs);
      console.log(`with the repoquery instead of the metadata read: ${ratio(g - primaryMs + q, a)} of dnf alone`);
      benchLine(`repoclosure${name === "sqlite" ? "" : `-${name}`}`, "repoquery_ms", q, "lower");
      console.log(`${verdict(r <= MAX_RATIO && same)} ${name}: gate ≤ ${MAX_RATIO}× dnf repoclosure alone (${ratio(g, a)})${same ? "" : "; the unresolved set is not the designed one"}`);
      benchLine(`repoclosure${name === "sqlite" ? "" : `-${name}`}`, "dnf_alone_ms", a, "lower");
      benchLine(`repoclosure${name === "sqlite" ? "" : `-${name}`}`, "gate_ms", g, "lower");
      benchLine(`repoclosure${name === "sqlite" ? "" : `-${name}`}`, "ratio", r, "lower");
      return r <= MAX_RATIO && same;
    } finally {
      await db.close();
    }
  } finally {
    await database.drop();
  }
}

async function main(): Promise<void> {
  const t = performance.now();
  const repo = cachedRepo();
  const repoDir = repo.url.replace(/^file:\/\//, "");
  console.log(
    `repository: ${PACKAGES} packages from ${SPECS} spec files, ${repo.broken.size} designed broken, ${repoDir} ` +
      `(${repo.built ? `built now in ${ms(performance.now() - t)}` : `cached, built ${readFileSync(path.join(path.dirname(repoDir), "done"), "utf8").trim()}`})`,
  );
  const target = repoclosureTargetSchema.parse({ arches: [ARCH], repos: [{ id: "bench", url: repo.url }], kojiTag: "f45-build" });
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-bench-repoclosure-run-"));
  try {
    const postgres = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
    await benchOn("sqlite", undefined, target, repo.broken, dir);
    if (postgres) await benchOn("postgresql", postgres, target, repo.broken, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
