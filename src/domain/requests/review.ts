// People's review of a request a review policy leaves to a group (`review: {group, approvals}`):
// who may review, and when the distinct reviewers' votes settle it. Pure.
import { describeReviewRule, type ReviewRule } from "./approval.js";

export interface ReviewVote {
  reviewer: string;
  approve: boolean;
}

export type ReviewTally =
  | { status: "approved"; approvers: string[] }
  | { status: "denied"; by: string }
  /** Still needs-review: per rule, how many approvals it has of how many. */
  | { status: "waiting"; progress: { group: string; approvals: number; wanted: number }[] };

/** The groups of `rules` the user is a member of (by the groups facts). */
export function reviewerGroups(rules: readonly ReviewRule[], user: string, groups: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  return rules.filter((r) => groups.get(r.group)?.has(user) === true).map((r) => r.group);
}

/**
 * Settles the votes: one denial denies; else approved when every rule has at least its number of
 * distinct approving reviewers who are members of its group; else waiting. Votes are one per
 * reviewer (the store's key), so distinct reviewers are distinct votes.
 */
export function tallyReviews(rules: readonly ReviewRule[], votes: readonly ReviewVote[], groups: ReadonlyMap<string, ReadonlySet<string>>): ReviewTally {
  const denial = votes.find((v) => !v.approve);
  if (denial) return { status: "denied", by: denial.reviewer };
  const approvers = [...new Set(votes.filter((v) => v.approve).map((v) => v.reviewer))].sort();
  const progress = rules.map((r) => ({ group: r.group, approvals: approvers.filter((a) => groups.get(r.group)?.has(a) === true).length, wanted: r.approvals }));
  if (progress.every((p) => p.approvals >= p.wanted)) return { status: "approved", approvers };
  return { status: "waiting", progress };
}

/** The tally in words, for the request's reasons: `1 of 3 approvals by relenggroup`. */
export function describeTally(tally: ReviewTally, rules: readonly ReviewRule[]): string {
  switch (tally.status) {
    case "approved":
      return `approved by ${tally.approvers.map((a) => `user:${a}`).join(", ")}: ${rules.map(describeReviewRule).join("; ")}`;
    case "denied":
      return `denied by user:${tally.by}`;
    case "waiting":
      return tally.progress.map((p) => `${p.approvals} of ${p.wanted} approvals by ${p.group}`).join("; ");
  }
}

/** The line a reviewer's vote adds to a request's reasons (the store writes it; rejudging keeps it). */
export function reviewVoteReason(vote: { reviewer: string; approve: boolean; reason: string }, tally: string): string {
  return `${vote.approve ? "approval" : "denial"} by user:${vote.reviewer}: ${vote.reason} (${tally})`;
}

/** Whether a reason line is a reviewer's vote (reviewVoteReason). */
export function isReviewVoteReason(line: string): boolean {
  return /^(approval|denial) by user:[^:]+: .* \([^()]*\)$/s.test(line);
}
