// Fedora-CI-shaped artifacts for the benchmarks: the ~1 KB push of bench/ingest.ts and the stored artifacts bench/query.ts seeds.
import type { Artifact, ArtifactInput } from "../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../src/domain/busMapping.js";

const INGEST_PACKAGES = [
  "python-requests",
  "rust-serde",
  "golang-x-net",
  "perl-Moose",
  "ghc-aeson",
  "nodejs-lodash",
  "kernel",
  "systemd",
  "gtk4",
  "libsigc++30",
  "texlive-base",
  "R-ggplot2",
  "NetworkManager",
  "openssl",
  "glibc",
  "firefox",
];

/** A cheap deterministic 40-hex-digit commit id for artifact number n. */
export function commitSha(n: number, salt = 0x9e3779b9): string {
  let x = (n ^ salt) >>> 0;
  let out = "";
  for (let i = 0; i < 5; i++) {
    // xorshift32 steps: enough spread for distinct-looking ids.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(16).padStart(8, "0");
  }
  return out;
}

/** What a Fedora CI pipeline pushes after a koji build and its first gating tests (~1 KB of JSON). */
export function ingestArtifact(id: string, n: number): ArtifactInput {
  const pkg = INGEST_PACKAGES[n % INGEST_PACKAGES.length] ?? "python-requests";
  const sha = commitSha(n);
  const task = 120_000_000 + n;
  const run = `${sha.slice(0, 8)}-${sha.slice(8, 12)}-${sha.slice(12, 16)}-${sha.slice(16, 20)}-${sha.slice(20, 32)}`;
  return {
    id,
    package: pkg,
    release: "f41",
    source: {
      repo: `https://src.fedoraproject.org/rpms/${pkg}.git`,
      sha,
      branch: "f41",
      event: "build",
      author: "Packager <packager@fedoraproject.org>",
    },
    items: [
      { kind: "koji-build", nvr: `${pkg}-2.32.3-${n}.fc41`, buildId: 2_500_000 + n, taskId: task, target: "f41-candidate", owner: "packager" },
      { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED", refUrl: `https://artifacts.dev.testing-farm.io/${run}`, scenario: "fedora-41-x86_64" },
      { kind: "ci-result", testcase: "fedora-ci.koji-build.rpminspect.static-analysis", outcome: "NEEDS_INSPECTION", refUrl: `https://osci-jenkins.ci.fedoraproject.org/job/rpminspect/${n}/` },
      { kind: "ci-result", testcase: "fedora-ci.koji-build.installability.functional", outcome: "PASSED", refUrl: `https://osci-jenkins.ci.fedoraproject.org/job/installability/${n}/` },
      { kind: "link", name: "koji task", url: `https://koji.fedoraproject.org/koji/taskinfo?taskID=${task}` },
    ],
    context: { CI_PIPELINE_ID: String(n), ZUUL_PIPELINE: "fedora-ci-build", TMT_PLAN: "/plans/tier0", ARCH: "x86_64" },
  };
}

/**
 * The package of Rawhide push number n of a run: every push its own package (python-rh1-42,
 * rust-rh1-43, …), so each release is a new document in the tag's tree and none supersedes
 * another, as when many packagers build at once. `run` (letters, digits, dashes) keeps runs apart.
 */
export function rawhidePackageName(run: string, n: number): string {
  return `${PACKAGE_PREFIXES[n % PACKAGE_PREFIXES.length] ?? ""}${run}${n}`;
}

/**
 * The push of a Rawhide build as Fedora CI makes it once tier-0 gating passed: the koji build of
 * a package of its own, its NVR carrying Rawhide's dist tag, and the tier-0 result PASSED, so the
 * ingest rules accept it and the shipped `rawhide-auto` policy fires in the push's transaction.
 */
export function rawhideArtifact(id: string, n: number, run: string): ArtifactInput {
  const base = ingestArtifact(id, n);
  const pkg = rawhidePackageName(run, n);
  const task = 120_000_000 + n;
  const dist = `fc${DEFAULT_RAWHIDE_VERSION}`;
  return {
    ...base,
    package: pkg,
    release: "rawhide",
    source: { ...base.source, repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, branch: "rawhide" },
    items: (base.items ?? []).map((item) => {
      if (item.kind === "koji-build") return { ...item, nvr: `${pkg}-2.32.3-${n}.${dist}`, target: "rawhide", buildId: 2_500_000 + n, taskId: task };
      if (item.kind === "ci-result" && item.scenario !== undefined) return { ...item, scenario: "fedora-rawhide-x86_64" };
      return item;
    }),
  };
}

// rawhide is fc45 (RELENGD_RAWHIDE_VERSION), so the seeded rows follow the ingest rule dist-tag-mismatch.
const RELEASES = ["f41", "f42", "rawhide", "epel9"] as const;
const RELEASE_DIST: Record<(typeof RELEASES)[number], string> = { f41: "fc41", f42: "fc42", rawhide: "fc45", epel9: "el9" };
const PACKAGE_PREFIXES = ["python-", "rust-", "golang-", "perl-", "nodejs-", "ghc-", "texlive-", "R-", "php-", ""];

/** The i-th of `count` package names of the query benchmark (python-pkg7, rust-pkg8, …). */
export function seedPackageName(i: number): string {
  return `${PACKAGE_PREFIXES[i % PACKAGE_PREFIXES.length] ?? ""}pkg${i}`;
}

/**
 * A stored artifact as a koji build pipeline leaves it: one koji-build, a link, a context entry.
 * Built as the parsed type directly (seeding a million through zod would dominate the seed time);
 * bench/query.ts validates a sample of them with the real schema.
 */
export function seedArtifact(n: number, pkg: string, releaseIndex: number): Artifact {
  const release = RELEASES[releaseIndex % RELEASES.length] ?? "f41";
  const task = 100_000_000 + n;
  return {
    id: `fedora-ci-${n}`,
    package: pkg,
    release,
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: commitSha(n), branch: release === "rawhide" ? "rawhide" : release, event: "build" },
    items: [
      { kind: "koji-build", nvr: seedNvr(n, pkg, releaseIndex), buildId: 2_000_000 + n, taskId: task, target: `${release}-candidate`, owner: "packager" },
      { kind: "link", name: "koji task", url: `https://koji.fedoraproject.org/koji/taskinfo?taskID=${task}` },
    ],
    context: { CI_PIPELINE_ID: String(n) },
  };
}

export function seedNvr(n: number, pkg: string, releaseIndex: number): string {
  const release = RELEASES[releaseIndex % RELEASES.length] ?? "f41";
  return `${pkg}-1.${n % 97}.${n % 13}-${n}.${RELEASE_DIST[release]}`;
}
