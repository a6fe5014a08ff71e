// Use case: a releaser approves or denies a request that waits for a person (`relengd request
// approve|deny ID --reason`); a token scoped to package globs decides only requests about them.
// A request that a review policy leaves to a group (`review: {group, approvals}`) is decided by
// the group's members instead: each one's vote is kept, and it is approved once enough distinct
// members approved (one denial denies); anyone else is refused, naming the group.
import { describeReviewRule, reviewRulesOf, type ApprovalPolicy, type PolicyReviewRule } from "../domain/requests/approval.js";
import type { Facts } from "../domain/requests/facts.js";
import { parseProposedText } from "../domain/requests/index.js";
import { describeTally, reviewerGroups, tallyReviews } from "../domain/requests/review.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import { RequestStateChanged, type RequestRecord, type RequestRepository } from "../store/requestRepository.js";
import { packagesOf } from "./requestAccess.js";
import type { PersonDecisionOutcome } from "./requestDeps.js";

export interface DecideRequestDeps {
  requests: RequestRepository;
  now?: () => Date;
  /** Told of each decision (the writer merges an approved request). */
  onDecided?: (request: RequestRecord) => void;
  /** The approval policies and facts in force: review rules and group memberships. Without them, one releaser decides every request. */
  approval?: () => { policies: ApprovalPolicy[]; facts: Facts };
}

/** The packages a request's documents are about; a document that no longer parses names none. */
function packagesOfRequest(request: RequestRecord): string[] {
  return request.documents.flatMap((d) => {
    const parsed = parseProposedText(d.content);
    return parsed.ok ? packagesOf(parsed.value) : [];
  });
}

export async function decideRequestByPerson(deps: DecideRequestDeps, principal: Principal, input: { id: string; approve: boolean; reason: string }): Promise<PersonDecisionOutcome> {
  if (!roleAtLeast(principal.role, "releaser")) return { status: "forbidden", reason: `deciding a request needs the releaser role; the token has ${principal.role}` };
  const request = await deps.requests.get(input.id);
  if (!request) return { status: "not-found" };
  if (principal.packages !== undefined) {
    const packages = packagesOfRequest(request);
    const outside = packages.filter((p) => !mayTouchPackage(principal, p));
    // A scoped token decides only what it can see all of: a request about no package is beyond it.
    if (packages.length === 0 || outside.length > 0) return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages.join(", ")} and may not decide a request about ${outside.length > 0 ? outside.slice(0, 5).join(", ") : "no package"}` };
  }
  const approval = deps.approval?.();
  const rules = approval ? reviewRulesOf(await deps.requests.decisions(input.id), approval.policies) : [];
  if (rules.length > 0 && approval) return reviewByMember(deps, principal, request, rules, approval.facts, input);
  try {
    const decided = await deps.requests.decideByPerson(input.id, { approve: input.approve, user: principal.subject, reason: input.reason }, deps.now?.() ?? new Date());
    if (!decided) return { status: "not-found" };
    deps.onDecided?.(decided);
    return { status: "decided", request: decided };
  } catch (err) {
    if (err instanceof RequestStateChanged) return { status: "not-decidable", request: err.request, reason: err.message };
    throw err;
  }
}

/** A vote of a member of a review rule's group; settled in the store with every other vote. */
async function reviewByMember(
  deps: DecideRequestDeps,
  principal: Principal,
  request: RequestRecord,
  rules: PolicyReviewRule[],
  facts: Facts,
  input: { id: string; approve: boolean; reason: string },
): Promise<PersonDecisionOutcome> {
  const wanted = rules.map((r) => `${describeReviewRule(r)} (policy/${r.policy})`).join("; ");
  const groups = facts.values.groups;
  if (!groups) return { status: "forbidden", reason: `request ${request.id} is decided when ${wanted}, and group memberships are unknown (no groups facts): no reviewer can be checked` };
  const memberOf = reviewerGroups(rules, principal.subject, groups);
  if (memberOf.length === 0) return { status: "forbidden", reason: `request ${request.id} is decided by members of ${rules.map((r) => r.group).join(" and ")} (${wanted}); ${principal.subject} is not a member` };
  try {
    const outcome = await deps.requests.reviewByPerson(
      input.id,
      { reviewer: principal.subject, approve: input.approve, reason: input.reason, groups: memberOf.join(",") },
      (votes) => {
        const tally = tallyReviews(rules, votes, groups);
        return { status: tally.status === "waiting" ? "needs-review" : tally.status, note: describeTally(tally, rules) };
      },
      deps.now?.() ?? new Date(),
    );
    if (!outcome) return { status: "not-found" };
    if (outcome.request.status !== "needs-review") deps.onDecided?.(outcome.request);
    return { status: "decided", request: outcome.request };
  } catch (err) {
    if (err instanceof RequestStateChanged) return { status: "not-decidable", request: err.request, reason: err.message };
    throw err;
  }
}
