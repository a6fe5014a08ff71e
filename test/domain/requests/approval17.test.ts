// Approval of the issue 17 kinds with the shipped policies and example facts: mass operations,
// SIGs and large events wait for relenggroup (a large event for three distinct reviewers), a
// meeting by a member of its calendar's group is approved; review rules in the policy language;
// the reviewers' tally; calendars facts in fedocal's shape.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { approvalKinds, decideRequest, parseApprovalPolicyYaml, reviewRulesOf, type RequestDecisionInput } from "../../../src/domain/requests/approval.js";
import { factSources, parseFactFile, type Facts, type FactSource, type FactValues } from "../../../src/domain/requests/facts.js";
import { requestKinds } from "../../../src/domain/requests/index.js";
import { describeTally, isReviewVoteReason, reviewerGroups, reviewVoteReason, tallyReviews } from "../../../src/domain/requests/review.js";
import { loadPolicies } from "../../../src/policy/loader.js";
import { event, massBranch, massRebuild, meeting, sig } from "../../support/requestKinds17.js";

const SHIPPED = path.resolve(__dirname, "../../../policies");
const shipped = loadPolicies(SHIPPED, "data/gitops.git");

function exampleFacts(changes: Partial<Record<FactSource, unknown>> = {}, drop: FactSource[] = []): Facts {
  const values: Partial<FactValues> = {};
  for (const source of factSources) {
    const location = shipped.facts?.spec.sources[source];
    if (location === undefined || drop.includes(source)) continue;
    const raw = source in changes ? changes[source] : (JSON.parse(readFileSync(path.join(SHIPPED, location), "utf8")) as unknown);
    const parsed = parseFactFile(source, raw);
    if (!parsed.ok) throw new Error(`${location}: ${parsed.error}`);
    (values as Record<FactSource, unknown>)[source] = parsed.value;
  }
  return { values, status: [] };
}
const EXAMPLE = exampleFacts();

function judge(documents: RequestDecisionInput["documents"], author: { name: string | null; verified: boolean }, facts = EXAMPLE) {
  return decideRequest({ documents, problems: [], otherChanges: [], conflicts: [], author, targetPaths: new Set(), facts, policies: shipped.approvalPolicies });
}
const verified = (name: string) => ({ name, verified: true });
const doc = (p: string, d: { kind: string; spec: object }) => ({ path: p, document: { kind: d.kind as (typeof approvalKinds)[number], spec: d.spec as Record<string, unknown> } });

describe("the shipped policies on the issue 17 kinds", () => {
  it("judges every kind a person proposes", () => {
    expect([...approvalKinds]).toEqual([...requestKinds]);
  });

  it("leaves a mass branch and a mass rebuild to one member of relenggroup, whoever asks", () => {
    for (const d of [doc("releases/f44/branching.yaml", massBranch), doc("rebuilds/f39.yaml", massRebuild)]) {
      const v = judge([d], verified("tnguyen"));
      expect(v.status).toBe("needs-review");
      expect(v.reviews).toEqual([{ group: "relenggroup", approvals: 1, policy: "mass-operations" }]);
      expect(v.reasons).toEqual([`${d.path}: a mass operation is reviewed by release engineering: ${d.path} (policy/mass-operations): approved once a member of relenggroup approves`]);
    }
  });

  it("leaves a SIG to relenggroup", () => {
    const v = judge([doc("sigs/python-sig.yaml", sig)], verified("kvaldez"));
    expect(v).toMatchObject({ status: "needs-review", reviews: [{ group: "relenggroup", approvals: 1, policy: "sig" }] });
    expect(v.reasons[0]).toContain("SIG python-sig and its access are reviewed by release engineering");
  });

  it("leaves a large event to three distinct reviewers; a small one to the default (one releaser)", () => {
    const large = judge([doc("events/flock-2026.yaml", event)], verified("jdoe"));
    expect(large).toMatchObject({ status: "needs-review", reviews: [{ group: "relenggroup", approvals: 3, policy: "event-large" }] });
    expect(large.reasons[0]).toContain("approved once 3 distinct members of relenggroup approve, none denying");
    const small = judge([doc("events/flock-2026.yaml", { ...event, spec: { ...event.spec, size: "small" } })], verified("jdoe"));
    expect(small.status).toBe("needs-review");
    expect(small.reviews).toBeUndefined();
    expect(small.reasons).toEqual(["events/flock-2026.yaml: no approval policy approves a EventRequest like this"]);
  });

  it("approves a meeting by a member of its calendar's editor or admin group, and only then", () => {
    const at = "calendar/council/2026-12-09-fesco-meeting.yaml";
    // jdoe is in council (the calendar's editor group); tnguyen in sysadmin-main (its admin group).
    expect(judge([doc(at, meeting)], verified("jdoe"))).toMatchObject({ status: "approved", approvedBy: "policy/calendar-entry", reasons: [`${at}: jdoe edits calendar council: FESCo meeting (policy/calendar-entry)`] });
    expect(judge([doc(at, meeting)], verified("tnguyen")).status).toBe("approved");
    // A comma-separated editor group list: packager is one of release-engineering's.
    expect(judge([doc("calendar/release-engineering/2026-12-09-fesco-meeting.yaml", meeting)], verified("plee")).status).toBe("approved");
    const outsider = judge([doc(at, meeting)], verified("mlopez"));
    expect(outsider.status).toBe("needs-review");
    expect(outsider.reasons.join("\n")).toContain("mlopez is in none of calendar council's groups (council, sysadmin-main)");
    const unknownCalendar = judge([doc("calendar/nosuch/2026-12-09-x.yaml", meeting)], verified("jdoe"));
    expect(unknownCalendar.reasons.join("\n")).toContain("fedocal has no calendar nosuch");
    // Unverified: never approved, the group is not even asked.
    expect(judge([doc(at, meeting)], { name: "jdoe", verified: false }).status).toBe("needs-review");
    // Without calendars facts it is unknown, and left to a person.
    const noFacts = judge([doc(at, meeting)], verified("jdoe"), exampleFacts({}, ["calendars"]));
    expect(noFacts.status).toBe("needs-review");
    expect(noFacts.reasons.join("\n")).toContain("fedocal's calendars are unknown (no calendars facts)");
  });
});

