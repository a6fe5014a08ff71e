// `relengd policy lint|test` offline and `policy explain|reload` against a real `relengd serve`, the CLI as child processes.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cliEntry = path.join(repoRoot, "src/cli/main.ts");
const shipped = path.join(repoRoot, "policies");

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test process's environment without anything that would steer relengd or fill CLI defaults. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(RELENGD_|CI_|GITHUB_)/.test(k)));
}

function spawnRelengd(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // --import tsx resolves from the working directory, so children run in the repository.
  return spawn(process.execPath, ["--import", "tsx", cliEntry, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
}

function collect(child: ChildProcess): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nobody listens on right now: bind to 0, read it, let it go. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      probe.close(() => resolve(address.port));
    });
  });
}

const SHA = "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901";
const TIER0 = "fedora-ci.koji-build.tier0.functional";
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";

/** A Rawhide koji build as Fedora CI pushes it: rawhide-auto matches it and waits for tier-0. */
function rawhideBuild(id: string, pkg: string, results: { testcase: string; outcome: string }[] = []) {
  return {
    id,
    package: pkg,
    release: "rawhide",
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: SHA, branch: "rawhide", event: "build" },
    items: [{ kind: "koji-build", nvr: `${pkg}-2.32.3-1.fc45` }, ...results.map((r) => ({ kind: "ci-result", ...r }))],
    context: {},
  };
}

