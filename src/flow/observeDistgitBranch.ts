// Use case: dist-git created a branch (org.fedoraproject.prod.pagure.git.branch.creation) or a
// repository (pagure.project.new): stored as observed, a fact approval policies read
// (branchExists, repoExists).
import type { DistgitBranchCreated, DistgitRepoCreated } from "../domain/distgitEvents.js";
import { sentAt, type Envelope } from "../domain/envelope.js";
import type { BusEventOutcome, BusEventRepository } from "../store/busEventRepository.js";
import type { Tx } from "../store/store.js";

export async function observeDistgitBranch(deps: { events: BusEventRepository }, tx: Tx, envelope: Envelope, branch: DistgitBranchCreated, now: Date): Promise<BusEventOutcome> {
  const at = sentAt(envelope) ?? now;
  const where = `${branch.namespace}/${branch.repo} ${branch.branch}`;
  const outcome = await deps.events.observed.observeBranchIn(tx, branch, at, envelope.id);
  if (outcome.status === "known") {
    return { status: "accepted", reason: `observed: dist-git branch ${where} created again (first seen ${outcome.firstSeenAt.toISOString()} in message ${outcome.messageId})`, artifactId: null, nvr: null };
  }
  const by = branch.agent ? ` by ${branch.agent}` : "";
  return { status: "accepted", reason: `observed: dist-git branch ${where} created${by}; approval facts now know it exists`, artifactId: null, nvr: null };
}

export async function observeDistgitRepo(deps: { events: BusEventRepository }, tx: Tx, envelope: Envelope, repo: DistgitRepoCreated, now: Date): Promise<BusEventOutcome> {
  const at = sentAt(envelope) ?? now;
  const where = `${repo.namespace}/${repo.repo}`;
  const outcome = await deps.events.observed.observeRepoIn(tx, repo, at, envelope.id);
  if (outcome.status === "known") return { status: "accepted", reason: `observed: dist-git repository ${where} created again (first seen in message ${outcome.messageId})`, artifactId: null, nvr: null };
  const by = repo.agent ? ` by ${repo.agent}` : "";
  return { status: "accepted", reason: `observed: dist-git repository ${where} created${by}; approval facts now know it exists`, artifactId: null, nvr: null };
}