describe("review rules in the policy language", () => {
  const policy = (extra: string, decision = "review") =>
    parseApprovalPolicyYaml(`apiVersion: relengd/v1\nkind: ApprovalPolicy\nmetadata:\n  name: p\nspec:\n  kinds: [EventRequest]\n  decision: ${decision}\n${extra}  reason: r\n`);

  it("takes a group and a number of approvals (default 1), only on a review policy", () => {
    expect(policy("  review:\n    group: mindshare\n")).toMatchObject({ ok: true, value: { spec: { review: { group: "mindshare", approvals: 1 } } } });
    expect(policy("  review:\n    group: mindshare\n", "approve")).toMatchObject({ ok: false, issues: [{ path: "/spec/review", message: "only a review policy names its reviewers; this one decides approve", line: 8 }] });
    expect(policy("  review:\n    group: mindshare\n    approvals: 0\n")).toMatchObject({ ok: false, issues: [{ path: "/spec/review/approvals", line: 10 }] });
    expect(policy("  review:\n    group: mindshare\n    approvals: 21\n")).toMatchObject({ ok: false, issues: [{ path: "/spec/review/approvals" }] });
    expect(policy("  review:\n    group: ../x\n")).toMatchObject({ ok: false, issues: [{ path: "/spec/review/group" }] });
  });

  it("refuses conditions and match fields the new kinds do not have", () => {
    const p = parseApprovalPolicyYaml(
      "apiVersion: relengd/v1\nkind: ApprovalPolicy\nmetadata:\n  name: p\nspec:\n  kinds: [MassRebuild]\n  match:\n    size: [large]\n  when:\n    authorAccess: commit\n    authorInCalendarGroup: true\n  decision: approve\n  reason: r\n",
    );
    expect(p).toMatchObject({
      ok: false,
      issues: [
        { path: "/spec/match/size", message: "a MassRebuild has no size to match" },
        { path: "/spec/when/authorAccess", message: "authorAccess says nothing about a MassRebuild" },
        { path: "/spec/when/authorInCalendarGroup", message: "authorInCalendarGroup says nothing about a MassRebuild" },
      ],
    });
  });

  it("takes from the review policies that held the most approvals per group", () => {
    const a = policy("  review:\n    group: relenggroup\n    approvals: 2\n");
    const b = parseApprovalPolicyYaml("apiVersion: relengd/v1\nkind: ApprovalPolicy\nmetadata:\n  name: q\nspec:\n  kinds: [EventRequest]\n  decision: review\n  review:\n    group: relenggroup\n    approvals: 3\n  reason: r\n");
    if (!a.ok || !b.ok) throw new Error("policies do not parse");
    const decisions = [
      { policy: "p", outcome: "review" },
      { policy: "q", outcome: "review" },
      { policy: "q", outcome: "unmet" },
    ];
    expect(reviewRulesOf(decisions, [a.value, b.value])).toEqual([{ group: "relenggroup", approvals: 3, policy: "q" }]);
    expect(reviewRulesOf([{ policy: "q", outcome: "unmet" }], [a.value, b.value])).toEqual([]);
  });
});

