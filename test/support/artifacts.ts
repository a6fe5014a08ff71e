// Artifacts as Fedora CI would push them, for tests.
import type { ArtifactInput } from "../../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";

let counter = 0;

/** The dist tag Fedora's Koji gives builds of `release` (the ingest rule dist-tag-mismatch checks it). */
export function distTagFor(release: string): string {
  if (release === "rawhide") return `fc${DEFAULT_RAWHIDE_VERSION}`;
  const f = /^f([0-9]+)$/.exec(release);
  if (f) return `fc${f[1]}`;
  const epel = /^epel([0-9]+)$/.exec(release);
  return epel ? `el${epel[1]}` : "fc41";
}

export function sampleArtifact(overrides: Partial<ArtifactInput> = {}): ArtifactInput {
  counter += 1;
  const pkg = overrides.package ?? "python-requests";
  const dist = distTagFor(overrides.release ?? "f41");
  return {
    id: `fedora-ci-${process.pid}-${counter}`,
    package: pkg,
    release: "f41",
    source: {
      repo: `https://src.fedoraproject.org/rpms/${pkg}.git`,
      sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901",
      branch: "f41",
      event: "build",
      author: "Packager <packager@fedoraproject.org>",
    },
    items: [
      { kind: "koji-build", nvr: `${pkg}-2.32.3-${counter}.${dist}`, buildId: 2500000 + counter, taskId: 120000000 + counter, target: "f41-candidate", owner: "packager" },
      { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/1234" },
      { kind: "link", name: "koji task", url: `https://koji.fedoraproject.org/koji/taskinfo?taskID=${120000000 + counter}` },
    ],
    context: { CI_PIPELINE_ID: String(counter) },
    ...overrides,
  };
}
