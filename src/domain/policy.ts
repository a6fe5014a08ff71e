// Auto-release policies (policies/*.yaml): when they run, what they match, what they require,
// and the decision they reach for one artifact. Pure: every input is a value.
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { ciOutcomes, kojiBuilds, type Artifact, type CiOutcome } from "./artifact.js";
import { bodhiSeverities, bodhiUpdateTypes } from "./documents/bodhiUpdate.js";
import { API_VERSION, ENVIRONMENT_NAME_PATTERN, parseYaml, validateDocument, type DocumentIssue, type DocumentParse } from "./documents/envelope.js";
import type { Environment } from "./environment.js";
import { describeTestcase, describeWaiver, latestResults, standingWaivers, waiverActsOn, waiverMatching, waiverOf, type ReceivedResult, type Waiver } from "./gating.js";
import { evrOfNvr, matchesEvrRange, parseEvrRange, type EvrRange } from "./evr.js";
import type { Freeze } from "./freeze.js";
import { GLOB_PATTERN, matchesGlob, matchesGlobs } from "./glob.js";
import { parseNvr } from "./nvr.js";
import { releaseRequirement } from "./release.js";
import { releaseStop } from "./releaseGate.js";
import { describeScheduleRefusal, parseSchedule, type Schedule } from "./schedule.js";
import { repoclosureTargetSchema, repoclosureTargetShape, type RepoclosureTarget } from "./repoclosure.js";

const globs = z.array(wellFormedString().regex(GLOB_PATTERN, "must be a glob like python-* or !kernel")).min(1).max(100);
// An rpm version range (`>= 2.0, < 3`) checked against the artifact's koji-build NVRs.
const evrRangeText = wellFormedString()
  .max(500)
  .superRefine((text, ctx) => {
    const r = parseEvrRange(text);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason });
  });
const durationText = wellFormedString().regex(/^[1-9][0-9]{0,4}[mhdw]$/, "must be a duration like 7d, 12h or 30m");

export const policyTriggers = ["artifact", "results", "schedule"] as const;

const scheduleSchema = z
  .strictObject({ cron: wellFormedString().min(1).max(100), timezone: wellFormedString().min(1).max(64).default("UTC") })
  .superRefine((s, ctx) => {
    const parsed = parseSchedule(s.cron, s.timezone);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: describeScheduleRefusal(parsed), path: [parsed.field === "timezone" ? "timezone" : "cron"] });
  });

const policyMetadata = z.strictObject({
  name: wellFormedString().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and -"),
  description: wellFormedString().max(500).optional(),
});

export const policySchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Policy"),
    metadata: policyMetadata,
    spec: z.strictObject({
      on: z.array(z.enum(policyTriggers)).min(1).max(3),
      schedule: scheduleSchema.optional(),
      /** For a schedule: which artifacts to look at (those pushed to an environment). */
      select: z
        .strictObject({
          pushedTo: wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name"),
          limit: z.number().int().min(1).max(100_000).default(10_000),
        })
        .optional(),
      match: z
        .strictObject({
          package: globs.optional(),
          release: globs.optional(),
          branch: globs.optional(),
          event: globs.optional(),
          nvr: globs.optional(),
          sideTag: globs.optional(),
          target: globs.optional(),
          evr: evrRangeText.optional(),
        })
        .default({}),
      require: z
        .strictObject({
          results: z
            .array(z.strictObject({ testcase: wellFormedString().regex(GLOB_PATTERN, "must be a testcase or a glob"), outcomes: z.array(z.enum(ciOutcomes)).min(1).default(["PASSED"]) }))
            .max(50)
            .default([]),
          allPassed: z.boolean().default(false),
          noFailed: z.boolean().default(false),
          minAge: z.strictObject({ duration: durationText, sincePushedTo: wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name") }).optional(),
        })
        .default({ results: [], allPassed: false, noFailed: false }),
      release: z.strictObject({
        environment: wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name"),
        trigger: wellFormedString().regex(/^[a-z0-9][a-z0-9/:._-]{0,99}$/, "must be a trigger label").optional(),
        bodhi: z
          .strictObject({ type: z.enum(bodhiUpdateTypes).optional(), severity: z.enum(bodhiSeverities).optional(), notes: wellFormedString().max(5000).optional() })
          .optional(),
        bulk: z.boolean().default(false),
      }),
    }),
  })
  .refine((p) => !p.spec.on.includes("schedule") || p.spec.schedule !== undefined, { message: "a policy on schedule needs spec.schedule.cron", path: ["spec", "schedule"] });

export type Policy = z.output<typeof policySchema>;

