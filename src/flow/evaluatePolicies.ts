// Use case: policies look at an artifact (pushed, or results appended) and release it where
// they say; every policy leaves a decision in words.
import { activeFreeze } from "../domain/freeze.js";
import type { Artifact, CiResultItem } from "../domain/artifact.js";
import { decidePolicy, mismatch, policyTrigger, type DecisionFacts } from "../domain/policy.js";
import type { ResolvedRepository } from "../policy/environments.js";
import type { PolicySet } from "../policy/loader.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { DecisionRepository, NewDecision } from "../store/decisionRepository.js";
import type { EnqueueOutcome, ReleaseRepository } from "../store/releaseRepository.js";

export interface EvaluateDeps {
  artifacts: ArtifactRepository;
  releases: ReleaseRepository;
  decisions: DecisionRepository;
  policies: () => PolicySet;
  notify: (repository: string) => void;
  now?: () => Date;
}

export type PolicyEvent = "artifact" | "results" | "schedule";

/** What the push and append use cases call once their write is durable. */
export type PolicyEventHandler = (artifactId: string, event: PolicyEvent, known?: { artifact: Artifact; results: readonly CiResultItem[] }) => Promise<void>;

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

export async function evaluatePolicies(
  deps: EvaluateDeps,
  artifactId: string,
  event: PolicyEvent,
  only?: string,
  /** The artifact as the caller already has it (a push): saves reading it back. */
  known?: { artifact: Artifact; results: readonly CiResultItem[] },
): Promise<NewDecision[]> {
  const set = deps.policies();
  const policies = set.policies.filter((p) => p.spec.on.includes(event) && (only === undefined || p.metadata.name === only));
  if (policies.length === 0) return [];
  const stored = known ?? (await deps.artifacts.get(artifactId));
  if (!stored) return [];
  const artifact = stored.artifact;
  const now = deps.now?.() ?? new Date();
  // Matching is pure: a policy that does not match needs nothing from the store, and an artifact
  // that was just pushed has no releases yet.
  const matching = new Set(policies.filter((p) => mismatch(p, artifact) === undefined));
  const history = matching.size > 0 && !(event === "artifact" && known) ? (await deps.releases.list({ artifactId, limit: 500 })).items : [];
  const pushedAt = new Map<string, Date>();
  const standing = new Map<string, { releaseId: string; status: string }>();
  for (const r of history) {
    if (r.status === "pushed" && r.pushedAt && !pushedAt.has(r.environment)) pushedAt.set(r.environment, r.pushedAt);
    if (!["failed", "superseded", "blocked"].includes(r.status) && !standing.has(r.environment)) standing.set(r.environment, { releaseId: r.id, status: r.status });
  }
  const { environments, repositories } = set.environments;
  // Holds are checked where the release is queued (atomically), not read here first.
  const facts: DecisionFacts<ResolvedRepository> = { now, results: stored.results, environments, repositories, pushedAt, holds: new Map(), standing };

  const decisions: NewDecision[] = [];
  const firing: Promise<NewDecision>[] = [];
  for (const policy of policies) {
    const target = policy.spec.release.environment;
    const decision = decidePolicy(policy, artifact, facts);
    const base = { artifactId, policy: policy.metadata.name, event };
    if (!decision.fire) {
      decisions.push({ ...base, fired: false, waiting: decision.waiting, releaseId: null, reason: decision.reason });
      continue;
    }
    const repo = decision.repository;
    // The decision is written in the release's own transaction: one commit for both.
    firing.push(
      deps.releases
        .enqueue({
          artifactId,
          environment: target,
          repository: repo.name,
          branch: repo.branch,
          package: artifact.package,
          trigger: policyTrigger(policy),
          createdBy: `policy/${policy.metadata.name}`,
          force: false,
          bulk: policy.spec.release.bulk,
          decision: (outcome) => decisionOf(base, target, artifact.package, outcome),
        })
        .then((outcome) => {
          if (outcome.status === "queued") deps.notify(repo.name);
          return decisionOf(base, target, artifact.package, outcome);
        }),
    );
  }
  const [fired] = await Promise.all([Promise.all(firing), deps.decisions.record(decisions)]);
  return [...decisions, ...fired];
}

function decisionOf(base: Pick<NewDecision, "artifactId" | "policy" | "event">, target: string, pkg: string, outcome: EnqueueOutcome): NewDecision {
  switch (outcome.status) {
    case "queued":
      return { ...base, fired: true, waiting: false, releaseId: outcome.release.id, reason: null };
    case "held":
      return { ...base, fired: false, waiting: true, releaseId: null, reason: `${target}/${pkg} is held: ${outcome.hold.reason}` };
    case "duplicate":
      return { ...base, fired: false, waiting: false, releaseId: null, reason: `already released to ${target} (release ${outcome.existing.id}, ${outcome.existing.status})` };
  }
}


/** The freeze check the writer repeats for policy releases at write time. */
export function frozenAtWriteTime(set: PolicySet, environment: string, pkg: string, artifactId: string, now: Date): string | undefined {
  const env = set.environments.environments.get(environment);
  if (!env) return undefined;
  const active = activeFreeze(env.freezes, now, pkg, artifactId);
  return active ? `environment ${environment} frozen until ${active.until.toISOString().slice(0, 10)} (${active.freeze.reason})` : undefined;
}
