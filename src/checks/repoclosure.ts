// Runs the real `dnf repoclosure` over a set of repositories, one arch at a time, and says which
// packages have dependencies nothing provides (with the source package each was built from).
//
// dnf runs in a process group of its own, under an address-space limit and a deadline, with an
// install root, configuration and cache of relengd's: the host's repositories and plugins'
// configuration never take part. It is forked from the server directly, unlike git
// (gitops/gitProcess.ts): a check runs seconds to minutes, a few times an hour, so the fork's
// pause of the event loop does not matter here.
import { spawn } from "node:child_process";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { sortBrokenPackages, type BrokenPackage } from "../domain/brokenDeps.js";
import { repoMetadataDir, sourcesFromPrimary } from "./primarySources.js";
import { checkedRepoIds, parseRepoclosureOutput, repoSetKey, repoUrlForArch, type RepoclosureTarget } from "../domain/repoclosure.js";

export interface RepoclosureRunnerOptions {
  /** The dnf command (a name on PATH or a path). */
  dnf: string;
  /** Install roots and caches live here, one folder per repo set and arch (kept between runs). */
  workDir: string;
  /** Each dnf process is killed at this age; the check then fails. */
  timeoutMs: number;
  /** Address-space limit of each dnf process (`ulimit -v`). */
  memoryBytes: number;
  /** `$releasever` for dnf; relengd's URLs do not use it, but dnf asks for one. */
  releasever?: string;
}

export type RepoclosureRun =
  | { ok: true; arches: Record<string, BrokenPackage[]>; dnfMs: number }
  /** The check could not run or could not read a repository: never a pass. */
  | { ok: false; error: string; reason: "error" | "timeout" | "cancelled" };

// dnf's output is a few lines per broken package; a limit keeps a runaway dnf from filling memory.
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
// Long command lines are split: ARG_MAX is 2 MiB on Linux, and a NEVRA is under 300 bytes.
const NEVRAS_PER_QUERY = 2000;
const KILL_GRACE_MS = 2000;

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  ended: "exit" | "timeout" | "cancelled" | "too-large";
}

function runBounded(command: string, args: string[], options: RepoclosureRunnerOptions, signal: AbortSignal | undefined): Promise<ProcessResult> {
  const started = performance.now();
  const kib = Math.max(1, Math.floor(options.memoryBytes / 1024));
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      resolve({ code: null, stdout: "", stderr: "", ms: 0, ended: "cancelled" });
      return;
    }
    // `ulimit -v` through sh: it exists wherever dnf does, prlimit(1) not always.
    const child = spawn("/bin/sh", ["-c", `ulimit -v ${kib} && exec "$0" "$@"`, command, ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", HOME: options.workDir },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let ended: ProcessResult["ended"] = "exit";
    const kill = (why: ProcessResult["ended"]): void => {
      if (ended !== "exit") return;
      ended = why;
      const group = child.pid;
      if (group === undefined) return;
      try {
        process.kill(-group, "SIGTERM");
      } catch {
        // Already gone.
      }
      setTimeout(() => {
        try {
          process.kill(-group, "SIGKILL");
        } catch {
          // Already gone.
        }
      }, KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => kill("timeout"), options.timeoutMs);
    const onAbort = (): void => kill("cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    const take = (into: Buffer[]) => (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUT_BYTES) kill("too-large");
      else into.push(d);
    };
    child.stdout.on("data", take(out));
    child.stderr.on("data", take(err));
    child.on("error", (e) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - started, ended });
    });
  });
}

function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Added \S+ repo from /.test(l) && !/B\/s \|/.test(l))
    .slice(-n)
    .join(" | ")
    .slice(0, 1000);
}

/** The install root, configuration and cache of one repo set's runs for one arch. */
function archDir(target: RepoclosureTarget, arch: string, options: RepoclosureRunnerOptions): string {
  return path.join(options.workDir, `${repoSetKey(target)}-${arch}`);
}

/** dnf's options every run shares: its own root, config and cache, only the named repositories. */
async function commonArgs(target: RepoclosureTarget, arch: string, options: RepoclosureRunnerOptions): Promise<string[]> {
  const base = archDir(target, arch, options);
  const root = path.join(base, "root");
  const reposDir = path.join(base, "repos.d");
  const conf = path.join(base, "dnf.conf");
  await mkdir(root, { recursive: true });
  await mkdir(reposDir, { recursive: true });
  await writeFile(conf, "[main]\ngpgcheck=0\nskip_if_unavailable=False\ninstall_weak_deps=False\n");
  const args = [
    `--installroot=${root}`,
    `--config=${conf}`,
    `--setopt=reposdir=${reposDir}`,
    `--setopt=cachedir=${path.join(base, "cache")}`,
    `--setopt=skip_if_unavailable=False`,
    `--releasever=${options.releasever ?? "rawhide"}`,
    `--forcearch=${arch}`,
    "--assumeyes",
  ];
  for (const r of [...target.repos, ...target.lookaside]) args.push(`--repofrompath=${r.id},${repoUrlForArch(r.url, arch)}`, `--repo=${r.id}`);
  return args;
}

