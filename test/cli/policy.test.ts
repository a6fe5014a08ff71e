// `relengd policy lint|test` offline and `policy explain|reload` against a real `relengd serve`, the CLI as child processes.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { repoRoot, runRelengd, serverEnvironment } from "../support/cliProcess.js";
import { cleanEnv, startServerProcess, type ServerProcess } from "../support/serverProcess.js";

const shipped = path.join(repoRoot, "policies");

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
  let brokenEnvironments: string;
  let frozen: string;
  let artifactFile: string;
  let resultsFile: string;
  const relengd = (args: string[]) => runRelengd(args, cleanEnv());

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

    // An environment on an undeclared repository, beside a policy with a bad trigger and one naming no environment.
    brokenEnvironments = path.join(dir, "broken-environments");
    mkdirSync(brokenEnvironments);
    writeFileSync(
      path.join(brokenEnvironments, "environments.yaml"),
      ["apiVersion: relengd/v1", "kind: Environments", "repositories: [{name: gitops}]", "environments:", "  - {name: rawhide, repository: elsewhere, kind: KojiTag, kojiTag: {tag: f45}}", ""].join("\n"),
    );
    cpSync(path.join(broken, "bad-trigger.yaml"), path.join(brokenEnvironments, "bad-trigger.yaml"));
    cpSync(path.join(broken, "nowhere.yaml"), path.join(brokenEnvironments, "nowhere.yaml"));

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
      `${broken}/nowhere.yaml:6: /spec/release/environment: no environment f99-nowhere in ${broken}/environments.yaml`,
      `${broken}/rawhide-auto.yaml:5: /metadata/name: policy rawhide-auto is also defined in ${broken}/rawhide-auto-copy.yaml`,
    ]);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nowhere: no such directory");
  });

  it("checks the policy files when environments.yaml is broken, but not the environments they name", async () => {
    const run = await relengd(["policy", "lint", brokenEnvironments]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      `${brokenEnvironments}/environments.yaml:5: /environments/0/repository: no repository named elsewhere`,
      expect.stringMatching(new RegExp(`^${brokenEnvironments}/bad-trigger\\.yaml:5: /spec/on/0: .*"artifact"`)),
      "2 policies, 0 environments, 2 problems",
    ]);
  });

  it("reads the facts files policies/facts.yaml names: a broken or missing one is a problem on its source's line", async () => {
    const copy = path.join(dir, "broken-facts");
    cpSync(shipped, copy, { recursive: true });
    writeFileSync(path.join(copy, "facts/groups.json"), '{"packager": "jdoe"}');
    rmSync(path.join(copy, "facts/distgit.json"));
    const run = await relengd(["policy", "lint", copy]);
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1)).toEqual([
      `${copy}/facts.yaml:11: /spec/sources/groups: facts/groups.json: /packager: must be a list, not a string`,
      `${copy}/facts.yaml:13: /spec/sources/distgit: facts/distgit.json does not exist in ${copy}`,
    ]);
    expect(lines.at(-1)).toMatch(/^\d+ policies, \d+ environments, 2 problems$/);
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
  let server: ServerProcess | undefined;
  let url: string;
  let ciToken: string;
  let adminToken: string;
  let releaserToken: string;
  const tag = `p${process.pid}`;

  const relengd = (args: string[], token: string) => runRelengd(args, { ...cleanEnv(), RELENGD_URL: url, RELENGD_TOKEN: token });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policy-server-"));
    const remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    policiesDir = path.join(dir, "policies");
    cpSync(shipped, policiesDir, { recursive: true });
    const serverEnv = await serverEnvironment(dir, { RELENGD_POLICIES_DIR: policiesDir, RELENGD_GITOPS_REPO: remote, RELENGD_LOG_LEVEL: "warn" });
    server = await startServerProcess(serverEnv);
    url = server.url;
    const [ci, admin, releaser] = await Promise.all([
      runRelengd(["token", "issue", "--subject", "fedora-ci", "--role", "ci"], serverEnv),
      runRelengd(["token", "issue", "--subject", "root", "--role", "admin"], serverEnv),
      runRelengd(["token", "issue", "--subject", "releng", "--role", "releaser"], serverEnv),
    ]);
    releaserToken = releaser.stdout.trim();
    expect(ci.code, ci.stderr).toBe(0);
    expect(admin.code, admin.stderr).toBe(0);
    ciToken = ci.stdout.trim();
    adminToken = admin.stdout.trim();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
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

  it("waives a failed tier0 result with `relengd waive`: rawhide-auto fires, and explain says who waived and why", async () => {
    const push = async (id: string) => {
      const res = await fetch(`${url}/api/v1/artifacts`, {
        method: "POST",
        headers: { authorization: `Bearer ${ciToken}`, "content-type": "application/json" },
        body: JSON.stringify(rawhideBuild(id, `${id}-pkg`, [{ testcase: TIER0, outcome: "FAILED" }])),
      });
      expect(res.status, await res.text()).toBe(201);
    };
    const [table, json] = [`${tag}-waived`, `${tag}-waived-json`];
    await Promise.all([push(table), push(json)]);
    const because = "Testing Farm outage, see releng#1234";
    const waived = await relengd(["waive", table, "--testcase", TIER0, "--comment", because], releaserToken);
    expect(waived.code, waived.stderr).toBe(0);
    expect(waived.stdout).toMatch(new RegExp(`^waived ${TIER0} on ${table} \\(waiver ${ULID}\\)$`, "m"));
    const why = `required testcase ${TIER0} is FAILED; waived by releng: ${because}`;
    expect(waived.stdout).toMatch(new RegExp(`^rawhide-auto\\s+FIRED → ${ULID} \\(`, "m"));
    expect(waived.stdout).toContain(`(${why})`);

    const asJson = await relengd(["waive", json, "--testcase", TIER0, "--comment", because, "--output", "json"], releaserToken);
    expect(asJson.code, asJson.stderr).toBe(0);
    const body = JSON.parse(asJson.stdout) as { waiver: { username: string; inForce: boolean }; decisions: { policy: string; fired: boolean; reason: string }[] };
    expect(body.waiver).toMatchObject({ username: "releng", inForce: true });
    expect(body.decisions).toContainEqual(expect.objectContaining({ policy: "rawhide-auto", fired: true, reason: why }));

    const [explain, list, byCi, badTestcase] = await Promise.all([
      relengd(["policy", "explain", table], ciToken),
      relengd(["waivers", table, "--output", "json"], ciToken),
      relengd(["waive", table, "--testcase", TIER0, "--comment", "x"], ciToken),
      relengd(["waive", table, "--testcase", "not a testcase", "--comment", "x"], releaserToken),
    ]);
    expect(explain.stdout).toMatch(new RegExp(`^\\S+Z\\s+rawhide-auto\\s+waiver\\s+FIRED → ${ULID} \\(required testcase`, "m"));
    expect(explain.stdout).toContain(`waived by releng: ${because}`);
    expect(JSON.parse(list.stdout).items).toMatchObject([{ testcase: TIER0, username: "releng", source: "api", inForce: true }]);
    expect(byCi.code).toBe(1);
    expect(byCi.stderr).toMatch(/403/);
    expect(badTestcase.code).toBe(2);
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
