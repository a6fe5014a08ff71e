// Use case: policies look at an artifact (pushed, or results appended) and release it where
// they say; every policy leaves a decision in words.
import { kojiBuilds, type Artifact } from "../domain/artifact.js";
import { ruleRefusal, type ArtifactRuleOptions } from "../domain/artifactRules.js";
import type { ReceivedResult, Waiver } from "../domain/gating.js";
import { heldReason } from "../domain/hold.js";
import { decidePolicy, mismatch, policyTrigger, type DecisionFacts, type Policy } from "../domain/policy.js";
import { effectivePreflight } from "../domain/releaseGate.js";
import type { ResolvedRepository } from "../policy/environments.js";
import type { PolicySet } from "../policy/loader.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { DecisionRepository, NewDecision } from "../store/decisionRepository.js";
import type { Store, Tx } from "../store/store.js";
import type { WaiverRepository } from "../store/waiverRepository.js";
import type { EnqueueOutcome, NewRelease, ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import { wakeFor } from "./release.js";

export interface EvaluateDeps {
  /** Where a push's artifacts and what the policies decide about them commit together. */
  store: Store;
  artifacts: ArtifactRepository;
  releases: ReleaseRepository;
  decisions: DecisionRepository;
  waivers: WaiverRepository;
  policies: () => PolicySet;
  notify: (repository: string) => void;
  /** Wakes the repoclosure gate: a release waits for its environment's preflight. */
  checking?: () => void;
  /** The ingest rules: an artifact stored before them that breaks one is never released by a policy. */
  rules: ArtifactRuleOptions;
  now?: () => Date;
  /** Told every decision once it is stored (metrics). */
  decided?: (decisions: readonly NewDecision[]) => void;
}

/** What an evaluation runs on; a waiver (made or revoked) runs the policies that run on results. */
export type PolicyEvent = "artifact" | "results" | "schedule" | "waiver";

/** The artifact as a caller already has it: saves reading it back. */
export interface KnownArtifact {
  artifact: Artifact;
  results: readonly ReceivedResult[];
  /** When relengd received the artifact. */
  createdAt?: Date;
}

/** What the append use case calls once its write is durable (a push is evaluated in its own transaction). */
export type PolicyEventHandler = (artifactId: string, event: PolicyEvent, known?: KnownArtifact) => Promise<void>;

/**
 * Binds evaluation for the use cases. A failure is logged, never turned into a failed push: the
 * artifact is already stored, and the decision can be made again (`relengd policy explain`).
 */
export function policyEventHandler(deps: EvaluateDeps, onError: (err: unknown, artifactId: string) => void): PolicyEventHandler {
  return async (artifactId, event, known) => {
    try {
      await evaluatePolicies(deps, artifactId, event, undefined, known);
    } catch (err) {
      onError(err, artifactId);
    }
  };
}

/** What policies decide about one artifact: decisions that fire nothing, and releases to queue. */
interface Plan {
  decisions: NewDecision[];
  releases: NewRelease[];
}

/** Pure: the decisions of `policies` for one artifact, given what is known of its releases. */
function plan(
  set: PolicySet,
  policies: readonly Policy[],
  artifact: Artifact,
  received: { results: readonly ReceivedResult[]; createdAt?: Date | undefined; waivers: readonly Waiver[] },
  history: readonly ReleaseRecord[],
  event: PolicyEvent,
  now: Date,
  /** Why the artifact may not be released at all (an ingest rule it breaks), if it may not. */
  refused?: string,
): Plan {
  const pushedAt = new Map<string, Date>();
  const standing = new Map<string, { releaseId: string; status: string }>();
  for (const r of history) {
    if (r.status === "pushed" && r.pushedAt && !pushedAt.has(r.environment)) pushedAt.set(r.environment, r.pushedAt);
    if (!["failed", "superseded", "blocked"].includes(r.status) && !standing.has(r.environment)) standing.set(r.environment, { releaseId: r.id, status: r.status });
  }
  const { environments, repositories } = set.environments;
  // Holds are checked where the release is queued (atomically), not read here first.
  const facts: DecisionFacts<ResolvedRepository> = {
    now,
    results: received.results,
    waivers: received.waivers,
    ...(received.createdAt ? { artifactReceivedAt: received.createdAt } : {}),
    environments,
    repositories,
    pushedAt,
    holds: new Map(),
    standing,
  };
  const out: Plan = { decisions: [], releases: [] };
  for (const policy of policies) {
    const target = policy.spec.release.environment;
    const decision = decidePolicy(policy, artifact, facts);
    const base = { artifactId: artifact.id, policy: policy.metadata.name, event };
    if (!decision.fire) {
      out.decisions.push({ ...base, fired: false, waiting: decision.waiting, releaseId: null, reason: decision.reason });
      continue;
    }
    if (refused !== undefined) {
      out.decisions.push({ ...base, fired: false, waiting: false, releaseId: null, reason: refused });
      continue;
    }
    // Scheduled (and every policy) releases are checked with the environment's own preflight.
    const env = environments.get(target);
    const preflight = env ? effectivePreflight(env) : undefined;
    // The decision is written in the release's own transaction, from the queueing's outcome.
    out.releases.push({
      ...(preflight ? { preflight } : {}),
      artifactId: artifact.id,
      environment: target,
      repository: decision.repository.name,
      branch: decision.repository.branch,
      package: artifact.package,
      trigger: policyTrigger(policy),
      createdBy: `policy/${policy.metadata.name}`,
      force: false,
      bulk: policy.spec.release.bulk,
      decision: (outcome) => decisionOf(base, target, outcome, decision.waived),
    });
  }
  return out;
}

function policiesFor(set: PolicySet, event: PolicyEvent, only?: string): Policy[] {
  // A waiver changes what the results mean: the policies that wait for results decide again.
  const trigger = event === "waiver" ? "results" : event;
  return set.policies.filter((p) => p.spec.on.includes(trigger) && (only === undefined || p.metadata.name === only));
}

export async function evaluatePolicies(
  deps: EvaluateDeps,
  artifactId: string,
  event: PolicyEvent,
  only?: string,
  /** The artifact as the caller already has it: saves reading it back. */
  known?: KnownArtifact,
): Promise<NewDecision[]> {
  const set = deps.policies();
  const policies = policiesFor(set, event, only);
  if (policies.length === 0) return [];
  const stored = known ?? (await deps.artifacts.get(artifactId));
  if (!stored) return [];
  const artifact = stored.artifact;
  // Matching is pure: a policy that does not match needs nothing from the store.
  const anyMatch = policies.some((p) => mismatch(p, artifact) === undefined);
  const history = anyMatch ? (await deps.releases.list({ artifactId, limit: 500 })).items : [];
  const waivers = anyMatch ? await deps.waivers.forArtifact(artifactId, kojiBuilds(artifact).map((b) => b.nvr)) : [];
  // A stored result's outcome arrived when it was last updated.
  const results = stored.results.map((r) => ("updatedAt" in r && r.updatedAt instanceof Date ? { ...r, receivedAt: r.updatedAt } : r));
  const p = plan(set, policies, artifact, { results, createdAt: stored.createdAt, waivers }, history, event, deps.now?.() ?? new Date(), ruleRefusal(artifact, deps.rules));
  const fired = p.releases.map(async (input) => {
    const outcome = await deps.releases.enqueue(input);
    if (outcome.status === "queued") wakeFor(deps, outcome.release);
    return (input.decision as NonNullable<NewRelease["decision"]>)(outcome);
  });
  const [firedDecisions] = await Promise.all([Promise.all(fired), deps.decisions.record(p.decisions)]);
  const all = [...p.decisions, ...firedDecisions];
  deps.decided?.(all);
  return all;
}

/** What the policies decided about artifacts just stored, for after the commit. */
export interface CreatedEvaluation {
  /** Every decision recorded, fired or not. */
  decisions: NewDecision[];
  /** The repositories a release was queued for: their writers have work. */
  queuedIn: Set<string>;
  /** A release waits for its preflight: the repoclosure gate has work. */
  checking: boolean;
}

/**
 * The policies on artifacts just stored, inside the transaction that stores them: the
 * artifacts, the decisions about them and the releases they fire commit together, so a crash
 * cannot keep an accepted artifact and lose its decision. The ingest rules are not asked again:
 * a pushed artifact passed them, a mirrored one follows them by construction (its release is
 * read from its build's dist tag).
 */
export async function evaluateCreatedIn(
  deps: Pick<EvaluateDeps, "releases" | "decisions" | "waivers" | "policies" | "now">,
  tx: Tx,
  created: readonly Artifact[],
): Promise<CreatedEvaluation> {
  const set = deps.policies();
  const policies = policiesFor(set, "artifact");
  if (policies.length === 0 || created.length === 0) return { decisions: [], queuedIn: new Set(), checking: false };
  const now = deps.now?.() ?? new Date();
  const decisions: NewDecision[] = [];
  const releases: NewRelease[] = [];
  // WaiverDB may have waived a build before an artifact carrying it was pushed; only gating policies need them.
  const gating = policies.some((p) => p.spec.require.results.length > 0 || p.spec.require.noFailed || p.spec.require.allPassed);
  const waivers = gating ? await deps.waivers.forNvrsIn(tx, created.flatMap((a) => kojiBuilds(a).map((b) => b.nvr))) : new Map<string, Waiver[]>();
  for (const artifact of created) {
    // Just stored: no releases exist yet, and no results but its own items.
    const own = kojiBuilds(artifact).flatMap((b) => waivers.get(b.nvr) ?? []);
    const p = plan(set, policies, artifact, { results: [], createdAt: now, waivers: own }, [], "artifact", now);
    decisions.push(...p.decisions);
    releases.push(...p.releases);
  }
  const outcomes = await deps.releases.enqueueIn(tx, releases, { fresh: true, recordDecisions: false });
  const fired = releases.map((r, i) => (r.decision as NonNullable<NewRelease["decision"]>)(outcomes[i] as EnqueueOutcome));
  // Every decision of the batch in one statement: a round trip fewer per push on PostgreSQL.
  // The releases' decisions first, in the order they were stored before.
  await deps.decisions.recordIn(tx, [...fired, ...decisions]);
  return {
    decisions: [...decisions, ...fired],
    queuedIn: new Set(releases.filter((r, i) => outcomes[i]?.status === "queued" && !r.preflight).map((r) => r.repository)),
    checking: releases.some((r, i) => outcomes[i]?.status === "queued" && r.preflight),
  };
}

function decisionOf(base: Pick<NewDecision, "artifactId" | "policy" | "event">, target: string, outcome: EnqueueOutcome, waived?: string[]): NewDecision {
  switch (outcome.status) {
    case "queued":
      // A release that went through only by waivers says so in its decision (policy explain).
      return { ...base, fired: true, waiting: false, releaseId: outcome.release.id, reason: waived && waived.length > 0 ? waived.join("; ") : null };
    case "held":
      return { ...base, fired: false, waiting: true, releaseId: null, reason: heldReason(outcome.hold) };
    case "duplicate":
      return { ...base, fired: false, waiting: false, releaseId: null, reason: `already released to ${target} (release ${outcome.existing.id}, ${outcome.existing.status})` };
  }
}


