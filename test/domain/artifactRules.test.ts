import { describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactItem } from "../../src/domain/artifact.js";
import { artifactRuleViolations, buildsOutsideScope, describeViolations, distTagOf } from "../../src/domain/artifactRules.js";
import { mapEnvelope, releaseOfDistTag } from "../../src/domain/busMapping.js";
import { parseEnvelope } from "../../src/domain/envelope.js";
import type { Principal } from "../../src/domain/token.js";
import { sampleArtifact } from "../support/artifacts.js";
import { fixtureMessages } from "../support/fedoraMessages.js";

const options = { rawhideVersion: 45 };

function artifact(pkg: string, release: string, items: ArtifactItem[]): Artifact {
  const parsed = parseArtifact(sampleArtifact({ package: pkg, release, items }));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const build = (nvr: string, sideTag?: string): ArtifactItem => ({ kind: "koji-build", nvr, ...(sideTag ? { sideTag } : {}) });
const rules = (a: Artifact) => artifactRuleViolations(a, options).map((v) => [v.rule, v.path]);

describe("ingest rules: whose builds, from which side tag, for which release", () => {
  it("refuses an artifact of one build of another package, naming the item", () => {
    const a = artifact("python-evil", "f44", [{ kind: "link", name: "log", url: "https://example.org/log" }, build("kernel-9.9-1.fc44")]);
    expect(artifactRuleViolations(a, options)).toEqual([
      {
        rule: "build-of-other-package",
        path: "/items/1/nvr",
        message: "is a build of kernel, not of the artifact's package python-evil (/package); an artifact of one build is that build's package",
      },
    ]);
    expect(rules(artifact("kernel", "f44", [build("kernel-9.9-1.fc44")]))).toEqual([]);
  });

  it("takes several builds only from one side tag, each naming it", () => {
    const tag = "f44-build-side-98765";
    expect(rules(artifact("qt6-qtbase", "f44", [build("qt6-qtbase-6.9.1-1.fc44", tag), build("qt6-qtsvg-6.9.1-1.fc44", tag)]))).toEqual([]);
    expect(rules(artifact("qt6-qtbase", "f44", [build("qt6-qtbase-6.9.1-1.fc44"), build("qt6-qtsvg-6.9.1-1.fc44", tag)]))).toEqual([["side-tag-required", "/items/0/sideTag"]]);
    expect(rules(artifact("qt6-qtbase", "f44", [build("qt6-qtbase-6.9.1-1.fc44", tag), build("qt6-qtsvg-6.9.1-1.fc44", "f44-build-side-1")]))).toEqual([
      ["side-tag-required", "/items/1/sideTag"],
    ]);
    // An artifact without builds (a compose, results only) has nothing to check.
    expect(rules(artifact("fedora-release", "rawhide", []))).toEqual([]);
  });

  it.each([
    ["f44", "foo-1.0-1.fc44", true],
    ["f44", "foo-1.0-1.fc45", false],
    ["f44", "foo-1.0-1.el9", false],
    ["f45", "foo-1.0-1.fc45", true],
    ["rawhide", "foo-1.0-1.fc45", true],
    ["rawhide", "foo-1.0-1.fc46", true],
    ["rawhide", "foo-1.0-1.fc44", false],
    ["eln", "foo-1.0-1.eln150", true],
    ["eln", "foo-1.0-1.fc45", false],
    ["epel9", "foo-1.0-1.el9", true],
    ["epel9", "foo-1.0-1.el9_3", true],
    ["epel9", "foo-1.0-1.el8", false],
    ["epel9", "foo-1.0-1.el9.next", false],
    ["epel9-next", "foo-1.0-1.el9.next", true],
    ["epel9-next", "foo-1.0-1.el9", false],
    ["epel10", "foo-1.0-1.el10_1", true],
    ["epel10.1", "foo-1.0-1.el10_1", true],
    ["epel10.1", "foo-1.0-1.el10_0", false],
    ["f41", "foo-1.0-1.fc41.pr.4229607131614fc0a723aa38ea21b892", true],
    // No dist tag to check: shim's releases carry none.
    ["f44", "foo-1.0-3", true],
    // A release outside Fedora's and EPEL's names: no dist tag rule.
    ["mydistro1", "foo-1.0-1.fc44", true],
  ])("release %s takes build %s: %s", (release, nvr, fits) => {
    const found = artifactRuleViolations(artifact("foo", release, [build(nvr)]), options);
    expect(found.map((v) => v.rule)).toEqual(fits ? [] : ["dist-tag-mismatch"]);
  });

  it("names both the build's dist tag and the release in a mismatch", () => {
    const [v] = artifactRuleViolations(artifact("foo", "f44", [build("foo-1.0-1.fc45")]), options);
    expect(v).toEqual({ rule: "dist-tag-mismatch", path: "/items/0/nvr", message: "has dist tag fc45, which does not fit release f44 (/release), whose builds carry fc44" });
    const [raw] = artifactRuleViolations(artifact("foo", "rawhide", [build("foo-1.0-1.fc44")]), { rawhideVersion: 45 });
    expect(raw?.message).toBe("has dist tag fc44, which does not fit release rawhide (/release), whose builds carry fcN with N ≥ 45 (the Rawhide version)");
    // The Rawhide version is configuration: after branching f45, fc45 is no longer Rawhide.
    expect(artifactRuleViolations(artifact("foo", "rawhide", [build("foo-1.0-1.fc45")]), { rawhideVersion: 46 }).map((x) => x.rule)).toEqual(["dist-tag-mismatch"]);
    expect(describeViolations("a1", [v!])).toBe("artifact a1 breaks rule dist-tag-mismatch: /items/0/nvr has dist tag fc45, which does not fit release f44 (/release), whose builds carry fc44");
  });

  it("reads dist tags as Fedora's build system writes them", () => {
    expect(distTagOf("0.rc1.20231201git.fc45")).toEqual({ family: "fc", version: 45 });
    expect(distTagOf("2.el9_3")).toEqual({ family: "el", major: 9, minor: 3, next: false });
    expect(distTagOf("1.el8.next")).toEqual({ family: "el", major: 8, next: true });
    expect(distTagOf("1.module_f34+12345+abcdef")).toBeUndefined();
  });

  it("every artifact the bus mirror makes of the recorded messages follows the rules (its release comes from the dist tag)", () => {
    let mirrored = 0;
    for (const fixture of fixtureMessages()) {
      const envelope = parseEnvelope(fixture.json);
      if (!envelope.ok) continue;
      const effect = mapEnvelope(envelope.value, options);
      if (effect.kind !== "artifact") continue;
      mirrored++;
      expect(artifactRuleViolations(effect.artifact, options), fixture.file).toEqual([]);
    }
    expect(mirrored).toBeGreaterThan(0);
    // And for every dist tag the mapping understands: its release takes the build back.
    for (const release of ["1.fc41", "1.fc45", "1.fc46", "1.el7", "1.el9_3", "1.el10_1", "1.el9.next", "1.eln150"]) {
      const mapped = releaseOfDistTag(release, options);
      expect(mapped, release).toBeDefined();
      expect(artifactRuleViolations(artifact("foo", mapped as string, [build(`foo-1.0-${release}`)]), options), release).toEqual([]);
    }
  });
});

describe("package scope over every build", () => {
  const scoped: Principal = { subject: "python-ci", role: "ci", tokenId: "j1", packages: ["python-*"] };

  it("names each build of a package outside the token's scope", () => {
    const a = artifact("python-evil", "f44", [build("python-evil-1-1.fc44", "t"), build("kernel-9.9-1.fc44", "t")]);
    expect(buildsOutsideScope(scoped, a)).toEqual([{ path: "/items/1/nvr", message: "is a build of kernel, outside the token's package scope python-*" }]);
    const { packages: _packages, ...unscoped } = scoped;
    expect(buildsOutsideScope(unscoped, a)).toEqual([]);
    expect(buildsOutsideScope({ ...scoped, packages: ["python-*", "kernel"] }, a)).toEqual([]);
  });
});
