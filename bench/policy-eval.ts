// bench/policy-eval: decide() of 1,000 generated policies against one Fedora-CI artifact, against parsing that artifact in the same run.
import { parseArtifact, type Artifact, type ArtifactInput, type CiResultItem } from "../src/domain/artifact.js";
import type { Freeze } from "../src/domain/freeze.js";
import { decide, mismatch, policySchema, unmetRequirement, type DecisionContext, type Policy } from "../src/domain/policy.js";
import { benchLine, ms, ratio, table, verdict } from "./load.js";
import { prng } from "./prng.js";

const POLICIES = Number(process.env.BENCH_POLICIES ?? 1000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5000);
// Target of the policy-engine issue: one full evaluation of 1,000 policies.
const MAX_MEAN_MS = 1;


const random = prng(20261125);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const chance = (p: number) => random() < p;

const NOW = new Date("2026-12-01T12:00:00Z");
const TIER0 = "fedora-ci.koji-build.tier0.functional";

/** What a Fedora CI pipeline leaves after a Rawhide build and its gating: one build, ten results. */
const artifactInput: ArtifactInput = {
  id: "fedora-ci-2750331",
  package: "python-requests",
  release: "rawhide",
  source: {
    repo: "https://src.fedoraproject.org/rpms/python-requests.git",
    sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901",
    branch: "rawhide",
    event: "build",
    author: "Packager <packager@fedoraproject.org>",
    message: "Update to 2.32.3 (rhbz#2282114)",
  },
  items: [
    { kind: "koji-build", nvr: "python-requests-2.32.3-1.fc45", buildId: 2_550_331, taskId: 125_000_331, target: "f45-build-side-98765", sideTag: "f45-build-side-98765", owner: "packager" },
    ...[
      [TIER0, "PASSED"],
      ["fedora-ci.koji-build.tier0.validation", "PASSED"],
      ["fedora-ci.koji-build.rpminspect.static-analysis", "NEEDS_INSPECTION"],
      ["fedora-ci.koji-build.rpmdeplint.functional", "PASSED"],
      ["fedora-ci.koji-build.installability.functional", "PASSED"],
      ["fedora-ci.koji-build.tier1.functional", "PASSED"],
      ["fedora-ci.koji-build.tier2.functional", "RUNNING"],
      ["fedora-ci.koji-build.revdeps.functional", "QUEUED"],
      ["fedora-ci.koji-build.abicheck.functional", "INFO"],
      ["fedora-ci.koji-build.fmf-linter.static-analysis", "PASSED"],
    ].map(([testcase, outcome], i) => ({
      kind: "ci-result" as const,
      testcase: testcase as string,
      outcome: outcome as "PASSED",
      refUrl: `https://artifacts.dev.testing-farm.io/run-${i}`,
      scenario: "fedora-rawhide-x86_64",
    })),
    { kind: "link", name: "koji task", url: "https://koji.fedoraproject.org/koji/taskinfo?taskID=125000331" },
  ],
  context: { CI_PIPELINE_ID: "2750331", ZUUL_PIPELINE: "fedora-ci-build", TMT_PLAN: "/plans/tier0", ARCH: "x86_64" },
};
const artifactText = JSON.stringify(artifactInput);

// Globs as people write them: exact names, prefixes, brace sets, negations. About a third match
// the artifact on each field, so decide() goes past matching often enough to gate and freeze.
const PACKAGE_GLOBS = [["python-*"], ["python-requests"], ["python-*", "!python-requests"], ["rust-*"], ["{kernel,systemd,glibc}"], ["*"], ["golang-*", "nodejs-*"], ["!texlive-*"]];
const RELEASE_GLOBS = [["rawhide"], ["f4[0-9]"], ["f44"], ["epel*"], ["rawhide", "eln"]];
const BRANCH_GLOBS = [["rawhide"], ["main"], ["f*"], ["!epel*"]];
const NVR_GLOBS = [["*.fc45"], ["*.fc44"], ["python-requests-2.*"], ["*-1.el9"]];
const SIDE_TAG_GLOBS = [["f45-build-side-*"], ["f44-build-side-*"], ["!*-side-*"]];
const TESTCASE_GLOBS = ["fedora-ci.koji-build.tier0.*", TIER0, "fedora-ci.koji-build.*.functional", "fedora-ci.koji-build.rpminspect.*", "fedora-ci.koji-build.tier1.functional"];
const ENVIRONMENTS = Array.from({ length: 20 }, (_, i) => `env-${i}`);

