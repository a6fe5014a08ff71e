// The one release gate: the release flow, the policies and the writer ask it, each with its own clock.
import { describe, expect, it } from "vitest";
import type { Freeze } from "../../src/domain/freeze.js";
import { artifactRefusal, releaseRefusal, releaseStop, writeRefusal } from "../../src/domain/releaseGate.js";
import { rawhideArtifact, rules, shippedEnvironments } from "../support/writerFixtures.js";

const envs = shippedEnvironments();
const rawhide = envs.environments.get("rawhide");
if (!rawhide) throw new Error("the shipped environments lost rawhide");
const freeze: Freeze = { start: "2026-11-20T00:00:00Z", end: "2026-12-01T00:00:00Z", reason: "Final freeze", exceptions: { packages: ["glibc"], artifacts: [] } };
const frozenRawhide = { ...rawhide, freezes: [freeze] };
const inFreeze = new Date("2026-11-25T12:00:00Z");
const afterFreeze = new Date("2026-12-01T00:00:00Z");

describe("releaseStop: holds, then freezes, at the caller's time", () => {
  const facts = { environment: "rawhide", package: "bash", artifactId: "a1", freezes: [freeze], now: inFreeze };

  it("names a hold first, in the one sentence every refusal for a hold says", () => {
    expect(releaseStop({ ...facts, hold: { reason: "mass rebuild" } })).toEqual({ kind: "held", reason: "rawhide/bash is held: mass rebuild" });
  });

  it("stops a release in a freeze, not at its end, nor an excepted package", () => {
    expect(releaseStop(facts)).toMatchObject({ kind: "frozen", reason: "environment rawhide frozen until 2026-12-01 (Final freeze)" });
    expect(releaseStop({ ...facts, now: afterFreeze })).toBeUndefined();
    expect(releaseStop({ ...facts, package: "glibc" })).toBeUndefined();
  });
});

describe("releaseRefusal: the artifact, then (unless forced) holds and freezes", () => {
  it("refuses an artifact breaking an ingest rule with its violations, before anything else", () => {
    const stray = { ...rawhideArtifact("bash", "5.2"), release: "f40" };
    const refusal = releaseRefusal(stray, frozenRawhide, { rules, now: inFreeze, force: false, hold: { reason: "x" } });
    expect(refusal?.kind).toBe("rule-broken");
    expect(refusal?.kind === "rule-broken" ? refusal.violations.map((v) => v.rule) : []).toEqual(["dist-tag-mismatch"]);
  });

  it("refuses an artifact lacking what the environment's document needs", () => {
    const empty = { ...rawhideArtifact("bash", "5.2"), items: [] };
    expect(artifactRefusal(empty, rawhide, rules)).toEqual({ kind: "incomplete", reason: `artifact ${empty.id} has no koji-build of package bash to tag into f45` });
  });

  it("lets a forced release through holds and freezes, not through the artifact's own faults", () => {
    const a = rawhideArtifact("bash", "5.2");
    expect(releaseRefusal(a, frozenRawhide, { rules, now: inFreeze, force: false, hold: { reason: "x" } })?.kind).toBe("held");
    expect(releaseRefusal(a, frozenRawhide, { rules, now: inFreeze, force: false })?.kind).toBe("frozen");
    expect(releaseRefusal(a, frozenRawhide, { rules, now: inFreeze, force: true, hold: { reason: "x" } })).toBeUndefined();
    expect(releaseRefusal({ ...a, items: [] }, frozenRawhide, { rules, now: inFreeze, force: true })?.kind).toBe("incomplete");
  });
});

describe("writeRefusal: the gate again at write time", () => {
  const a = rawhideArtifact("bash", "5.2");
  const queued = { environment: "rawhide", package: "bash", artifactId: a.id, force: false };
  const facts = { rules, now: afterFreeze, repository: "gitops", declaredIn: "environments.yaml" };

  it("blocks a release whose environment is gone or moved to another repository, or whose artifact is gone", () => {
    expect(writeRefusal(queued, undefined, a, facts)).toBe("environment rawhide is no longer declared in environments.yaml");
    expect(writeRefusal(queued, { ...rawhide, repository: "elsewhere" }, a, facts)).toBe("environment rawhide now writes to repository elsewhere");
    expect(writeRefusal(queued, rawhide, undefined, facts)).toBe(`artifact ${a.id} no longer exists`);
  });

  it("blocks a hold placed or a freeze begun since the release was queued, by the injected clock", () => {
    expect(writeRefusal(queued, frozenRawhide, a, { ...facts, hold: { reason: "broken deps" } })).toBe("rawhide/bash is held: broken deps");
    expect(writeRefusal(queued, frozenRawhide, a, { ...facts, now: inFreeze })).toBe("environment rawhide frozen until 2026-12-01 (Final freeze)");
    expect(writeRefusal(queued, frozenRawhide, a, facts)).toBeUndefined();
    expect(writeRefusal({ ...queued, force: true }, frozenRawhide, a, { ...facts, now: inFreeze, hold: { reason: "x" } })).toBeUndefined();
  });
});