/** The source package name of each NEVRA (`beta` for gamma built from beta-1.0-1.fc45.src.rpm). */
async function sourcesOf(target: RepoclosureTarget, arch: string, nevras: string[], options: RepoclosureRunnerOptions, signal: AbortSignal | undefined): Promise<Map<string, string> | { error: string; reason: "error" | "timeout" | "cancelled" }> {
  const sources = new Map<string, string>();
  const common = await commonArgs(target, arch, options);
  for (let i = 0; i < nevras.length; i += NEVRAS_PER_QUERY) {
    const chunk = nevras.slice(i, i + NEVRAS_PER_QUERY);
    const r = await runBounded(options.dnf, ["repoquery", ...common, "--cacheonly", "--quiet", "--qf", "%{name}-%{evr}.%{arch}\t%{sourcerpm}", "--", ...chunk], options, signal);
    if (r.ended !== "exit") return { error: `dnf repoquery for ${arch}: ${r.ended}`, reason: r.ended === "too-large" ? "error" : r.ended };
    if (r.code !== 0) return { error: `dnf repoquery for ${arch} exited ${r.code}: ${lastLines(r.stderr, 3)}`, reason: "error" };
    for (const line of r.stdout.split("\n")) {
      const [nevra, srpm] = line.split("\t");
      if (!nevra || !srpm) continue;
      // name-version-release.src.rpm: the name is all but the last two dashes' parts.
      const m = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(srpm.trim());
      if (m?.[1]) sources.set(nevra.trim(), m[1]);
    }
  }
  return sources;
}

/** Every package's source in each checked file:// repo, by repo id (a repo that cannot be read: absent). */
async function indexLocalRepos(target: RepoclosureTarget, arch: string): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const checked = new Set(checkedRepoIds(target));
  await Promise.all(
    target.repos
      .filter((r) => checked.has(r.id) && r.url.startsWith("file://"))
      .map(async (r) => {
        try {
          const dir = await repoMetadataDir(repoUrlForArch(r.url, arch), r.id, "");
          const all = dir ? await sourcesFromPrimary(dir, "all") : undefined;
          if (all) out.set(r.id, all);
        } catch {
          // file://host/… and other URLs Node.js will not map to a path: dnf is asked instead.
        }
      }),
  );
  return out;
}

/** Sources of the broken packages from each repo's primary metadata (what it could read). */
async function sourcesFromMetadata(
  target: RepoclosureTarget,
  arch: string,
  packages: readonly { nevra: string; repo: string }[],
  options: RepoclosureRunnerOptions,
  indexed: ReadonlyMap<string, ReadonlyMap<string, string>>,
): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  const byRepo = new Map<string, Set<string>>();
  for (const p of packages) byRepo.set(p.repo, (byRepo.get(p.repo) ?? new Set()).add(p.nevra));
  for (const [repoId, wanted] of byRepo) {
    const index = indexed.get(repoId);
    if (index && [...wanted].every((n) => index.has(n))) {
      for (const n of wanted) sources.set(n, index.get(n) as string);
      continue;
    }
    const repo = [...target.repos, ...target.lookaside].find((r) => r.id === repoId);
    if (!repo) continue;
    const dir = await repoMetadataDir(repoUrlForArch(repo.url, arch), repoId, path.join(archDir(target, arch, options), "cache"));
    const found = dir ? await sourcesFromPrimary(dir, wanted) : undefined;
    for (const [k, v] of found ?? []) sources.set(k, v);
  }
  return sources;
}

/** The NEVRA's name, for a package whose source could not be found (it then stands for itself). */
function nameOf(nevra: string): string {
  return nevra.replace(/\.[^.]+$/, "").replace(/-[^-]+-[^-]+$/, "");
}

/**
 * Runs the check for every arch of `target`: each arch checks its own packages and noarch ones.
 * `blame` is left empty: the caller knows the Koji tag history, this module does not.
 */