/**
 * The target of a report policy (issue 18): what the scheduled broken-dependency report checks.
 * `tree` names it in people's words; the rest is the repoclosure target the gate reads too.
 */
const reportTargetSchema = z.strictObject({ tree: wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "must be a tree name like rawhide or f45-build"), ...repoclosureTargetShape }).superRefine((t, ctx) => {
  // The target's own cross-field rules (a repo named twice, `check` naming no repo), at the same paths.
  const { tree: _tree, ...target } = t;
  const checked = repoclosureTargetSchema.safeParse(target);
  if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path.filter((p): p is string | number => typeof p !== "symbol") });
});

/**
 * A report policy: `spec.report` instead of `spec.release`. It runs on a schedule only (a
 * report is about a repository set, not about one artifact), and produces the broken-dependency
 * report of its target each slot, mailing what changed.
 */
export const reportPolicySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Policy"),
  metadata: policyMetadata,
  spec: z.strictObject({
    on: z
      .array(z.enum(policyTriggers))
      .min(1)
      .max(3)
      .refine((on) => on.every((t) => t === "schedule"), "a report policy runs on schedule only: on: [schedule]"),
    schedule: scheduleSchema.optional(),
    report: reportTargetSchema,
  }),
}).refine((p) => p.spec.schedule !== undefined, { message: "a report policy needs spec.schedule.cron", path: ["spec", "schedule"] });

export type ReportPolicy = z.output<typeof reportPolicySchema>;

/** A `kind: Policy` document: a release policy or a report policy. */
export type AnyPolicy = Policy | ReportPolicy;

export function isReportPolicy(policy: AnyPolicy): policy is ReportPolicy {
  return "report" in policy.spec;
}

/** The report policy's target as the repoclosure checks take it. */
export function reportTarget(policy: ReportPolicy): { tree: string; target: RepoclosureTarget } {
  const { tree, ...target } = policy.spec.report;
  return { tree, target };
}

/**
 * Validates a `kind: Policy` document: a report policy when its spec has `report`, else a release
 * policy. A spec with both is refused on its own line rather than as an unknown key.
 */
export function validatePolicyDocument(raw: unknown, lineOf: (path: (string | number)[]) => number | undefined = () => undefined): DocumentParse<AnyPolicy> {
  const spec = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>).spec : undefined;
  const specKeys = spec !== null && typeof spec === "object" && !Array.isArray(spec) ? Object.keys(spec) : [];
  if (specKeys.includes("report") && specKeys.includes("release")) {
    return { ok: false, issues: [issueAt(lineOf, ["spec", "report"], "a policy has spec.release (release an artifact) or spec.report (a scheduled report), not both")] };
  }
  if (specKeys.includes("report")) {
    const extra = specKeys.filter((k) => !["on", "schedule", "report"].includes(k));
    if (extra.length > 0) {
      return {
        ok: false,
        issues: extra.map((k) => issueAt(lineOf, ["spec", k], `a report policy has no ${k}: it checks spec.report's repositories on spec.schedule`)),
      };
    }
    return validateDocument(reportPolicySchema, raw, lineOf);
  }
  return validateDocument(policySchema, raw, lineOf);
}

function issueAt(lineOf: (path: (string | number)[]) => number | undefined, path: string[], message: string): DocumentIssue {
  const line = lineOf(path);
  const pointer = `/${path.join("/")}`;
  return line === undefined ? { path: pointer, message } : { path: pointer, message, line };
}

/** The policy's schedule as the timer and the slot code read it; undefined when it has none. */
export function policySchedule(policy: AnyPolicy): Schedule | undefined {
  const s = policy.spec.schedule;
  if (!s) return undefined;
  // policySchema checked it with the same function: a Policy value never fails here.
  const parsed = parseSchedule(s.cron, s.timezone);
  return parsed.ok ? parsed.value : undefined;
}

/** A parsed policy file; a valid one keeps the way back from a field to its line, for problems found later (an unknown environment). */
export type PolicyParse = { ok: true; value: Policy; lineOf: (path: (string | number)[]) => number | undefined } | { ok: false; issues: DocumentIssue[] };

export function parsePolicyYaml(text: string): PolicyParse {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  const parsed = validateDocument(policySchema, yaml.value, yaml.lineOf);
  return parsed.ok ? { ok: true, value: parsed.value, lineOf: yaml.lineOf } : parsed;
}

/** Like parsePolicyYaml, for either kind of policy (what `relengd policy lint` and the loader accept). */
export function parseAnyPolicyYaml(text: string): DocumentParse<AnyPolicy> {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  return validatePolicyDocument(yaml.value, yaml.lineOf);
}

