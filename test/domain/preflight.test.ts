// The repoclosure preflight as the release gate reads it: which one applies, what a check's
// result makes of a release, and the environments file that declares it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BrokenDepsReport } from "../../src/domain/brokenDeps.js";
import { parseEnvironmentsYaml, type Environment } from "../../src/domain/environment.js";
import { effectivePreflight, gateOutcome } from "../../src/domain/releaseGate.js";
import { toReleaseSpec } from "../../src/domain/release.js";
import type { RepoclosurePreflight } from "../../src/domain/repoclosure.js";
import { gateGroups } from "../../src/flow/gateRelease.js";
import { queuedRelease, rawhideArtifact } from "../support/writerFixtures.js";

const preflight = (strictness: RepoclosurePreflight["strictness"], arches: RepoclosurePreflight["arches"] = ["x86_64"]): RepoclosurePreflight => ({
  strictness,
  arches,
  repos: [{ id: "f45-build", url: "https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/" }],
  lookaside: [],
});
const compose = (p?: RepoclosurePreflight): Environment => ({
  name: "rawhide-compose",
  repository: "gitops",
  kind: "ComposeRequest",
  compose: { release: "rawhide", type: "nightly" },
  freezes: [],
  ...(p ? { preflight: { repoclosure: p } } : {}),
});
const broken: BrokenDepsReport = {
  tree: "rawhide",
  generatedAt: "2031-05-06T12:00:00.000Z",
  arches: { x86_64: [{ source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", repo: "main", unresolved: ["libbeta >= 2"], blame: [] }] },
};
const clean: BrokenDepsReport = { ...broken, arches: { x86_64: [] } };
const URL = "https://relengd.example.org/reports/broken-deps/R1";

describe("effectivePreflight", () => {
  it("takes the body's over the environment's, and none when it is off or absent", () => {
    expect(effectivePreflight(compose(preflight("fatal")))).toMatchObject({ strictness: "fatal" });
    expect(effectivePreflight(compose(preflight("fatal")), preflight("lenient"))).toMatchObject({ strictness: "lenient" });
    expect(effectivePreflight(compose(preflight("fatal")), preflight("off"))).toBeUndefined();
    expect(effectivePreflight(compose(preflight("off")))).toBeUndefined();
    expect(effectivePreflight(compose())).toBeUndefined();
    expect(effectivePreflight(compose(), preflight("fatal"))).toMatchObject({ strictness: "fatal" });
  });
});

describe("gateOutcome", () => {
  it("blocks a fatal preflight with unresolved dependencies, naming the package, the dependency and the report", () => {
    const outcome = gateOutcome("fatal", { id: "R1", status: "broken", error: null, report: broken }, URL);
    expect(outcome.status).toBe("blocked");
    expect(outcome.status === "blocked" && outcome.reason).toBe(`repoclosure: 1 unresolved dependency in 1 package (x86_64): alpha-1.0-1.fc45.noarch requires libbeta >= 2 (${URL})`);
  });

  it("queues a lenient one with the trailer's count, and a clean one with zero", () => {
    expect(gateOutcome("lenient", { id: "R1", status: "broken", error: null, report: broken }, URL)).toEqual({ status: "queued", repoclosure: "1 unresolved (x86_64)" });
    expect(gateOutcome("fatal", { id: "R1", status: "ok", error: null, report: clean }, URL)).toEqual({ status: "queued", repoclosure: "0 unresolved" });
  });

  it("never passes a check that could not run, whatever the strictness", () => {
    for (const strictness of ["fatal", "lenient"] as const) {
      expect(gateOutcome(strictness, { id: "R1", status: "error", error: "cannot download repomd.xml", report: null }, URL)).toEqual({
        status: "blocked",
        reason: `repoclosure could not run: cannot download repomd.xml (${URL})`,
      });
    }
  });
});

describe("the release spec's repoclosure note", () => {
  it("is made from the stored trailer value and report id, with the public URL in front", () => {
    const r = queuedRelease(rawhideArtifact("bash", "5.2"), { repoclosure: "0 unresolved", repoclosureReportId: "R 1" });
    expect(toReleaseSpec(r, "https://relengd.example.org").repoclosure).toEqual({ value: "0 unresolved", report: "https://relengd.example.org/reports/broken-deps/R%201" });
    expect(toReleaseSpec(r).repoclosure?.report).toBe("/reports/broken-deps/R%201");
    expect("repoclosure" in toReleaseSpec({ ...r, repoclosure: null })).toBe(false);
  });
});

describe("gateGroups", () => {
  it("checks once per repo set, whatever the strictness or the order of arches", () => {
    const a = rawhideArtifact("fedora-compose", "1");
    const one = queuedRelease(a, { status: "checking", preflight: preflight("fatal", ["x86_64", "aarch64"]) });
    const two = queuedRelease(a, { status: "checking", preflight: preflight("lenient", ["aarch64", "x86_64"]) });
    const other = queuedRelease(a, { status: "checking", preflight: preflight("fatal", ["s390x"]) });
    const groups = gateGroups([one, two, other]);
    expect(groups.map((g) => g.releases.map((r) => r.id))).toEqual([[one.id, two.id], [other.id]]);
  });
});

describe("environments.yaml", () => {
  it("the shipped rawhide-compose declares the f45-build repoclosure preflight, off", () => {
    const parsed = parseEnvironmentsYaml(readFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), "utf8"));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed));
    const env = parsed.value.environments.find((e) => e.name === "rawhide-compose");
    expect(env?.kind === "ComposeRequest" && env.preflight?.repoclosure).toEqual({
      strictness: "off",
      arches: ["x86_64", "aarch64"],
      repos: [{ id: "f45-build", url: "https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/" }],
      lookaside: [],
    });
  });

  it("refuses a preflight on a KojiTag environment and a bad strictness, naming the field", () => {
    const file = (env: string) => `apiVersion: relengd/v1\nkind: Environments\nrepositories: [{ name: gitops }]\nenvironments:\n${env}`;
    const koji = parseEnvironmentsYaml(file(`  - { name: rawhide, repository: gitops, kind: KojiTag, kojiTag: { tag: f45 }, preflight: { repoclosure: { strictness: fatal, arches: [x86_64], repos: [{ id: a, url: "file:///r" }] } } }\n`));
    expect(koji.ok).toBe(false);
    expect(JSON.stringify(koji)).toContain("preflight");
    const bad = parseEnvironmentsYaml(file(`  - { name: c, repository: gitops, kind: ComposeRequest, compose: { release: rawhide, type: nightly }, preflight: { repoclosure: { strictness: strict, arches: [x86_64], repos: [{ id: a, url: "file:///r" }] } } }\n`));
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain("/environments/0/preflight/repoclosure/strictness");
  });
});