describe("the reviewers' tally", () => {
  const groups = new Map([
    ["relenggroup", new Set(["a", "b", "c", "d"])],
    ["mindshare", new Set(["m"])],
  ]);
  const rule = [{ group: "relenggroup", approvals: 3 }];

  it("approves at three distinct members' approvals, not before", () => {
    expect(tallyReviews(rule, [{ reviewer: "a", approve: true }, { reviewer: "b", approve: true }], groups)).toEqual({ status: "waiting", progress: [{ group: "relenggroup", approvals: 2, wanted: 3 }] });
    const done = tallyReviews(rule, [{ reviewer: "a", approve: true }, { reviewer: "c", approve: true }, { reviewer: "b", approve: true }], groups);
    expect(done).toEqual({ status: "approved", approvers: ["a", "b", "c"] });
    expect(describeTally(done, rule)).toBe("approved by user:a, user:b, user:c: 3 distinct members of relenggroup approve, none denying");
  });

  it("counts one reviewer once, and no one outside the group", () => {
    const votes = [{ reviewer: "a", approve: true }, { reviewer: "a", approve: true }, { reviewer: "m", approve: true }, { reviewer: "b", approve: true }];
    const t = tallyReviews(rule, votes, groups);
    expect(t).toEqual({ status: "waiting", progress: [{ group: "relenggroup", approvals: 2, wanted: 3 }] });
    expect(describeTally(t, rule)).toBe("2 of 3 approvals by relenggroup");
  });

  it("denies at one denial, however many approved", () => {
    const votes = [{ reviewer: "a", approve: true }, { reviewer: "b", approve: true }, { reviewer: "c", approve: true }, { reviewer: "d", approve: false }];
    expect(tallyReviews(rule, votes, groups)).toEqual({ status: "denied", by: "d" });
  });

  it("writes a vote as a reason line that is told apart from the policies' reasons", () => {
    const line = reviewVoteReason({ reviewer: "a", approve: true, reason: "fine: (really)" }, "1 of 3 approvals by relenggroup");
    expect(line).toBe("approval by user:a: fine: (really) (1 of 3 approvals by relenggroup)");
    expect(isReviewVoteReason(line)).toBe(true);
    expect(isReviewVoteReason(reviewVoteReason({ reviewer: "b", approve: false, reason: "multi\nline" }, "denied by user:b"))).toBe(true);
    expect(isReviewVoteReason("events/flock-2026.yaml: Flock 2026 is a large event (policy/event-large)")).toBe(false);
    expect(isReviewVoteReason("approved by user:x: fine")).toBe(false);
  });

  it("needs every rule's group when there are several", () => {
    const rules = [{ group: "mindshare", approvals: 1 }, { group: "relenggroup", approvals: 1 }];
    expect(tallyReviews(rules, [{ reviewer: "a", approve: true }], groups).status).toBe("waiting");
    expect(tallyReviews(rules, [{ reviewer: "a", approve: true }, { reviewer: "m", approve: true }], groups).status).toBe("approved");
    expect(reviewerGroups(rules, "m", groups)).toEqual(["mindshare"]);
    expect(reviewerGroups(rules, "z", groups)).toEqual([]);
  });
});

describe("calendars facts in fedocal's shape", () => {
  it("reads each calendar's comma-separated editor and admin groups, null or empty as none", () => {
    const parsed = parseFactFile("calendars", {
      calendars: [
        { calendar_name: "awesome", calendar_editor_group: "sysadmin-main, packager", calendar_admin_group: "sysadmin-badges", calendar_status: "Enabled" },
        { calendar_name: "quiet", calendar_editor_group: null, calendar_admin_group: "" },
      ],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.get("awesome")).toEqual({ editors: ["sysadmin-main", "packager"], admins: ["sysadmin-badges"] });
    expect(parsed.value.get("quiet")).toEqual({ editors: [], admins: [] });
  });

  it("refuses a calendar name that could be a path, and a group that is no group name", () => {
    expect(parseFactFile("calendars", { calendars: [{ calendar_name: "../x" }] })).toMatchObject({ ok: false, error: expect.stringContaining("/calendars/0/calendar_name") as string });
    expect(parseFactFile("calendars", { calendars: [{ calendar_name: "x", calendar_editor_group: "a b" }] })).toMatchObject({ ok: false });
    expect(parseFactFile("calendars", { calendars: [{ calendar_name: "x", calendar_editor_group: "\ud800" }] })).toMatchObject({ ok: false });
  });
});