export function policyTrigger(policy: Policy): string {
  return policy.spec.release.trigger ?? `policy/${policy.metadata.name}`;
}

/** Everything a decision depends on besides the policy and the artifact. */
export interface DecisionContext {
  now: Date;
  /** Results appended to the artifact after it was pushed; of one (testcase, scenario) the latest decides (see gating.ts). */
  results: readonly ReceivedResult[];
  /** When relengd received the artifact (its own ci-result items arrived then). */
  artifactReceivedAt?: Date;
  /** Waivers of this artifact's results (made on it, or on one of its builds), in arrival order. */
  waivers: readonly Waiver[];
  /** Freezes of the policy's target environment. */
  freezes: readonly Freeze[];
  /** The hold on (target environment, package), if any. */
  hold?: { reason: string };
  /** When this artifact was pushed to an environment (for minAge), by environment name. */
  pushedAt: ReadonlyMap<string, Date>;
  /** Whether the target environment is declared. */
  environmentExists: boolean;
  /** An earlier release of this artifact to the target environment that still stands. */
  alreadyReleased?: { releaseId: string; status: string };
}

export type Decision = { fire: true; /** requirements met only through waivers, in words */ waived?: string[] } | { fire: false; reason: string; /** true when a later event may change the answer */ waiting: boolean };

/** Why the artifact does not match, or undefined when it matches. */
export function mismatch(policy: Policy, artifact: Artifact): string | undefined {
  const m = policy.spec.match;
  const simple =
    oneMismatch("package", m.package, artifact.package) ??
    oneMismatch("release", m.release, artifact.release) ??
    oneMismatch("branch", m.branch, artifact.source.branch) ??
    oneMismatch("event", m.event, artifact.source.event);
  if (simple !== undefined || (!m.nvr && !m.sideTag && !m.target && m.evr === undefined)) return simple;
  const builds = kojiBuilds(artifact);
  return (
    (m.nvr && manyMismatch("nvr", m.nvr, builds.map((b) => b.nvr))) ||
    (m.sideTag && manyMismatch("sideTag", m.sideTag, builds.map((b) => b.sideTag))) ||
    (m.target && manyMismatch("target", m.target, builds.map((b) => b.target))) ||
    (m.evr !== undefined && evrMismatch(m.evr, builds.map((b) => b.nvr))) ||
    undefined
  );
}

// Parsed ranges by their text: a policy set keeps a handful, evaluated for every artifact.
const evrRanges = new Map<string, EvrRange>();

function evrRange(text: string): EvrRange {
  let range = evrRanges.get(text);
  if (!range) {
    const parsed = parseEvrRange(text);
    // The schema refused unparseable text when the policy was loaded.
    if (!parsed.ok) throw new Error(`match.evr ${text} ${parsed.reason}`);
    range = parsed.range;
    // Reloads may bring new texts; old ones are only dropped wholesale, and re-parsed cheaply if still used.
    if (evrRanges.size >= 1_000) evrRanges.clear();
    evrRanges.set(text, range);
  }
  return range;
}

/** Like the glob fields, one koji build in the range is enough (a multi-build update matches through any of its builds). */
function evrMismatch(text: string, nvrs: readonly string[]): string | undefined {
  if (nvrs.length === 0) return `artifact has no koji-build to match evr ${text}`;
  const range = evrRange(text);
  const inRange = nvrs.some((nvr) => {
    const parsed = parseNvr(nvr);
    return parsed.ok && matchesEvrRange(evrOfNvr(parsed.nvr), range);
  });
  return inRange ? undefined : `nvr ${nvrs.join(", ")} is outside evr range ${text}`;
}

function oneMismatch(field: string, list: readonly string[] | undefined, value: string | undefined): string | undefined {
  if (!list) return undefined;
  if (value === undefined) return `artifact has no ${field} to match ${list.join(", ")}`;
  return matchesGlobs(value, list) ? undefined : `${field} ${value} does not match ${list.join(", ")}`;
}

function manyMismatch(field: string, list: readonly string[], values: readonly (string | undefined)[]): string | undefined {
  const present = values.filter((v): v is string => v !== undefined);
  if (present.length === 0) return `artifact has no ${field} to match ${list.join(", ")}`;
  return present.some((v) => matchesGlobs(v, list)) ? undefined : `${field} ${present.join(", ")} does not match ${list.join(", ")}`;
}

// One evaluation asks for the same artifact's results once per policy: computed once per (artifact, appended list).
const latestCache = new WeakMap<Artifact, { appended: readonly ReceivedResult[]; results: readonly ReceivedResult[] }>();

