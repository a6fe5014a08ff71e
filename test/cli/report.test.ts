// `relengd report broken-deps` as a CI job runs it: a real process, the real dnf over real RPM
// repositories, no server and no database; what it prints and its exit codes.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBrokenDepsReport } from "../../src/domain/brokenDeps.js";
import { repoRoot, runRelengd, type CliRun } from "../support/cliProcess.js";
import { designedRepos, haveRpmTools, makeRepo } from "../support/rpmRepo.js";
import { cleanEnv } from "../support/serverProcess.js";

// CI installs dnf, dnf-plugins-core, rpm and createrepo_c (.ci/run); nothing is skipped there.
const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;

const report = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runRelengd(["report", "broken-deps", ...args], { ...cleanEnv(), ...env });
/** The generation time is the run's own: replaced so a whole output can be compared. */
const withoutTime = (text: string): string => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>");

maybe("relengd report broken-deps", () => {
  let dir: string;
  let repos: ReturnType<typeof designedRepos>;
  let clean: { url: string };
  let designedArgs: string[];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-report-cli-"));
    repos = designedRepos(dir);
    clean = makeRepo(dir, "clean", [{ name: "omega", noarch: true, files: ["/usr/share/omega/data"] }, { name: "psi", noarch: true, requires: ["/usr/share/omega/data"] }]);
    designedArgs = ["--repo", `main=${repos.main.url}`, "--lookaside", `lookaside=${repos.lookaside.url}`, "--arch", "x86_64", "aarch64"];
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints spam-o-matic's form of exactly the designed unresolved set and exits 1", async () => {
    const run = await report(designedArgs);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    // dnf 4 prints a package's dependencies in a different order each run; the report's is fixed.
    expect(withoutTime(run.stdout)).toBe(
      [
        "Broken dependencies in main (<time>)",
        "5 unresolved dependencies in 4 packages from 3 source packages.",
        "",
        "Broken deps for x86_64",
        "-".repeat(58),
        "[alpha]",
        "\talpha-1.0-1.fc45.noarch requires /usr/bin/nothere",
        "\talpha-1.0-1.fc45.noarch requires libbeta >= 2",
        "[beta]",
        "\tbeta-tools-1.0-1.fc45.x86_64 requires missingcap(foo)",
        "",
        "Broken deps for aarch64",
        "-".repeat(58),
        "[alpha]",
        "\talpha-1.0-1.fc45.noarch requires /usr/bin/nothere",
        "\talpha-1.0-1.fc45.noarch requires libbeta >= 2",
        "[beta]",
        "\tbeta-tools-1.0-1.fc45.aarch64 requires missingcap(foo)",
        "[kappa]",
        "\tkappa-1.0-1.fc45.aarch64 requires lambda-aarch64-only",
        "",
      ].join("\n"),
    );
  }, 180_000);

  it("with --output json prints the report alone, in the report's format, and exits 1", async () => {
    const run = await report([...designedArgs, "--output", "json", "--tree", "f45-build"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    const parsed = parseBrokenDepsReport(run.stdout);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.report.tree).toBe("f45-build");
    const expected = Object.fromEntries(Object.entries(repos.expected).map(([arch, rows]) => [arch, rows.map((r) => ({ ...r, repo: "main", unresolved: [...r.unresolved].sort(), blame: [] }))]));
    expect(parsed.report.arches).toEqual(expected);
    // Every arch asked for is there, in the order asked.
    expect(Object.keys(parsed.report.arches)).toEqual(["x86_64", "aarch64"]);
  }, 180_000);

  it("exits 0 when nothing is broken, and keeps dnf's metadata in --cache-dir when asked", async () => {
    const cache = path.join(dir, "cache");
    const [text, json] = await Promise.all([
      report(["--repo", `clean=${clean.url}`, "--arch", "x86_64", "--cache-dir", cache]),
      report(["--repo", `clean=${clean.url}`, "--arch", "x86_64", "s390x", "--output", "json"]),
    ]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(withoutTime(text.stdout)).toBe("Broken dependencies in clean (<time>)\nNo broken dependencies.\n");
    expect(readdirSync(cache).length).toBeGreaterThan(0);
    expect(json).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(json.stdout)).toMatchObject({ tree: "clean", arches: { x86_64: [], s390x: [] } });
  }, 180_000);

  it("exits 3 with the error on stderr when a repository cannot be read, never 0", async () => {
    const [text, json] = await Promise.all([
      report(["--repo", `main=file://${dir}/no-such-repo`, "--arch", "x86_64"]),
      report(["--repo", `main=file://${dir}/no-such-repo`, "--arch", "x86_64", "--output", "json"]),
    ]);
    for (const run of [text, json]) {
      expect(run.code).toBe(3);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^relengd: the check could not run: dnf repoclosure for x86_64 failed \(exit 1\): .*main/);
    }
  }, 180_000);

  it("exits 3 when dnf is missing, and when dnf hangs past --timeout (RELENGD_DNF respected)", async () => {
    const hanging = path.join(dir, "hanging-dnf");
    writeFileSync(hanging, "#!/bin/sh\nexec sleep 600\n");
    chmodSync(hanging, 0o755);
    const [missing, hung] = await Promise.all([
      report(["--repo", `main=${repos.main.url}`, "--arch", "x86_64"], { RELENGD_DNF: path.join(dir, "no-dnf") }),
      report(["--repo", `main=${repos.main.url}`, "--arch", "x86_64", "--timeout", "1s"], { RELENGD_DNF: hanging }),
    ]);
    expect(missing).toMatchObject({ code: 3, stdout: "" });
    expect(missing.stderr).toContain("no-dnf");
    expect(hung).toMatchObject({ code: 3, stdout: "", stderr: "relengd: the check could not run: dnf repoclosure for x86_64 did not finish within 1 s and was killed\n" });
  }, 180_000);

  it("stops dnf when it is itself stopped (dnf runs in a process group of its own)", async () => {
    const pidFile = path.join(dir, "slow-dnf.pid");
    const slow = path.join(dir, "slow-dnf");
    writeFileSync(slow, `#!/bin/sh\necho $$ > "${pidFile}"\nexec sleep 600\n`);
    chmodSync(slow, 0o755);
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/cli/main.ts"), "report", "broken-deps", "--repo", `main=${repos.main.url}`, "--arch", "x86_64"], {
      cwd: repoRoot,
      env: { ...cleanEnv(), RELENGD_DNF: slow },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") await new Promise((r) => setTimeout(r, 50));
    const dnfPid = Number(readFileSync(pidFile, "utf8").trim());
    child.kill("SIGTERM");
    expect(await exited).toBe(3);
    expect(stderr).toContain("cancelled");
    // The process is gone (ESRCH), not left running as an orphan.
    expect(() => process.kill(dnfPid, 0)).toThrow();
  }, 180_000);
});