function generatePolicy(n: number): Policy {
  const match: Record<string, string[]> = {};
  if (chance(0.8)) match.package = pick(PACKAGE_GLOBS);
  if (chance(0.6)) match.release = pick(RELEASE_GLOBS);
  if (chance(0.3)) match.branch = pick(BRANCH_GLOBS);
  if (chance(0.3)) match.event = chance(0.7) ? ["build"] : ["push", "pr"];
  if (chance(0.25)) match.nvr = pick(NVR_GLOBS);
  if (chance(0.1)) match.sideTag = pick(SIDE_TAG_GLOBS);
  const require: Record<string, unknown> = {};
  if (chance(0.5)) {
    require.results = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ testcase: pick(TESTCASE_GLOBS), ...(chance(0.2) ? { outcomes: ["PASSED", "INFO"] } : {}) }));
  }
  if (chance(0.3)) require.noFailed = true;
  if (chance(0.1)) require.allPassed = true;
  if (chance(0.1)) require.minAge = { duration: pick(["7d", "3d", "12h"]), sincePushedTo: pick(ENVIRONMENTS) };
  return policySchema.parse({
    apiVersion: "relengd/v1",
    kind: "Policy",
    metadata: { name: `policy-${n}` },
    spec: { on: ["artifact", "results"], match, require, release: { environment: pick(ENVIRONMENTS) } },
  });
}

/** Every fourth environment has freezes: one active now (some with exceptions), one over. */
function freezesOf(i: number): Freeze[] {
  if (i % 4 !== 0) return [];
  const active = { start: "2026-11-28T00:00:00Z", end: "2026-12-08T00:00:00Z", reason: "Final freeze", exceptions: { packages: i % 8 === 0 ? ["python-*", "!python-urllib3"] : [], artifacts: [] } };
  const over = { start: "2026-10-01T00:00:00Z", end: "2026-10-10T00:00:00Z", reason: "Beta freeze", exceptions: { packages: [], artifacts: [] } };
  return [over, active];
}

// Appended after the push (a re-run of tier1): one list, shared by every policy's context as the server shares the stored results.
const APPENDED: CiResultItem[] = [
  { kind: "ci-result", testcase: "fedora-ci.koji-build.tier1.functional", outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/run-5", scenario: "fedora-rawhide-x86_64" },
];

function contextFor(environment: string, index: number): DecisionContext {
  return {
    now: NOW,
    results: APPENDED,
    waivers: [],
    freezes: freezesOf(index),
    pushedAt: new Map([[environment, new Date("2026-11-20T00:00:00Z")]]),
    environmentExists: true,
  };
}

interface Summary {
  mean: number;
  p50: number;
  p99: number;
}

/** Times `run` once per iteration after a warm-up; per-iteration samples give the percentiles. */
function measure(run: () => number): { summary: Summary; sink: number } {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += run();
  const samples = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    sink += run();
    samples[i] = performance.now() - t0;
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  samples.sort();
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] ?? Number.NaN;
  return { summary: { mean, p50: at(50), p99: at(99) }, sink };
}