/**
 * The artifact's deciding CI results, one per (testcase, scenario): its own ci-result items and
 * the appended results, the latest by the result's own time, else by arrival (Greenwave's rule).
 */
export function effectiveResults(artifact: Artifact, appended: readonly ReceivedResult[], receivedAt?: Date): readonly ReceivedResult[] {
  const hit = latestCache.get(artifact);
  if (hit && hit.appended === appended) return hit.results;
  const own = artifact.items.filter((i) => i.kind === "ci-result");
  const results = latestResults(own, receivedAt, appended);
  latestCache.set(artifact, { appended, results });
  return results;
}

const FAILING: readonly CiOutcome[] = ["FAILED", "ERROR"];
const PENDING: readonly CiOutcome[] = ["QUEUED", "RUNNING"];

function durationMs(text: string): number {
  const n = Number(text.slice(0, -1));
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[text.slice(-1) as "m" | "h" | "d" | "w"];
  return n * unit;
}

/** Whether the requirements are met (and which only through waivers), or why not and whether waiting may help. */
export type Gate = { met: true; waived: string[] } | { met: false; reason: string; waiting: boolean };

/**
 * The policy's requirements against the deciding results: a failed, pending or missing result
 * a standing waiver covers counts as met, and the decision says so ("waived by X: comment").
 */
export function gate(policy: Policy, artifact: Artifact, ctx: DecisionContext): Gate {
  const req = policy.spec.require;
  const waived: string[] = [];
  if (req.results.length === 0 && !req.noFailed && !req.allPassed && !req.minAge) return { met: true, waived };
  const results = effectiveResults(artifact, ctx.results, ctx.artifactReceivedAt);
  const target = policy.spec.release.environment;
  const waivers = ctx.waivers.length > 0 ? standingWaivers(ctx.waivers.filter((w) => waiverActsOn(w, target))) : [];
  const waiverFor = (r: ReceivedResult) => waiverOf(waivers, r.testcase, r.scenario);
  for (const r of req.results) {
    const matching = results.filter((x) => matchesGlob(x.testcase, r.testcase));
    if (matching.length === 0) {
      const w = waiverMatching(waivers, r.testcase);
      if (w) {
        waived.push(`required testcase ${r.testcase} has no result; ${describeWaiver(w)}`);
        continue;
      }
      return { met: false, reason: `required testcase ${r.testcase} has no result yet`, waiting: true };
    }
    for (const bad of matching.filter((x) => !r.outcomes.includes(x.outcome))) {
      const w = waiverFor(bad);
      if (w) {
        waived.push(`required testcase ${describeTestcase(bad)} is ${bad.outcome}; ${describeWaiver(w)}`);
        continue;
      }
      const pending = PENDING.includes(bad.outcome);
      return { met: false, reason: `required testcase ${describeTestcase(bad)} is ${bad.outcome}${pending ? "" : ` (needs ${r.outcomes.join(" or ")})`}`, waiting: pending };
    }
  }
  if (req.noFailed) {
    for (const failed of results.filter((x) => FAILING.includes(x.outcome))) {
      const w = waiverFor(failed);
      if (!w) return { met: false, reason: `testcase ${describeTestcase(failed)} is ${failed.outcome}`, waiting: false };
      waived.push(`testcase ${describeTestcase(failed)} is ${failed.outcome}; ${describeWaiver(w)}`);
    }
  }
  if (req.allPassed) {
    for (const notPassed of results.filter((x) => x.outcome !== "PASSED" && x.outcome !== "INFO")) {
      const w = waiverFor(notPassed);
      if (!w) return { met: false, reason: `testcase ${describeTestcase(notPassed)} is ${notPassed.outcome}, not PASSED`, waiting: PENDING.includes(notPassed.outcome) };
      waived.push(`testcase ${describeTestcase(notPassed)} is ${notPassed.outcome}; ${describeWaiver(w)}`);
    }
  }
  if (req.minAge) {
    const since = ctx.pushedAt.get(req.minAge.sincePushedTo);
    if (!since) return { met: false, reason: `not yet pushed to ${req.minAge.sincePushedTo}`, waiting: true };
    const due = since.getTime() + durationMs(req.minAge.duration);
    if (ctx.now.getTime() < due) {
      return { met: false, reason: `pushed to ${req.minAge.sincePushedTo} ${since.toISOString()}; ${req.minAge.duration} not yet passed (due ${new Date(due).toISOString()})`, waiting: true };
    }
  }
  return { met: true, waived: [...new Set(waived)] };
}