describe("relengd policy lint and policy test (offline)", () => {
  let dir: string;
  let broken: string;
  let frozen: string;
  let artifactFile: string;
  let resultsFile: string;
  const relengd = (args: string[]) => collect(spawnRelengd(args, cleanEnv()));

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policy-cli-"));

    broken = path.join(dir, "broken");
    mkdirSync(broken);
    cpSync(path.join(shipped, "environments.yaml"), path.join(broken, "environments.yaml"));
    cpSync(path.join(shipped, "rawhide-auto.yaml"), path.join(broken, "rawhide-auto.yaml"));
    writeFileSync(
      path.join(broken, "bad-trigger.yaml"),
      ["apiVersion: relengd/v1", "kind: Policy", "metadata: {name: bad-trigger}", "spec:", "  on: [push]", "  release: {environment: rawhide}", ""].join("\n"),
    );
    writeFileSync(
      path.join(broken, "nowhere.yaml"),
      ["apiVersion: relengd/v1", "kind: Policy", "metadata: {name: nowhere}", "spec:", "  on: [artifact]", "  release: {environment: f99-nowhere}", ""].join("\n"),
    );
    // The same metadata.name as rawhide-auto.yaml, in a file read after it.
    cpSync(path.join(shipped, "rawhide-auto.yaml"), path.join(broken, "rawhide-auto-copy.yaml"));

    // The shipped policies with a freeze on rawhide around the dry run's --now.
    frozen = path.join(dir, "frozen");
    cpSync(shipped, frozen, { recursive: true });
    const environments = parse(readFileSync(path.join(frozen, "environments.yaml"), "utf8")) as { environments: { name: string; freezes?: unknown[] }[] };
    const rawhide = environments.environments.find((e) => e.name === "rawhide");
    if (!rawhide) throw new Error("the shipped environments.yaml has no rawhide");
    rawhide.freezes = [{ start: "2026-11-30T00:00:00Z", end: "2026-12-08T00:00:00Z", reason: "mass rebuild" }];
    writeFileSync(path.join(frozen, "environments.yaml"), stringify(environments));

    artifactFile = path.join(dir, "artifact.json");
    writeFileSync(artifactFile, JSON.stringify(rawhideBuild("rawhide-1", "python-requests")));
    resultsFile = path.join(dir, "results.json");
    writeFileSync(resultsFile, JSON.stringify({ results: [{ kind: "ci-result", testcase: TIER0, outcome: "PASSED" }] }));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes the shipped policies, reports each problem of a broken folder as file:line, and refuses a missing folder", async () => {
    const [ok, bad, missing] = await Promise.all([
      relengd(["policy", "lint", "policies"]),
      relengd(["policy", "lint", broken]),
      relengd(["policy", "lint", path.join(dir, "nowhere")]),
    ]);

    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^\d+ policies, \d+ environments, 0 problems\n$/);

    expect(bad.code, bad.stderr).toBe(1);
    const lines = bad.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^4 policies, \d+ environments, 3 problems$/);
    expect(lines.slice(0, -1)).toEqual([
      expect.stringMatching(new RegExp(`^${broken}/bad-trigger\\.yaml:5: /spec/on/0: .*"artifact"`)),
      `${broken}/nowhere.yaml:1: /spec/release/environment: no environment f99-nowhere in ${broken}/environments.yaml`,
      `${broken}/rawhide-auto.yaml:1: /metadata/name: policy rawhide-auto is also defined in ${broken}/rawhide-auto-copy.yaml`,
    ]);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nowhere: no such directory");
  });

  it("dry-runs an artifact file: fires once tier-0 passed, waits without results, waits during a freeze", async () => {
    const now = "2026-12-01T12:00:00Z";
    const [passed, waiting, duringFreeze, json] = await Promise.all([
      relengd(["policy", "test", "--file", artifactFile, "--results", resultsFile, "--now", now]),
      relengd(["policy", "test", "--file", artifactFile, "--now", now]),
      relengd(["policy", "test", "--file", artifactFile, "--results", resultsFile, "--dir", frozen, "--now", now]),
      relengd(["policy", "test", "--file", artifactFile, "--output", "json", "--now", now]),
    ]);

    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toContain("dry run: artifact rawhide-1 (python-requests, rawhide) on event results at 2026-12-01T12:00:00.000Z; nothing is written\n");
    expect(passed.stdout).toMatch(/^holds: none /m);
    expect(passed.stdout).toMatch(/^rawhide-auto\s+FIRE\s+rawhide\s+would release python-requests-2\.32\.3-1\.fc45 to rawhide/m);
    expect(passed.stdout).toMatch(/^f44-updates-testing\s+SKIP\s+f44-updates-testing\s+release rawhide does not match f44$/m);

    expect(waiting.code, waiting.stderr).toBe(0);
    expect(waiting.stdout).toMatch(/^rawhide-auto\s+SKIP\s+rawhide\s+\(waiting\) required testcase fedora-ci\.koji-build\.tier0\.\* has no result yet$/m);

    expect(duringFreeze.code, duringFreeze.stderr).toBe(0);
    expect(duringFreeze.stdout).toMatch(/^rawhide-auto\s+SKIP\s+rawhide\s+\(waiting\) environment rawhide frozen until 2026-12-08 \(mass rebuild\)$/m);

    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { event: string; holds: string; decisions: { policy: string; decision: string; environment: string; waiting: boolean; reason: string }[] };
    expect(report.event).toBe("artifact");
    expect(report.holds).toMatch(/^none/);
    expect(report.decisions).toContainEqual({
      policy: "rawhide-auto",
      decision: "SKIP",
      fire: false,
      environment: "rawhide",
      waiting: true,
      reason: "required testcase fedora-ci.koji-build.tier0.* has no result yet",
    });
  });

  it("refuses an invalid artifact or results file (1) and a missing file or bad flag (2)", async () => {
    const badArtifact = path.join(dir, "bad-artifact.json");
    writeFileSync(badArtifact, JSON.stringify({ ...rawhideBuild("rawhide-2", "python-requests"), release: "Rawhide!" }));
    const badResults = path.join(dir, "bad-results.json");
    writeFileSync(badResults, JSON.stringify([{ kind: "ci-result", testcase: TIER0, outcome: "GREEN" }]));
    const [invalidArtifact, invalidResults, missing, badNow] = await Promise.all([
      relengd(["policy", "test", "--file", badArtifact]),
      relengd(["policy", "test", "--file", artifactFile, "--results", badResults]),
      relengd(["policy", "test", "--file", path.join(dir, "none.json")]),
      relengd(["policy", "test", "--file", artifactFile, "--now", "tomorrow"]),
    ]);
    expect(invalidArtifact.code).toBe(1);
    expect(invalidArtifact.stderr).toContain(`${badArtifact}: not a valid artifact\n  /release: must be a distro release`);
    expect(invalidResults.code).toBe(1);
    expect(invalidResults.stderr).toContain(`${badResults}: not a valid results file`);
    expect(invalidResults.stderr).toContain("  /0/outcome: ");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("none.json: no such file");
    expect(badNow.code).toBe(2);
    expect(badNow.stderr).toContain("--now must be an ISO 8601 time");
    for (const run of [invalidArtifact, invalidResults, missing, badNow]) expect(run.stdout).toBe("");
  });
});

