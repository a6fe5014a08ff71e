import { describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type CiResultItem } from "../../src/domain/artifact.js";
import { latestResults, standingWaivers, type ReceivedResult, type Waiver } from "../../src/domain/gating.js";
import { decide, parsePolicyYaml, type DecisionContext, type Policy } from "../../src/domain/policy.js";
import { sampleArtifact } from "../support/artifacts.js";

const TIER0 = "fedora-ci.koji-build.tier0.functional";
const T0 = Date.parse("2026-11-25T10:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

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
  match: {release: [rawhide]}
  require:
    results:
      - testcase: fedora-ci.koji-build.tier0.*
  release: {environment: rawhide}
`);

const noFailed = policy(`
apiVersion: relengd/v1
kind: Policy
metadata: {name: f44-testing}
spec:
  on: [artifact, results]
  require: {noFailed: true}
  release: {environment: f44-updates-testing}
`);

function artifact(items: Artifact["items"] = [{ kind: "koji-build", nvr: "python-requests-2.32.3-1.fc45" }]): Artifact {
  const r = parseArtifact(sampleArtifact({ release: "rawhide", items }));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

/** A result received by relengd `receivedMinute` minutes after T0, optionally telling its own time. */
function received(outcome: CiResultItem["outcome"], refUrl: string, receivedMinute: number, extra: Partial<CiResultItem> = {}): ReceivedResult {
  return { kind: "ci-result", testcase: TIER0, outcome, refUrl, ...extra, receivedAt: at(receivedMinute) };
}

function ctx(over: Partial<DecisionContext> = {}): DecisionContext {
  return { now: at(600), results: [], waivers: [], freezes: [], pushedAt: new Map(), environmentExists: true, artifactReceivedAt: at(0), ...over };
}

function waiver(minute: number, over: Partial<Waiver> = {}): Waiver {
  return { testcase: TIER0, waived: true, comment: "known flake in the test harness", username: "alice", waivedAt: at(minute), ...over };
}

describe("the latest result decides (Greenwave's rule)", () => {
  it("fires once a re-run with a new refUrl PASSED after a FAILED run", () => {
    // The reported case: FAILED on …/1, then the re-run PASSED on …/2.
    const results = [received("FAILED", "https://ci.example.org/run/1", 1), received("PASSED", "https://ci.example.org/run/2", 2)];
    expect(decide(rawhideAuto, artifact(), ctx({ results }))).toEqual({ fire: true });
  });

  it("is blocked again when a later run FAILED after a PASSED one", () => {
    const results = [received("PASSED", "https://ci.example.org/run/1", 1), received("FAILED", "https://ci.example.org/run/2", 2)];
    expect(decide(rawhideAuto, artifact(), ctx({ results }))).toEqual({ fire: false, waiting: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
  });

  it("orders by the result's own time: a message sent earlier but received later does not override a newer result", () => {
    // The re-run's PASSED (sent 10:05) arrived first; the first run's FAILED (sent 10:01) was redelivered at 10:30.
    const results = [
      received("PASSED", "https://ci.example.org/run/2", 6, { submittedAt: "2026-11-25T10:05:00Z" }),
      received("FAILED", "https://ci.example.org/run/1", 30, { submittedAt: "2026-11-25T10:01:00Z" }),
    ];
    expect(decide(rawhideAuto, artifact(), ctx({ results }))).toEqual({ fire: true });
    // And the other way round: a newer FAILED wins over an older PASSED whatever the arrival order.
    const reversed = [
      received("FAILED", "https://ci.example.org/run/2", 6, { submittedAt: "2026-11-25T10:05:00Z" }),
      received("PASSED", "https://ci.example.org/run/1", 30, { submittedAt: "2026-11-25T10:01:00Z" }),
    ];
    expect(decide(rawhideAuto, artifact(), ctx({ results: reversed }))).toMatchObject({ fire: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
  });

  it("compares zoned times as instants, not as text", () => {
    const results = [
      // 11:00+02:00 is 09:00Z: older than the FAILED at 09:30Z although its text sorts later.
      received("PASSED", "https://ci.example.org/run/2", 1, { submittedAt: "2026-11-25T11:00:00+02:00" }),
      received("FAILED", "https://ci.example.org/run/1", 2, { submittedAt: "2026-11-25T09:30:00Z" }),
    ];
    expect(decide(rawhideAuto, artifact(), ctx({ results }))).toMatchObject({ fire: false });
  });

  it("breaks a tie of equal times by arrival: the later arrival wins", () => {
    const same = { submittedAt: "2026-11-25T10:05:00Z" };
    const passedLast = [received("FAILED", "https://ci.example.org/run/1", 1, same), received("PASSED", "https://ci.example.org/run/2", 2, same)];
    expect(decide(rawhideAuto, artifact(), ctx({ results: passedLast }))).toEqual({ fire: true });
    const failedLast = [received("PASSED", "https://ci.example.org/run/2", 1, same), received("FAILED", "https://ci.example.org/run/1", 2, same)];
    expect(decide(rawhideAuto, artifact(), ctx({ results: failedLast }))).toMatchObject({ fire: false });
    // Arrival is when relengd received the outcome, not where the store lists it.
    const listedOutOfOrder = [failedLast[1] as ReceivedResult, failedLast[0] as ReceivedResult];
    expect(decide(rawhideAuto, artifact(), ctx({ results: listedOutOfOrder }))).toMatchObject({ fire: false });
  });

  it("keeps scenarios apart: each scenario's latest result must pass", () => {
    const x86 = { scenario: "fedora-rawhide-x86_64" };
    const arm = { scenario: "fedora-rawhide-aarch64" };
    const results = [
      received("FAILED", "https://ci.example.org/run/1", 1, x86),
      received("FAILED", "https://ci.example.org/run/2", 2, arm),
      received("PASSED", "https://ci.example.org/run/3", 3, x86),
    ];
    // The x86_64 re-run passed, but aarch64's only run failed: the PASSED of one scenario does not clear another.
    expect(decide(rawhideAuto, artifact(), ctx({ results }))).toEqual({
      fire: false,
      waiting: false,
      reason: `required testcase ${TIER0} (scenario fedora-rawhide-aarch64) is FAILED (needs PASSED)`,
    });
    const rerun = [...results, received("PASSED", "https://ci.example.org/run/4", 4, arm)];
    expect(decide(rawhideAuto, artifact(), ctx({ results: rerun }))).toEqual({ fire: true });
  });

  it("lets an appended result override the artifact's own item, unless the item tells a later time", () => {
    const own: Artifact["items"] = [{ kind: "koji-build", nvr: "python-requests-2.32.3-1.fc45" }, { kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://ci.example.org/run/1" }];
    expect(decide(rawhideAuto, artifact(own), ctx({ results: [received("PASSED", "https://ci.example.org/run/2", 5)] }))).toEqual({ fire: true });
    const ownLater: Artifact["items"] = [own[0] as Artifact["items"][number], { ...(own[1] as CiResultItem), submittedAt: "2026-11-25T10:20:00Z" }];
    expect(decide(rawhideAuto, artifact(ownLater), ctx({ results: [received("PASSED", "https://ci.example.org/run/2", 5, { submittedAt: "2026-11-25T10:10:00Z" })] }))).toMatchObject({ fire: false });
  });

  it("applies the rule to noFailed too: a failure a later run of the same testcase replaced no longer counts", () => {
    const results = [received("FAILED", "https://ci.example.org/run/1", 1), received("PASSED", "https://ci.example.org/run/2", 2)];
    expect(decide(noFailed, artifact(), ctx({ results }))).toEqual({ fire: true });
  });

  it("picks one result per (testcase, scenario) in latestResults", () => {
    const latest = latestResults([], at(0), [
      received("FAILED", "https://ci.example.org/run/1", 1),
      received("PASSED", "https://ci.example.org/run/2", 2, { scenario: "s1" }),
      received("ERROR", "https://ci.example.org/run/3", 3),
    ]);
    expect(latest.map((r) => [r.scenario ?? "-", r.outcome]).sort()).toEqual([
      ["-", "ERROR"],
      ["s1", "PASSED"],
    ]);
  });
});

describe("waivers", () => {
  const failed = [received("FAILED", "https://ci.example.org/run/1", 1)];

  it("lets a waived failed result count as met, and the decision says who waived and why", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ results: failed, waivers: [waiver(5)] }))).toEqual({
      fire: true,
      waived: [`required testcase ${TIER0} is FAILED; waived by alice: known flake in the test harness`],
    });
  });

  it("waives a missing required result", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ waivers: [waiver(5)] }))).toEqual({
      fire: true,
      waived: [`required testcase fedora-ci.koji-build.tier0.* has no result; waived by alice: known flake in the test harness`],
    });
  });

  it("is revoked by a later waiver with waived false, but not by an older one", () => {
    const revoke = waiver(10, { waived: false, comment: "the flake was a real bug", username: "bob" });
    expect(decide(rawhideAuto, artifact(), ctx({ results: failed, waivers: [waiver(5), revoke] }))).toMatchObject({ fire: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
    // A revocation made before the waiver (redelivered late) leaves the waiver standing.
    const oldRevoke = waiver(2, { waived: false });
    expect(standingWaivers([waiver(5), oldRevoke])).toHaveLength(1);
    expect(decide(rawhideAuto, artifact(), ctx({ results: failed, waivers: [waiver(5), oldRevoke] }))).toMatchObject({ fire: true });
  });

  it("waives only the scenario it names; one without a scenario waives them all", () => {
    const x86 = received("FAILED", "https://ci.example.org/run/1", 1, { scenario: "x86_64" });
    const arm = received("FAILED", "https://ci.example.org/run/2", 2, { scenario: "aarch64" });
    expect(decide(rawhideAuto, artifact(), ctx({ results: [x86, arm], waivers: [waiver(5, { scenario: "x86_64" })] }))).toMatchObject({
      fire: false,
      reason: `required testcase ${TIER0} (scenario aarch64) is FAILED (needs PASSED)`,
    });
    expect(decide(rawhideAuto, artifact(), ctx({ results: [x86, arm], waivers: [waiver(5)] }))).toMatchObject({ fire: true });
  });

  it("does not waive another testcase", () => {
    expect(decide(rawhideAuto, artifact(), ctx({ results: failed, waivers: [waiver(5, { testcase: "fedora-ci.koji-build.tier0.rpminspect" })] }))).toMatchObject({ fire: false });
  });

  it("waives a failure that noFailed would refuse", () => {
    const rpmdeplint = [{ ...received("FAILED", "https://ci.example.org/run/9", 1), testcase: "dist.rpmdeplint" }];
    expect(decide(noFailed, artifact(), ctx({ results: rpmdeplint }))).toMatchObject({ fire: false, reason: "testcase dist.rpmdeplint is FAILED" });
    expect(decide(noFailed, artifact(), ctx({ results: rpmdeplint, waivers: [waiver(5, { testcase: "dist.rpmdeplint", username: "carol", comment: "ok" })] }))).toEqual({
      fire: true,
      waived: ["testcase dist.rpmdeplint is FAILED; waived by carol: ok"],
    });
  });
});