/** Why the requirements are not met (and whether waiting may help), or undefined when they are. */
export function unmetRequirement(policy: Policy, artifact: Artifact, ctx: DecisionContext): { reason: string; waiting: boolean } | undefined {
  const g = gate(policy, artifact, ctx);
  return g.met ? undefined : { reason: g.reason, waiting: g.waiting };
}

/**
 * The decision of one policy for one artifact. The writer runs the same function again just
 * before writing, so a release that no longer qualifies is blocked rather than written.
 */
export function decide(policy: Policy, artifact: Artifact, ctx: DecisionContext): Decision {
  const target = policy.spec.release.environment;
  const mis = mismatch(policy, artifact);
  if (mis) return { fire: false, reason: mis, waiting: false };
  if (!ctx.environmentExists) return { fire: false, reason: `environment ${target} is not declared`, waiting: false };
  if (ctx.alreadyReleased) return { fire: false, reason: `already released to ${target} (release ${ctx.alreadyReleased.releaseId}, ${ctx.alreadyReleased.status})`, waiting: false };
  const gated = gate(policy, artifact, ctx);
  if (!gated.met) return { fire: false, reason: gated.reason, waiting: gated.waiting };
  const stop = releaseStop({ environment: target, package: artifact.package, artifactId: artifact.id, freezes: ctx.freezes, hold: ctx.hold, now: ctx.now });
  if (stop) return { fire: false, reason: stop.reason, waiting: true };
  return gated.waived.length > 0 ? { fire: true, waived: gated.waived } : { fire: true };
}

/**
 * Everything besides the policy and the artifact that one evaluation's decisions depend on,
 * gathered once for all policies: from the store on the server, from flags in a dry run.
 * `R` is what the caller resolves a repository name to.
 */
export interface DecisionFacts<R> {
  now: Date;
  results: readonly ReceivedResult[];
  /** When relengd received the artifact; absent in a dry run (then list order alone orders results). */
  artifactReceivedAt?: Date;
  waivers: readonly Waiver[];
  /** Declared environments, by name. */
  environments: ReadonlyMap<string, Environment>;
  /** Declared repositories, by name. */
  repositories: ReadonlyMap<string, R>;
  pushedAt: ReadonlyMap<string, Date>;
  /** Holds on (environment, this artifact's package), by environment. */
  holds: ReadonlyMap<string, { reason: string }>;
  /** Releases of this artifact that still stand, by environment. */
  standing: ReadonlyMap<string, { releaseId: string; status: string }>;
}

/** The context one policy decides in: the facts seen from its target environment. */
export function decisionContext(policy: Policy, facts: DecisionFacts<unknown>): DecisionContext {
  const target = policy.spec.release.environment;
  const env = facts.environments.get(target);
  const hold = facts.holds.get(target);
  const standing = facts.standing.get(target);
  return {
    now: facts.now,
    results: facts.results,
    waivers: facts.waivers,
    ...(facts.artifactReceivedAt ? { artifactReceivedAt: facts.artifactReceivedAt } : {}),
    freezes: env?.freezes ?? [],
    pushedAt: facts.pushedAt,
    environmentExists: env !== undefined,
    ...(hold ? { hold } : {}),
    ...(standing ? { alreadyReleased: standing } : {}),
  };
}

/** A policy's decision; when it fires, with what the release needs. */
export type PolicyDecision<R> =
  | {
      fire: true;
      environment: Environment;
      repository: R;
      /** The NVRs the request document names (none for a compose). */
      nvrs: string[];
      /** Requirements met only through waivers, in words ("… is FAILED; waived by X: comment"). */
      waived?: string[];
    }
  | { fire: false; reason: string; /** true when a later event may change the answer */ waiting: boolean };

/**
 * decide(), then whether the artifact carries what the target environment's request document
 * needs and whether the environment's repository is declared: what the server releases on.
 */
export function decidePolicy<R>(policy: Policy, artifact: Artifact, facts: DecisionFacts<R>): PolicyDecision<R> {
  const decision = decide(policy, artifact, decisionContext(policy, facts));
  if (!decision.fire) return decision;
  const target = policy.spec.release.environment;
  const environment = facts.environments.get(target);
  if (!environment) return { fire: false, reason: `environment ${target} is not declared`, waiting: false };
  const requirement = releaseRequirement(artifact, environment);
  if (!requirement.ok) return { fire: false, reason: requirement.reason, waiting: false };
  const repository = facts.repositories.get(environment.repository);
  if (repository === undefined) return { fire: false, reason: `repository ${environment.repository} is not declared`, waiting: false };
  return { fire: true, environment, repository, nvrs: requirement.nvrs, ...(decision.waived ? { waived: decision.waived } : {}) };
}