describe("relengd report broken-deps usage", () => {
  it("exits 2 naming the flag and the value for what it cannot run", { timeout: 120_000 }, async () => {
    const ok = ["--repo", "main=file:///srv/main"];
    const cases: [string[], RegExp][] = [
      [["--arch", "x86_64"], /required option '--repo <id=url\.\.\.>' not specified/],
      [[...ok], /required option '--arch <arch\.\.\.>' not specified/],
      [["--repo", "main", "--arch", "x86_64"], /--repo "main" is not ID=URL/],
      [["--repo", "main=ftp://x/y", "--arch", "x86_64"], /--repo "main=ftp:\/\/x\/y": must be a file:\/\/, http:\/\/ or https:\/\/ URL/],
      [[...ok, "--arch", "noarch"], /--arch "noarch": noarch is checked with every arch/],
      [[...ok, "--arch", "x86_64", "--check", "other"], /--check "other": other is not one of repos/],
      [[...ok, "--lookaside", "main=file:///srv/l", "--arch", "x86_64"], /--lookaside "main=file:\/\/\/srv\/l": repo id main is named twice/],
      [[...ok, "--arch", "x86_64", "--output", "yaml"], /--output must be text or json/],
      [[...ok, "--arch", "x86_64", "--timeout", "5"], /--timeout "5" is not a duration like 30m/],
    ];
    const runs = await Promise.all(cases.map(([args]) => report(args)));
    runs.forEach((run, i) => {
      const [args, message] = cases[i] as [string[], RegExp];
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout, args.join(" ")).toBe("");
      expect(run.stderr, args.join(" ")).toMatch(message);
    });
  });
});
