// Use case: a CI pipeline pushes a release artifact. It is checked (the token may push it, it
// keeps the ingest rules), stored, and the policies on new artifacts decide about it: the
// releases they fire are queued and every decision recorded, in the one transaction that stores
// the artifact. Concurrent pushes share that transaction. Once it is committed, the writers of
// the queued releases are woken.
import type { Artifact, FieldIssue } from "../domain/artifact.js";
import { artifactRuleViolations, buildsOutsideScope, describeViolations, type ArtifactRuleOptions, type RuleViolation } from "../domain/artifactRules.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { IngestOutcome } from "../store/artifactRepository.js";
import { GroupCommit } from "../store/groupCommit.js";
import { evaluateCreatedIn, type EvaluateDeps } from "./evaluatePolicies.js";

export type PushArtifactResult =
  | IngestOutcome
  /** `issues` names each koji-build outside the token's scope. */
  | { status: "forbidden"; reason: string; issues?: FieldIssue[] }
  | { status: "rule-broken"; reason: string; violations: RuleViolation[] };

/** Where accepted pushes go to be stored and decided on (pushQueue). */
export interface PushQueue {
  submit(artifact: Artifact): Promise<IngestOutcome>;
}

export interface PushDeps {
  pushes: PushQueue;
  rules: ArtifactRuleOptions;
}

/** What storing pushed artifacts needs: the store and repositories, the policies, the writer's wake-up. */
export type StoreArtifactsDeps = Omit<EvaluateDeps, "rules">;

export async function pushArtifact(deps: PushDeps, principal: Principal, artifact: Artifact): Promise<PushArtifactResult> {
  const refused = refusal(principal, artifact, deps.rules);
  if (refused) return refused;
  // A re-push changes nothing the policies look at: they decide on new artifacts only.
  return deps.pushes.submit(artifact);
}

/**
 * Batches of pushes written at once on PostgreSQL. Well under the store's pool, so the writer and
 * the readers keep connections of their own. A batch beside a running one starts once this many
 * pushes wait (POSTGRES_EXTRA_BATCH_AFTER): a transaction costs its round trips and a commit
 * whatever it carries.
 */
export const POSTGRES_CONCURRENT_PUSH_BATCHES = 4;
export const POSTGRES_EXTRA_BATCH_AFTER = 4;
/**
 * On SQLite (one writer) a second batch overlaps the first's log sync: it waits for the
 * connection while the first one writes, and is written while the first one's fdatasync runs
 * off the thread. A push arriving during a sync then waits for one sync, not two
 * (at 500 pushes/s: p50 35.8 → 22.2 ms in one run).
 */
export const SQLITE_CONCURRENT_PUSH_BATCHES = 2;

/**
 * Concurrent pushes stored together (storeArtifacts): many pushes pay for one commit. If a
 * batch fails, each push is tried again alone, so one bad push does not fail its neighbours.
 */
export function pushQueue(deps: StoreArtifactsDeps, maxBatch = 256): PushQueue & { idle(): Promise<void> } {
  const postgres = deps.store.provider === "postgresql";
  return new GroupCommit((batch) => storeArtifacts(deps, batch), maxBatch, postgres ? POSTGRES_CONCURRENT_PUSH_BATCHES : SQLITE_CONCURRENT_PUSH_BATCHES, postgres ? POSTGRES_EXTRA_BATCH_AFTER : 1);
}

/**
 * Stores artifacts, and the policies on new artifacts decide about them, in one transaction:
 * the artifacts, the releases fired and every decision commit together, so a crash cannot keep
 * an accepted artifact and lose its decision. After the commit the writers of the queued
 * releases are woken (and the decisions counted).
 */
export async function storeArtifacts(deps: StoreArtifactsDeps, batch: readonly Artifact[]): Promise<IngestOutcome[]> {
  const { outcomes, evaluation } = await deps.store.transaction(async (tx) => {
    const stored = await deps.artifacts.insertIn(tx, batch);
    const evaluation = await evaluateCreatedIn(deps, tx, stored.created);
    return { outcomes: stored.outcomes, evaluation };
  });
  if (evaluation.decisions.length > 0) deps.decided?.(evaluation.decisions);
  for (const repository of evaluation.queuedIn) deps.notify(repository);
  if (evaluation.checking) deps.checking?.();
  return outcomes;
}

/** Why `principal` may not push `artifact`, if it may not. */
function refusal(principal: Principal, artifact: Artifact, rules: ArtifactRuleOptions): Exclude<PushArtifactResult, IngestOutcome> | undefined {
  if (!roleAtLeast(principal.role, "ci")) {
    return { status: "forbidden", reason: `role ${principal.role} may not push artifacts (needs ci or above)` };
  }
  if (!mayTouchPackage(principal, artifact.package)) {
    return {
      status: "forbidden",
      reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not push package ${artifact.package}`,
    };
  }
  // The documents a release writes are keyed by the builds' names: a build of a package outside
  // the scope would let the token write that package's Koji tag or Bodhi update.
  const outside = buildsOutsideScope(principal, artifact);
  const first = outside[0];
  if (first) {
    return {
      status: "forbidden",
      reason: `token of ${principal.subject} may not push a build of another package: ${first.path} ${first.message}${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ""}`,
      issues: outside,
    };
  }
  const violations = artifactRuleViolations(artifact, rules);
  if (violations.length > 0) return { status: "rule-broken", reason: describeViolations(artifact.id, violations), violations };
  return undefined;
}
