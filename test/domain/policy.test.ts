import { describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type CiResultItem } from "../../src/domain/artifact.js";
import type { Freeze } from "../../src/domain/freeze.js";
import { decide, parsePolicyYaml, type DecisionContext, type Policy } from "../../src/domain/policy.js";
import { sampleArtifact } from "../support/artifacts.js";

const TIER0 = "fedora-ci.koji-build.tier0.functional";

function policy(yaml: string): Policy {
  const r = parsePolicyYaml(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const rawhideAuto = policy(`
apiVersion: relengd/v1
kind: Policy
metadata: {name: rawhide-auto}
spec:
  on: [artifact, results]
  match:
    release: [rawhide]
    package: ["*", "!kernel"]
  require:
    results:
      - testcase: fedora-ci.koji-build.tier0.*
  release:
    environment: rawhide
`);

function artifact(overrides: Parameters<typeof sampleArtifact>[0] = {}): Artifact {
  const r = parseArtifact(sampleArtifact({ release: "rawhide", items: [{ kind: "koji-build", nvr: "python-requests-2.32.3-1.fc45" }], ...overrides }));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const result = (testcase: string, outcome: CiResultItem["outcome"]): CiResultItem => ({ kind: "ci-result", testcase, outcome });

function ctx(over: Partial<DecisionContext> = {}): DecisionContext {
  return { now: new Date("2026-11-25T12:00:00Z"), results: [], waivers: [], freezes: [], pushedAt: new Map(), environmentExists: true, ...over };
}

describe("policy decisions", () => {
  it("fires when the artifact matches and its required testcase passed", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ results: [result(TIER0, "PASSED")] }))).toEqual({ fire: true });
  });

  it("waits, saying which testcase, while the required result is missing or running", () => {
    expect(decide(rawhideAuto, artifact(), ctx())).toEqual({ fire: false, waiting: true, reason: "required testcase fedora-ci.koji-build.tier0.* has no result yet" });
    expect(decide(rawhideAuto, artifact(), ctx({ results: [result(TIER0, "RUNNING")] }))).toMatchObject({ fire: false, waiting: true, reason: `required testcase ${TIER0} is RUNNING` });
  });

  it("skips with the reason in words when a required testcase failed", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ results: [result(TIER0, "FAILED")] }))).toEqual({
      fire: false,
      waiting: false,
      reason: `required testcase ${TIER0} is FAILED (needs PASSED)`,
    });
  });

  it("lets an appended result override the artifact's own item for the same testcase", () => {
    const a = artifact({ items: [{ kind: "koji-build", nvr: "python-requests-2.32.3-1.fc45" }, { kind: "ci-result", testcase: TIER0, outcome: "RUNNING" }] });
    expect(decide(rawhideAuto, a, ctx({ results: [result(TIER0, "PASSED")] }))).toEqual({ fire: true });
  });

  it("honours ! negation in matches", () => {
    const kernel = artifact({ package: "kernel", items: [{ kind: "koji-build", nvr: "kernel-6.12.0-1.fc45" }] });
    expect(decide(rawhideAuto, kernel, ctx({ results: [result(TIER0, "PASSED")] }))).toMatchObject({ fire: false, reason: "package kernel does not match *, !kernel" });
    expect(decide(rawhideAuto, artifact({ release: "f44" }), ctx())).toMatchObject({ fire: false, reason: "release f44 does not match rawhide" });
  });

  it("is blocked by a hold and by a freeze, naming when the freeze opens", () => {
    const passed = { results: [result(TIER0, "PASSED")] };
    expect(decide(rawhideAuto, artifact(), ctx({ ...passed, hold: { reason: "rolled back by alice" } }))).toMatchObject({ fire: false, reason: "rawhide/python-requests is held: rolled back by alice" });
    const freeze: Freeze = { start: "2026-11-20T00:00:00Z", end: "2026-12-01T00:00:00Z", reason: "Final freeze", exceptions: { packages: [], artifacts: [] } };
    expect(decide(rawhideAuto, artifact(), ctx({ ...passed, freezes: [freeze] }))).toEqual({ fire: false, waiting: true, reason: "environment rawhide frozen until 2026-12-01 (Final freeze)" });
    const excepted: Freeze = { ...freeze, exceptions: { packages: ["python-*"], artifacts: [] } };
    expect(decide(rawhideAuto, artifact(), ctx({ ...passed, freezes: [excepted] }))).toEqual({ fire: true });
    expect(decide(rawhideAuto, artifact(), ctx({ ...passed, freezes: [freeze], now: new Date("2026-12-01T00:00:00Z") }))).toEqual({ fire: true });
  });

  it("requires a minimum age since the push to a previous environment", () => {
    const stable = policy(`
apiVersion: relengd/v1
kind: Policy
metadata: {name: f44-stable}
spec:
  on: [schedule]
  schedule: {cron: "0 * * * *"}
  require: {noFailed: true, minAge: {duration: 7d, sincePushedTo: f44-updates-testing}}
  release: {environment: f44-updates}
`);
    const pushedAt = new Map([["f44-updates-testing", new Date("2026-11-20T12:00:00Z")]]);
    expect(decide(stable, artifact(), ctx({ pushedAt }))).toMatchObject({ fire: false, waiting: true, reason: expect.stringContaining("7d not yet passed (due 2026-11-27T12:00:00.000Z)") });
    expect(decide(stable, artifact(), ctx({ pushedAt, now: new Date("2026-11-27T12:00:00Z") }))).toEqual({ fire: true });
    expect(decide(stable, artifact(), ctx({ pushedAt, now: new Date("2026-11-28T00:00:00Z"), results: [result("dist.rpmdeplint", "FAILED")] }))).toMatchObject({ fire: false, reason: "testcase dist.rpmdeplint is FAILED" });
  });

  it("does not fire twice for an artifact already released to the target", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ results: [result(TIER0, "PASSED")], alreadyReleased: { releaseId: "01J", status: "pushed" } }))).toMatchObject({ fire: false, reason: "already released to rawhide (release 01J, pushed)" });
  });

  it("matches on an EVR range of the artifact's koji build, in rpm's order", () => {
    const inRange = (evr: string, nvr = "python-requests-2.32.3-1.fc45") =>
      decide(policy(`apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: evr}\nspec:\n  on: [artifact]\n  match: {evr: "${evr}"}\n  release: {environment: rawhide}\n`), artifact({ items: [{ kind: "koji-build", nvr }] }), ctx());
    expect(inRange(">= 2.32, < 3")).toEqual({ fire: true });
    expect(inRange(">= 2.32.4")).toEqual({ fire: false, waiting: false, reason: "nvr python-requests-2.32.3-1.fc45 is outside evr range >= 2.32.4" });
    // rpm, not string order: 2.32.10 is newer than 2.32.9, and a ~ pre-release is older than its release.
    expect(inRange("> 2.32.9", "python-requests-2.32.10-1.fc45")).toEqual({ fire: true });
    expect(inRange("< 2.32.3", "python-requests-2.32.3~rc1-1.fc45")).toEqual({ fire: true });
    expect(inRange(">= 2.32.3", "python-requests-2.32.3~rc1-1.fc45")).toMatchObject({ fire: false });
    // An epoch outranks any version; a bound without a release matches every release of that version.
    expect(inRange("< 3", "1:python-requests-2.0-1.fc45")).toMatchObject({ fire: false, reason: "nvr 1:python-requests-2.0-1.fc45 is outside evr range < 3" });
    expect(inRange("= 2.32.3")).toEqual({ fire: true });
    expect(inRange("> 2.32.3-1.fc44")).toEqual({ fire: true });
  });

  it("lets any koji build of a multi-build artifact meet the EVR range, and skips an artifact without builds", () => {
    const evrPolicy = policy(`apiVersion: relengd/v1
kind: Policy
metadata: {name: evr}
spec:
  on: [artifact]
  match: {evr: ">= 2.0"}
  release: {environment: rawhide}
`);
    const multi = artifact({ items: [{ kind: "koji-build", nvr: "python-requests-1.9-1.fc45" }, { kind: "koji-build", nvr: "python-urllib3-2.2.3-1.fc45" }] });
    expect(decide(evrPolicy, multi, ctx())).toEqual({ fire: true });
    const compose = artifact({ items: [{ kind: "compose", composeId: "Fedora-Rawhide-20260101.n.0", status: "FINISHED" }] });
    expect(decide(evrPolicy, compose, ctx())).toEqual({ fire: false, waiting: false, reason: "artifact has no koji-build to match evr >= 2.0" });
  });

  it("rejects an EVR range it cannot read when the policy is loaded, naming line and field", () => {
    for (const [range, says] of [
      ["2.0", 'constraint "2.0" that is not an operator'],
      ["=> 2.0", 'constraint "=> 2.0" that is not an operator'],
      [">= 2.0,", "empty constraint"],
      [">= x:2.0", 'epoch "x" that is not a number'],
      [">= 1-2-3", 'version "1-2"'],
    ]) {
      const r = parsePolicyYaml(`apiVersion: relengd/v1
kind: Policy
metadata: {name: x}
spec:
  on: [artifact]
  match:
    package: [python-*]
    evr: "${range}"
  release: {environment: rawhide}
`);
      expect(r.ok, range).toBe(false);
      if (!r.ok) {
        expect(r.issues).toHaveLength(1);
        expect(r.issues[0]).toMatchObject({ path: "/spec/match/evr", line: 8, message: expect.stringContaining(says!) });
      }
    }
  });

  it("checks a schedule with domain/schedule, naming the cron field or the time zone at fault", () => {
    const scheduled = (cron: string, timezone: string) =>
      parsePolicyYaml(`apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: x}\nspec:\n  on: [schedule]\n  schedule: {cron: "${cron}", timezone: ${timezone}}\n  release: {environment: rawhide}\n`);
    expect(scheduled("0 5 * * *", "Europe/Prague").ok).toBe(true);
    expect(scheduled("@daily", "UTC").ok).toBe(true);
    for (const [cron, timezone, path, says] of [
      ["0 5 1 * MON", "UTC", "/spec/schedule/cron", "day-of-week: restricts the day with day-of-month restricted too"],
      ["0 5 * * FRI-MON", "UTC", "/spec/schedule/cron", "day-of-week: range FRI-MON runs backwards"],
      ["0 2 * * *", "Europe/Prague", "/spec/schedule/cron", "hour: Europe/Prague moves its clocks within hour 2"],
      ["0 5 * * *", "Mars/Olympus", "/spec/schedule/timezone", 'timezone: "Mars/Olympus" is not an IANA time zone'],
    ] as const) {
      const r = scheduled(cron, timezone);
      expect(r.ok, cron).toBe(false);
      if (!r.ok) expect(r.issues[0]).toMatchObject({ path, line: 6, message: expect.stringContaining(says) });
    }
  });

  it("rejects a broken policy file naming line and field", () => {
    const r = parsePolicyYaml(`apiVersion: relengd/v1
kind: Policy
metadata: {name: x}
spec:
  on: [pushed]
  release: {environment: rawhide}
`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ path: "/spec/on/0", line: 5 });
    const noCron = parsePolicyYaml("apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: x}\nspec:\n  on: [schedule]\n  release: {environment: rawhide}\n");
    expect(noCron.ok).toBe(false);
  });
});