function main(): void {
  const parsed = parseArtifact(JSON.parse(artifactText));
  if (!parsed.ok) throw new Error(`the bench artifact is invalid: ${JSON.stringify(parsed.issues)}`);
  const artifact: Artifact = parsed.value;
  const policies = Array.from({ length: POLICIES }, (_, n) => generatePolicy(n));
  // Built once, as the server builds one context per policy before deciding.
  const contexts = new Map(ENVIRONMENTS.map((e, i) => [e, contextFor(e, i)]));
  const ctxOf = policies.map((p) => contexts.get(p.spec.release.environment) as DecisionContext);

  const tally = { fire: 0, mismatch: 0, unmet: 0, frozen: 0 };
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i] as Policy;
    const d = decide(p, artifact, ctxOf[i] as DecisionContext);
    if (d.fire) tally.fire++;
    else if (mismatch(p, artifact)) tally.mismatch++;
    else if (unmetRequirement(p, artifact, ctxOf[i] as DecisionContext)) tally.unmet++;
    else tally.frozen++;
  }

  const evaluate = () => {
    let fired = 0;
    for (let i = 0; i < policies.length; i++) if (decide(policies[i] as Policy, artifact, ctxOf[i] as DecisionContext).fire) fired++;
    return fired;
  };
  // Parts of decide(), to say where the time goes.
  const matchOnly = () => {
    let matched = 0;
    for (let i = 0; i < policies.length; i++) if (mismatch(policies[i] as Policy, artifact) === undefined) matched++;
    return matched;
  };
  const matching = policies.map((p, i) => [p, ctxOf[i]] as const).filter(([p]) => mismatch(p, artifact) === undefined);
  const requireOnly = () => {
    let unmet = 0;
    for (const [p, ctx] of matching) if (unmetRequirement(p, artifact, ctx as DecisionContext)) unmet++;
    return unmet;
  };

  const baselines = {
    parseArtifact: measure(() => (parseArtifact(JSON.parse(artifactText)).ok ? 1 : 0)),
    jsonParse: measure(() => (JSON.parse(artifactText) as { items: unknown[] }).items.length),
  };
  const results = {
    decide: measure(evaluate),
    mismatch: measure(matchOnly),
    require: measure(requireOnly),
  };

  console.log(`policy evaluation: ${POLICIES} generated policies × 1 artifact (${artifactText.length} bytes of JSON, 1 koji-build, 10 ci-results + 1 appended)`);
  console.log(`  outcomes per evaluation: ${tally.fire} fire, ${tally.mismatch} do not match, ${tally.unmet} requirements unmet, ${tally.frozen} held or frozen`);
  console.log(`  ${WARMUP} warm-up iterations, then ${ITERATIONS} measured; Node ${process.version}\n`);
  const row = (name: string, s: Summary) => [name, ms(s.mean), ms(s.p50), ms(s.p99), ratio(s.mean, baselines.parseArtifact.summary.mean), ratio(s.mean, baselines.jsonParse.summary.mean)];
  console.log(
    table([
      ["", "mean", "p50", "p99", "÷ parseArtifact", "÷ JSON.parse"],
      row(`decide() × ${POLICIES} policies`, results.decide.summary),
      row(`  of which mismatch() × ${POLICIES}`, results.mismatch.summary),
      row(`  of which unmetRequirement() × ${matching.length} matching`, results.require.summary),
      row("baseline: parseArtifact (JSON.parse + zod) × 1", baselines.parseArtifact.summary),
      row("baseline: JSON.parse × 1", baselines.jsonParse.summary),
    ]),
  );
  const pass = results.decide.summary.mean <= MAX_MEAN_MS;
  console.log(`\ntarget mean ≤ ${MAX_MEAN_MS} ms per ${POLICIES}-policy evaluation: ${verdict(pass)} (${ms(results.decide.summary.mean)})`);
  benchLine("policy-eval", "decide-mean-ms", results.decide.summary.mean, "lower");
  benchLine("policy-eval", "decide-p99-ms", results.decide.summary.p99, "lower");
  benchLine("policy-eval", "decide-vs-parseArtifact", results.decide.summary.mean / baselines.parseArtifact.summary.mean, "lower");
  // Keeps the measured work observable, so none of it is optimised away.
  const sinks = Object.values({ ...baselines, ...results }).reduce((n, r) => n + r.sink, 0);
  if (sinks < 0) console.log(sinks);
}

main();
