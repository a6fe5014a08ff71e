// `relengd report broken-deps`: the broken-dependency report of a set of repositories, made here
// by the real `dnf repoclosure`, with no server and no database (a packager's or a CI job's check).
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { runRepoclosure } from "../checks/repoclosure.js";
import { loadConfig } from "../config.js";
import { renderBrokenDepsReport, renderBrokenDepsText, type BrokenDepsReport } from "../domain/brokenDeps.js";
import { blameTagOf, repoclosureTargetSchema, type RepoclosureTarget } from "../domain/repoclosure.js";
import { parseDuration } from "../domain/token.js";
import { CliError } from "./client.js";

/** What a script reads from the exit code: clean, broken, bad usage (commander's), or no result. */
export const brokenDepsExitCodes = { clean: 0, broken: 1, usage: 2, couldNotRun: 3 } as const;

const OUTPUTS = ["text", "json"] as const;
type ReportOutput = (typeof OUTPUTS)[number];

interface BrokenDepsOptions {
  repo: string[];
  arch: string[];
  lookaside?: string[];
  check?: string[];
  tree?: string;
  output: string;
  timeout?: string;
  cacheDir?: string;
}

function usage(message: string): CliError {
  return new CliError(message, brokenDepsExitCodes.usage);
}

/** `ID=URL` → a repo ref; the URL itself is checked by the target's schema. */
function repoRefOf(flag: string, text: string): { id: string; url: string } {
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) throw usage(`${flag} "${text}" is not ID=URL (e.g. ${flag} f45-build=https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/)`);
  return { id: text.slice(0, eq), url: text.slice(eq + 1) };
}

// The schema's field names mean nothing on a command line: say which flag and which value.
function flagOf(pathOfIssue: readonly PropertyKey[], given: { repos: string[]; lookaside: string[]; check: string[]; arches: string[] }): string {
  const [field, index] = pathOfIssue;
  const at = typeof index === "number" ? index : undefined;
  switch (field) {
    case "repos":
      return at === undefined ? "--repo" : `--repo "${given.repos[at] ?? ""}"`;
    case "lookaside":
      return at === undefined ? "--lookaside" : `--lookaside "${given.lookaside[at] ?? ""}"`;
    case "check":
      return at === undefined ? "--check" : `--check "${given.check[at] ?? ""}"`;
    case "arches":
      return at === undefined ? "--arch" : `--arch "${given.arches[at] ?? ""}"`;
    default:
      return String(field);
  }
}

export function brokenDepsTargetOf(o: Pick<BrokenDepsOptions, "repo" | "arch" | "lookaside" | "check">): RepoclosureTarget {
  const given = { repos: o.repo, lookaside: o.lookaside ?? [], check: o.check ?? [], arches: o.arch };
  const raw = {
    arches: given.arches,
    repos: given.repos.map((r) => repoRefOf("--repo", r)),
    lookaside: given.lookaside.map((r) => repoRefOf("--lookaside", r)),
    ...(o.check && o.check.length > 0 ? { check: o.check } : {}),
  };
  const parsed = repoclosureTargetSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw usage(`${flagOf(issue?.path ?? [], given)}: ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data;
}

async function brokenDeps(o: BrokenDepsOptions): Promise<void> {
  const output = OUTPUTS.find((f): f is ReportOutput => f === o.output);
  if (!output) throw usage(`--output must be ${OUTPUTS.join(" or ")}`);
  const target = brokenDepsTargetOf(o);
  const tree = o.tree ?? blameTagOf(target) ?? target.repos.map((r) => r.id).join("+");
  if (tree.length === 0 || tree.length > 256) throw usage("--tree must be 1 to 256 characters");
  const config = loadConfig();
  let timeoutMs = config.repoclosure.timeoutMs;
  if (o.timeout !== undefined) {
    const seconds = parseDuration(o.timeout);
    if (seconds === undefined) throw usage(`--timeout "${o.timeout}" is not a duration like 30m`);
    timeoutMs = seconds * 1000;
  }

  // dnf runs in a process group of its own (checks/repoclosure.ts), so a Ctrl-C at the terminal
  // reaches only this process: it has to stop dnf itself, or dnf would run on, orphaned.
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A folder of one's own per run unless asked to keep dnf's metadata: two runs at once must not
  // share dnf's cache, and the verb leaves nothing behind.
  const workDir = o.cacheDir ? path.resolve(o.cacheDir) : await mkdtemp(path.join(tmpdir(), "relengd-broken-deps-"));
  try {
    if (o.cacheDir) await mkdir(workDir, { recursive: true });
    const run = await runRepoclosure(target, { dnf: config.repoclosure.dnf, workDir, timeoutMs, memoryBytes: config.repoclosure.memoryBytes }, abort.signal);
    if (!run.ok) throw new CliError(`the check could not run: ${run.error}`, brokenDepsExitCodes.couldNotRun);
    // No Koji tag history here (no database): blame stays empty, as runRepoclosure leaves it.
    const report: BrokenDepsReport = { tree, generatedAt: new Date().toISOString(), arches: run.arches };
    process.stdout.write(output === "json" ? renderBrokenDepsReport(report) : renderBrokenDepsText(report));
    if (Object.values(report.arches).some((rows) => rows.length > 0)) throw new CliError("", brokenDepsExitCodes.broken);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!o.cacheDir) await rm(workDir, { recursive: true, force: true });
  }
}

export function registerReportCommands(program: Command): void {
  const report = program.command("report").description("reports made on this host, with no server");
  report
    .command("broken-deps")
    .description("run dnf repoclosure over repositories and print the broken-dependency report (no server, no database)")
    .requiredOption("--repo <id=url...>", "repositories whose packages are checked ($arch in a URL is each arch)")
    .requiredOption("--arch <arch...>", "arches to check (noarch is checked with each)")
    .option("--lookaside <id=url...>", "repositories that only provide (their own packages are not checked)")
    .option("--check <id...>", "check only these of the --repo ids (default: all of them)")
    .option("--tree <name>", "what the report calls the tree (default: the Koji tag in a repo URL, else the repo ids)")
    .option("--output <format>", "text (spam-o-matic's form) or json (the report alone)", "text")
    .option("--timeout <duration>", "kill dnf and fail after this long per arch (default RELENGD_REPOCLOSURE_TIMEOUT, 30m)")
    .option("--cache-dir <dir>", "keep dnf's metadata here between runs (default: a temporary folder, removed)")
    .addHelpText(
      "after",
      `
Runs the dnf named by RELENGD_DNF (default dnf; dnf 4 with dnf-plugins-core, or dnf 5) with its own
install root, configuration and cache: the host's repositories take no part. Blame stays empty
(the Koji tag history lives in the server's database).

Exit codes: 0 nothing is broken, 1 something is (the report says what), 2 usage error, 3 the check
could not run (a repository that cannot be read, dnf missing, the timeout; the error on stderr).

  relengd report broken-deps --repo f45-build='https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/' \\
    --arch x86_64 --arch aarch64 --output json`,
    )
    .action(brokenDeps);
}