describe("relengd policy explain and reload against a running server", () => {
  let dir: string;
  let policiesDir: string;
  let serverEnv: NodeJS.ProcessEnv;
  let server: ChildProcess;
  let serverRun: Promise<CliRun>;
  let url: string;
  let ciToken: string;
  let adminToken: string;
  const tag = `p${process.pid}`;

  const relengd = (args: string[], token: string): Promise<CliRun> => collect(spawnRelengd(args, { ...cleanEnv(), RELENGD_URL: url, RELENGD_TOKEN: token }));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policy-server-"));
    const remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    policiesDir = path.join(dir, "policies");
    cpSync(shipped, policiesDir, { recursive: true });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    serverEnv = {
      ...cleanEnv(),
      RELENGD_DATA_DIR: dir,
      RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
      RELENGD_HOST: "127.0.0.1",
      RELENGD_PORT: String(port),
      RELENGD_POLICIES_DIR: policiesDir,
      RELENGD_GITOPS_REPO: remote,
      RELENGD_LOG_LEVEL: "warn",
    };
    server = spawnRelengd(["serve"], serverEnv);
    serverRun = collect(server);
    let exited: CliRun | undefined;
    void serverRun.then((r) => (exited = r));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited) throw new Error(`relengd serve exited with ${exited.code} before answering:\n${exited.stdout}${exited.stderr}`);
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error("relengd serve did not answer /healthz within 20 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const [ci, admin] = await Promise.all([
      collect(spawnRelengd(["token", "issue", "--subject", "fedora-ci", "--role", "ci"], serverEnv)),
      collect(spawnRelengd(["token", "issue", "--subject", "root", "--role", "admin"], serverEnv)),
    ]);
    expect(ci.code, ci.stderr).toBe(0);
    expect(admin.code, admin.stderr).toBe(0);
    ciToken = ci.stdout.trim();
    adminToken = admin.stdout.trim();
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill("SIGTERM");
      await serverRun;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("explains why a pushed rawhide build was released by rawhide-auto and not by the f44 policy", async () => {
    const id = `${tag}-requests`;
    const pushed = await fetch(`${url}/api/v1/artifacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${ciToken}`, "content-type": "application/json" },
      body: JSON.stringify(rawhideBuild(id, "python-requests", [{ testcase: TIER0, outcome: "PASSED" }])),
    });
    expect(pushed.status, await pushed.text()).toBe(201);

    const [table, json, unknown] = await Promise.all([
      relengd(["policy", "explain", id], ciToken),
      relengd(["policy", "explain", id, "--output", "json"], ciToken),
      relengd(["policy", "explain", `${tag}-nothing`], ciToken),
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^TIME\s+POLICY\s+EVENT\s+DECISION$/m);
    expect(table.stdout).toMatch(new RegExp(`^\\S+Z\\s+rawhide-auto\\s+artifact\\s+FIRED → ${ULID}$`, "m"));
    expect(table.stdout).toMatch(/^\S+Z\s+f44-updates-testing\s+artifact\s+SKIPPED release rawhide does not match f44$/m);
    expect(json.code, json.stderr).toBe(0);
    const { items } = JSON.parse(json.stdout) as { items: { policy: string; fired: boolean; releaseId: string | null }[] };
    expect(items).toContainEqual(expect.objectContaining({ policy: "rawhide-auto", fired: true, releaseId: expect.stringMatching(new RegExp(`^${ULID}$`)) }));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404/);
  });

  it("reloads the policies with an admin token and prints the problems of a broken file", async () => {
    const reloaded = await relengd(["policy", "reload"], adminToken);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(reloaded.stdout).toMatch(/^reloaded: \d+ policies, \d+ environments\n$/);

    writeFileSync(path.join(policiesDir, "broken.yaml"), ["apiVersion: relengd/v1", "kind: Policy", "metadata: {name: broken}", "spec:", "  on: [push]", "  release: {environment: rawhide}", ""].join("\n"));
    const [refused, notAdmin] = await Promise.all([relengd(["policy", "reload"], adminToken), relengd(["policy", "reload"], ciToken)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the previous set stays in force");
    expect(refused.stderr).toContain(`${policiesDir}/broken.yaml:5: /spec/on/0: `);
    expect(refused.stdout).toBe("");
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/403/);
  });
});