export async function runRepoclosure(target: RepoclosureTarget, options: RepoclosureRunnerOptions, signal?: AbortSignal): Promise<RepoclosureRun> {
  const arches: Record<string, BrokenPackage[]> = {};
  let dnfMs = 0;
  for (const arch of target.arches) {
    const common = await commonArgs(target, arch, options);
    const args = ["repoclosure", ...common, "--refresh", `--arch=${arch}`, "--arch=noarch", ...checkedRepoIds(target).map((id) => `--check=${id}`)];
    // A local repo's metadata is indexed while dnf runs (on the other core): its source packages
    // are then known the moment dnf ends. Remote ones are read from dnf's cache afterwards.
    const indexed = indexLocalRepos(target, arch);
    let r: ProcessResult;
    try {
      r = await runBounded(options.dnf, args, options, signal);
    } catch (e) {
      return { ok: false, error: `could not start ${options.dnf}: ${(e as Error).message}`, reason: "error" };
    }
    dnfMs += r.ms;
    if (r.ended === "timeout") return { ok: false, error: `dnf repoclosure for ${arch} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was killed`, reason: "timeout" };
    if (r.ended === "cancelled") return { ok: false, error: `dnf repoclosure for ${arch} was cancelled (shutdown)`, reason: "cancelled" };
    if (r.ended === "too-large") return { ok: false, error: `dnf repoclosure for ${arch} printed more than ${MAX_OUTPUT_BYTES} bytes`, reason: "error" };
    const parsed = parseRepoclosureOutput(`${r.stdout}\n${r.stderr}`);
    // Exit 1 with package blocks (or dnf 5's totals) is a finding; without them, an error of the
    // check: an unreadable repository, a bad option, dnf itself failing.
    if (r.code !== 0 && parsed.packages.length === 0) {
      return { ok: false, error: `dnf repoclosure for ${arch} failed (exit ${r.code ?? "signal"}): ${lastLines(`${r.stdout}\n${r.stderr}`, 4) || "no output"}`, reason: "error" };
    }
    if (r.code === 0 && parsed.packages.length > 0) {
      return { ok: false, error: `dnf repoclosure for ${arch} listed unresolved packages but exited 0; refusing to guess`, reason: "error" };
    }
    let sources = new Map<string, string>();
    if (parsed.packages.length > 0) {
      sources = await sourcesFromMetadata(target, arch, parsed.packages, options, await indexed);
      // What the metadata did not say (a compression this Node.js cannot read, say), dnf does.
      const rest = [...new Set(parsed.packages.map((p) => p.nevra))].filter((n) => !sources.has(n));
      if (rest.length > 0) {
        const found = await sourcesOf(target, arch, rest, options, signal);
        if (!(found instanceof Map)) return { ok: false, ...found };
        for (const [k, v] of found) sources.set(k, v);
      }
    }
    // dnf 4 prints a package's dependencies in a Python set's order, which changes from run to run:
    // sorted (as dnf 5 prints them), the same repos give the same report.
    arches[arch] = sortBrokenPackages(parsed.packages.map((p) => ({ source: sources.get(p.nevra) ?? nameOf(p.nevra), nevra: p.nevra, repo: p.repo, unresolved: [...p.unresolved].sort(), blame: [] })));
  }
  return { ok: true, arches, dnfMs };
}

// A work folder's name: the repo set's key (domain/repoclosure.ts repoSetKey) and an arch.
const WORK_FOLDER = /^[0-9a-f]{32}-[a-z0-9_]{1,16}$/;

/**
 * Removes the work folders (install root and dnf cache: hundreds of MB for a Fedora-sized repo)
 * of repo sets not checked for `keepMs`: an ad-hoc release's own repos, a policy since removed.
 * A folder's last run is its dnf.conf's time (written at every run), compared with the time the
 * file system gives a file written now, so that a process clock set apart from it (a test's) does
 * not make every folder look old. `inUse` keys are kept whatever their age. Returns the folders removed.
 */
export async function pruneWorkFolders(workDir: string, keepMs: number, inUse: ReadonlySet<string> = new Set()): Promise<string[]> {
  let entries: string[];
  let now: number;
  try {
    entries = await readdir(workDir);
    const clock = path.join(workDir, ".clock");
    await writeFile(clock, "");
    now = (await stat(clock)).mtimeMs;
  } catch {
    return [];
  }
  const cutoff = new Date(now - keepMs);
  const removed: string[] = [];
  for (const name of entries) {
    if (!WORK_FOLDER.test(name) || inUse.has(name.slice(0, 32))) continue;
    const folder = path.join(workDir, name);
    let lastRun: number;
    try {
      lastRun = (await stat(path.join(folder, "dnf.conf"))).mtimeMs;
    } catch {
      // A folder whose first run never wrote its configuration: its own time says when it began.
      lastRun = (await stat(folder).catch(() => undefined))?.mtimeMs ?? Number.POSITIVE_INFINITY;
    }
    if (lastRun >= cutoff.getTime()) continue;
    await rm(folder, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
