// Approval policies: every condition true, false and unknown; how outcomes combine into a verdict; the shipped policies on the fixtures' real ticket bodies with the shipped example facts.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  decideRequest,
  parseApprovalPolicy,
  parseApprovalPolicyYaml,
  type ApprovalPolicy,
  type ConditionResult,
  type ProposedDocumentInput,
  type RequestDecisionInput,
} from "../../../src/domain/requests/approval.js";
import { factSources, parseFactFile, type Facts, type FactSource, type FactValues } from "../../../src/domain/requests/facts.js";
import { loadPolicies } from "../../../src/policy/loader.js";

const SHIPPED = path.resolve(__dirname, "../../../policies");
const TICKETS = path.resolve(__dirname, "../../../../shared/fixtures/requests/scm-tickets");

const shipped = loadPolicies(SHIPPED, "data/gitops.git");

/** The shipped example facts, read as policies/facts.yaml names them. */
function exampleFacts(): Facts {
  const values: Partial<FactValues> = {};
  for (const source of factSources) {
    const location = shipped.facts?.spec.sources[source];
    if (location === undefined) continue;
    const parsed = parseFactFile(source, JSON.parse(readFileSync(path.join(SHIPPED, location), "utf8")) as unknown);
    if (!parsed.ok) throw new Error(`${location}: ${parsed.error}`);
    (values as Record<FactSource, unknown>)[source] = parsed.value;
  }
  return { values, status: [] };
}

const EXAMPLE = exampleFacts();

/** The example facts without some sources (they become unknown). */
function without(...sources: FactSource[]): Facts {
  const values = { ...EXAMPLE.values };
  for (const s of sources) delete values[s];
  return { values, status: [] };
}

/** The example facts with changed values. */
function withFacts(changes: Partial<Record<FactSource, unknown>>): Facts {
  const values = { ...EXAMPLE.values };
  for (const [source, raw] of Object.entries(changes) as [FactSource, unknown][]) {
    const parsed = parseFactFile(source, raw);
    if (!parsed.ok) throw new Error(parsed.error);
    (values as Record<FactSource, unknown>)[source] = parsed.value;
  }
  return { values, status: [] };
}

type Doc = { path: string; document: ProposedDocumentInput };

const branch = (namespace: string, repo: string, name: string, extra: Record<string, unknown> = {}): Doc => ({
  path: `distgit/branches/${namespace}/${repo}/${name}.yaml`,
  document: { kind: "BranchRequest", spec: { namespace, repo, branch: name, create_git_branch: true, ...extra } },
});

const repoRequest = (namespace: string, repo: string, extra: Record<string, unknown> = {}): Doc => ({
  path: `distgit/repos/${namespace}/${repo}.yaml`,
  document: {
    kind: "RepoRequest",
    spec: { namespace, repo, branch: "rawhide", bug_id: 2301234, summary: "A game", description: "", upstreamurl: "", monitor: "monitoring", exception: false, ...extra },
  },
});

const sideTag = (owner: string, label: string, extra: Record<string, unknown> = {}): Doc => ({
  path: `koji/sidetags/${owner}/${label}.yaml`,
  document: { kind: "SideTag", spec: { base_tag: "f43-build", debuginfo: false, packages: ["nethack"], ...extra } },
});

const verified = (name: string) => ({ name, verified: true });

function input(documents: Doc[], overrides: Partial<RequestDecisionInput> = {}): RequestDecisionInput {
  return { documents, problems: [], otherChanges: [], conflicts: [], author: verified("jdoe"), targetPaths: new Set(), facts: EXAMPLE, policies: shipped.approvalPolicies, ...overrides };
}

function approvalPolicy(spec: Record<string, unknown>, name = "probe"): ApprovalPolicy {
  const parsed = parseApprovalPolicy({ apiVersion: "relengd/v1", kind: "ApprovalPolicy", metadata: { name }, spec: { decision: "approve", reason: "probe", ...spec } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** One condition alone in a probe policy's `when`, evaluated on one document. */
function condition(when: Record<string, unknown>, doc: Doc, overrides: Partial<RequestDecisionInput> = {}): Pick<ConditionResult, "value" | "detail"> {
  const policy = approvalPolicy({ kinds: [doc.document.kind], when });
  const verdict = decideRequest(input([doc], { policies: [policy], ...overrides }));
  const result = verdict.decisions[0]?.conditions[0];
  if (!result) throw new Error(`no condition evaluated: ${JSON.stringify(verdict.decisions)}`);
  return { value: result.value, detail: result.detail };
}

describe("conditions", () => {
  it("verifiedAuthor: known for every author (never unknown)", () => {
    expect(condition({ verifiedAuthor: true }, branch("rpms", "nethack", "f43"))).toEqual({ value: true, detail: "author jdoe is verified" });
    expect(condition({ verifiedAuthor: true }, branch("rpms", "nethack", "f43"), { author: { name: "jdoe", verified: false } })).toEqual({ value: false, detail: "author jdoe is not verified" });
    expect(condition({ verifiedAuthor: true }, branch("rpms", "nethack", "f43"), { author: { name: null, verified: false } })).toEqual({ value: false, detail: "the author is unknown" });
    expect(condition({ verifiedAuthor: false }, branch("rpms", "nethack", "f43"), { author: { name: "jdoe", verified: false } }).value).toBe(true);
  });

  it("authorAccess: from package-access (groups too) and the owner alias file; unknown without them or for an unverified author", () => {
    const nethack = branch("rpms", "nethack", "f43");
    expect(condition({ authorAccess: "commit" }, nethack)).toEqual({ value: true, detail: "jdoe has admin access to rpms/nethack" });
    expect(condition({ authorAccess: "admin" }, nethack, { author: verified("asmith") })).toEqual({ value: false, detail: "asmith has only commit access to rpms/nethack (admin wanted)" });
    expect(condition({ authorAccess: "commit" }, nethack, { author: verified("plee") })).toEqual({ value: false, detail: "plee has no access to rpms/nethack (commit wanted)" });
    expect(condition({ authorAccess: "collaborator" }, branch("rpms", "sudoku", "f43"), { author: verified("plee") }).value).toBe(true);
    // Through @python-packagers-sig.
    expect(condition({ authorAccess: "commit" }, branch("rpms", "python-requests", "f43"), { author: verified("kvaldez") }).value).toBe(true);
    expect(condition({ authorAccess: "commit" }, nethack, { facts: without("packageAccess", "packageAcls") })).toEqual({
      value: "unknown",
      detail: "package access is unknown (no packageAccess or packageAcls facts) for rpms/nethack",
    });
    // The owner alias file says who commits, not who administers.
    expect(condition({ authorAccess: "commit" }, nethack, { facts: without("packageAccess"), author: verified("asmith") }).value).toBe(true);
    expect(condition({ authorAccess: "admin" }, nethack, { facts: without("packageAccess"), author: verified("asmith") }).value).toBe("unknown");
    // A group grant with the groups unknown.
    expect(condition({ authorAccess: "commit" }, branch("rpms", "python-requests", "f43"), { facts: without("groups", "packageAcls"), author: verified("plee") }).value).toBe("unknown");
    expect(condition({ authorAccess: "commit" }, nethack, { author: { name: "jdoe", verified: false } })).toEqual({ value: "unknown", detail: "author jdoe is not verified" });
    // A side tag touches each of its packages.
    expect(condition({ authorAccess: "commit" }, sideTag("jdoe", "games", { packages: ["nethack", "sudoku"] }))).toEqual({ value: false, detail: "jdoe has no access to rpms/sudoku (commit wanted)" });
  });

  it("authorInGroups: any of the groups; unknown without group facts", () => {
    const doc = branch("rpms", "nethack", "f43");
    expect(condition({ authorInGroups: ["relenggroup", "provenpackager"] }, doc, { author: verified("mlopez") })).toEqual({ value: true, detail: "mlopez is in provenpackager" });
    expect(condition({ authorInGroups: ["provenpackager"] }, doc)).toEqual({ value: false, detail: "jdoe is in none of provenpackager" });
    expect(condition({ authorInGroups: ["provenpackager"] }, doc, { facts: without("groups") }).value).toBe("unknown");
    expect(condition({ authorInGroups: ["provenpackager"] }, doc, { author: { name: "mlopez", verified: false } }).value).toBe("unknown");
  });

  it("ownerIsAuthor: the side tag's path segment against the verified author", () => {
    expect(condition({ ownerIsAuthor: true }, sideTag("jdoe", "games"))).toEqual({ value: true, detail: "the side tag's owner jdoe is the author" });
    expect(condition({ ownerIsAuthor: true }, sideTag("asmith", "games"))).toEqual({ value: false, detail: "the side tag's owner asmith is not the author jdoe" });
    expect(condition({ ownerIsAuthor: true }, sideTag("jdoe", "games"), { author: { name: "jdoe", verified: false } }).value).toBe("unknown");
    expect(condition({ ownerIsAuthor: true }, { path: "koji/elsewhere.yaml", document: sideTag("jdoe", "x").document }).value).toBe("unknown");
  });

  it("releaseBranch", () => {
    expect(condition({ releaseBranch: true }, branch("rpms", "nethack", "f43"))).toEqual({ value: true, detail: "f43 is a release branch" });
    expect(condition({ releaseBranch: true }, branch("rpms", "nethack", "f26"))).toEqual({ value: false, detail: "f26 is not an active release branch" });
    expect(condition({ releaseBranch: true }, branch("rpms", "nethack", "f43"), { facts: without("releaseBranches") }).value).toBe("unknown");
  });

  it("repoExists: dist-git facts or a merged RepoRequest on the target branch", () => {
    expect(condition({ repoExists: true }, branch("rpms", "nethack", "f43"))).toEqual({ value: true, detail: "rpms/nethack exists in dist-git" });
    const fresh = branch("rpms", "python-zstarfile", "f43");
    expect(condition({ repoExists: true }, fresh)).toEqual({ value: false, detail: "rpms/python-zstarfile does not exist" });
    expect(condition({ repoExists: true }, fresh, { targetPaths: new Set(["distgit/repos/rpms/python-zstarfile.yaml"]) })).toEqual({
      value: true,
      detail: "rpms/python-zstarfile was requested on the target branch",
    });
    expect(condition({ repoExists: true }, fresh, { facts: without("distgit") }).value).toBe("unknown");
    expect(condition({ repoExists: false }, repoRequest("rpms", "python-zstarfile")).value).toBe(true);
  });

  it("branchExists: dist-git facts or a merged BranchRequest on the target branch", () => {
    expect(condition({ branchExists: true }, branch("rpms", "sudoku", "epel9"))).toEqual({ value: true, detail: "rpms/sudoku epel9 exists in dist-git" });
    expect(condition({ branchExists: true }, branch("rpms", "sudoku", "epel10"))).toEqual({ value: false, detail: "rpms/sudoku epel10 does not exist" });
    expect(condition({ branchExists: true }, branch("rpms", "sudoku", "epel10"), { targetPaths: new Set(["distgit/branches/rpms/sudoku/epel10.yaml"]) }).value).toBe(true);
    expect(condition({ branchExists: true }, branch("rpms", "sudoku", "epel10"), { facts: without("distgit") }).value).toBe("unknown");
  });

  it("rhelShips: the EPEL rule per RHEL major", () => {
    expect(condition({ rhelShips: true }, branch("rpms", "python-requests", "epel9"))).toEqual({ value: true, detail: "RHEL 9 ships python-requests" });
    expect(condition({ rhelShips: true }, branch("rpms", "python-requests", "epel10.1")).value).toBe(true);
    expect(condition({ rhelShips: true }, branch("rpms", "htop", "epel9"))).toEqual({ value: false, detail: "RHEL 9 does not ship htop" });
    expect(condition({ rhelShips: true }, branch("rpms", "bash", "f43"))).toEqual({ value: false, detail: "f43 is not an EPEL branch" });
    expect(condition({ rhelShips: true }, branch("rpms", "bash", "epel9"), { facts: without("rhel") }).value).toBe("unknown");
    expect(condition({ rhelShips: true }, branch("rpms", "bash", "epel7"))).toEqual({ value: "unknown", detail: "what RHEL 7 ships is unknown (the rhel facts have no list for 7)" });
  });

  it("slaValid: standard branches from branch_slas, release branches by their life cycle, others with real June/December 1st dates", () => {
    expect(condition({ slaValid: true }, branch("rpms", "nethack", "f41"))).toEqual({ value: true, detail: "f41 is a standard branch: its service levels come from branch_slas" });
    // f43 is a release branch that the deployed branch_slas has not caught up with.
    expect(condition({ slaValid: true }, branch("rpms", "nethack", "f43")).value).toBe(true);
    expect(condition({ slaValid: true }, branch("rpms", "nethack", "f43"), { facts: without("releaseBranches") }).value).toBe("unknown");
    expect(condition({ slaValid: true }, branch("rpms", "nethack", "f41", { sls: { bug_fixes: "2030-12-01" } })).value).toBe(false);
    expect(condition({ slaValid: true }, branch("rpms", "nethack", "f41", { sls: { bug_fixes: "2025-11-11", security_fixes: "2025-11-11" } })).value).toBe(true);
    const stream = (sls: Record<string, unknown> | undefined) => branch("rpms", "nethack", "9", sls ? { sls } : {});
    expect(condition({ slaValid: true }, stream({ security_fixes: "2030-12-01", bug_fixes: "2030-12-01" })).value).toBe(true);
    expect(condition({ slaValid: true }, stream(undefined))).toEqual({ value: false, detail: "9 is neither in branch_slas nor a release branch, so the request must give its service levels (sls)" });
    expect(condition({ slaValid: true }, stream({ bug_fixes: "2029-11-31" }))).toEqual({ value: false, detail: "bug_fixes: 2029-11-31 is not a real date (YYYY-MM-DD)" });
    expect(condition({ slaValid: true }, stream({ bug_fixes: "2030-11-30" }))).toEqual({ value: false, detail: "bug_fixes: 2030-11-30 must be a June 1st or a December 1st" });
    expect(condition({ slaValid: true }, stream({ free_beer: "2030-12-01" })).value).toBe(false);
    expect(condition({ slaValid: true }, stream({ bug_fixes: "2024-12-01" }), { now: new Date("2026-12-01T00:00:00Z") })).toEqual({ value: false, detail: "bug_fixes: 2024-12-01 is in the past" });
    expect(condition({ slaValid: true }, stream({ bug_fixes: "2030-12-01" }), { facts: without("scmRequestProcessor") }).value).toBe("unknown");
  });

  it("bugId: a number or a digit string; \"\" is none", () => {
    expect(condition({ bugId: true }, repoRequest("rpms", "python-zstarfile", { bug_id: 1441813 }))).toEqual({ value: true, detail: "bug 1441813 is given" });
    expect(condition({ bugId: true }, repoRequest("rpms", "python-zstarfile", { bug_id: "1441813" })).value).toBe(true);
    expect(condition({ bugId: true }, repoRequest("rpms", "python-zstarfile", { bug_id: "" }))).toEqual({ value: false, detail: "no package review bug is given" });
    expect(condition({ bugId: true }, repoRequest("rpms", "python-zstarfile", { bug_id: { id: 1 } })).value).toBe("unknown");
  });

  it("baseTagAllowed: the deployed Koji sidetag policy's base tags", () => {
    expect(condition({ baseTagAllowed: true }, sideTag("jdoe", "games"))).toEqual({ value: true, detail: "Koji allows side tags of f43-build" });
    expect(condition({ baseTagAllowed: true }, sideTag("jdoe", "games", { base_tag: "f40-build" }))).toEqual({ value: false, detail: "Koji's sidetag policy does not allow side tags of f40-build" });
    expect(condition({ baseTagAllowed: true }, sideTag("jdoe", "games"), { facts: without("kojiSidetag") }).value).toBe("unknown");
  });

  it("ownerSideTagsBelow: the owner's side tags on the target branch plus this request's", () => {
    const targetPaths = new Set(["koji/sidetags/jdoe/a.yaml", "koji/sidetags/jdoe/b.yaml", "koji/sidetags/asmith/c.yaml", "distgit/repos/rpms/nethack.yaml"]);
    expect(condition({ ownerSideTagsBelow: 3 }, sideTag("jdoe", "games"), { targetPaths })).toEqual({ value: true, detail: "jdoe would have 3 side tags (at most 3)" });
    expect(condition({ ownerSideTagsBelow: 2 }, sideTag("jdoe", "games"), { targetPaths })).toEqual({ value: false, detail: "jdoe would have 3 side tags, more than 2" });
    // Changing a side tag already there does not count twice.
    expect(condition({ ownerSideTagsBelow: 2 }, sideTag("jdoe", "a"), { targetPaths }).value).toBe(true);
    expect(condition({ ownerSideTagsBelow: 2 }, { path: "koji/other/x.yaml", document: sideTag("jdoe", "x").document }).value).toBe("unknown");
  });

  it("ownerSideTagsBelow counts at scale: 100 000 paths on the target branch, 500 side tags in one request", () => {
    const targetPaths = new Set(Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? `koji/sidetags/jdoe/t${i}.yaml` : `distgit/branches/rpms/p${i}/f43.yaml`)));
    const documents = Array.from({ length: 500 }, (_, i) => sideTag("jdoe", `new${i}`));
    const verdict = decideRequest(input(documents, { targetPaths }));
    expect(verdict.status).toBe("needs-review");
    expect(verdict.decisions.filter((d) => d.policy === "sidetag")).toHaveLength(500);
    expect(verdict.decisions.find((d) => d.policy === "sidetag")?.conditions.find((c) => c.name === "ownerSideTagsBelow")?.detail).toBe("jdoe would have 50500 side tags, more than 10");
  });

  it("monitorKnown: the request processor's monitor_choices", () => {
    expect(condition({ monitorKnown: true }, repoRequest("rpms", "python-zstarfile", { monitor: "monitoring-stable" })).value).toBe(true);
    expect(condition({ monitorKnown: true }, repoRequest("rpms", "python-zstarfile", { monitor: "sometimes" })).value).toBe(false);
    expect(condition({ monitorKnown: true }, repoRequest("rpms", "python-zstarfile"), { facts: without("scmRequestProcessor") }).value).toBe("unknown");
  });
});

describe("how outcomes combine", () => {
  it("denies a request with a lint problem, naming file:line: /field", () => {
    const verdict = decideRequest(input([branch("rpms", "nethack", "f43")], { problems: [{ path: "distgit/branches/rpms/nethack/f43.yaml", line: 5, field: "/spec/branch", message: "must be a branch name" }] }));
    expect(verdict.status).toBe("denied");
    expect(verdict.reasons).toEqual(["distgit/branches/rpms/nethack/f43.yaml:5: /spec/branch must be a branch name"]);
    expect(verdict.approvedBy).toBeUndefined();
  });

  it("approves a verified maintainer's release branch, by the first approving policy", () => {
    const verdict = decideRequest(input([branch("rpms", "nethack", "f43")]));
    expect(verdict).toMatchObject({ status: "approved", approvedBy: "policy/branch-by-maintainer", reasons: ["distgit/branches/rpms/nethack/f43.yaml: jdoe commits to rpms/nethack and f43 is an active release branch (policy/branch-by-maintainer)"] });
    // One decision per (document, policy).
    expect(verdict.decisions).toHaveLength(shipped.approvalPolicies.length);
    expect(verdict.decisions.find((d) => d.policy === "sidetag")).toMatchObject({ outcome: "not-applicable", reason: "applies to SideTag, not a BranchRequest" });
  });

  it("never approves an unverified author, and never denies one for lack of facts", () => {
    const claimed = { name: "jdoe", verified: false };
    const verdict = decideRequest(input([branch("rpms", "nethack", "f43")], { author: claimed }));
    expect(verdict.status).toBe("needs-review");
    expect(verdict.reasons[0]).toBe("author jdoe is not verified: only a verified author's request is approved by policy");
    // A claimed provenpackager asking for someone else's EPEL branch: the deny depends on who they are.
    const epel = decideRequest(input([branch("rpms", "sudoku", "epel8")], { author: { name: "mlopez", verified: false } }));
    expect(epel.status).toBe("needs-review");
    expect(epel.decisions.find((d) => d.policy === "epel-provenpackager")).toMatchObject({ outcome: "unknown" });
    const nobody = decideRequest(input([sideTag("jdoe", "games")], { author: { name: null, verified: false } }));
    expect(nobody.status).toBe("needs-review");
    // Even with no facts at all.
    expect(decideRequest(input([branch("rpms", "sudoku", "epel8")], { facts: { values: {}, status: [] }, author: verified("mlopez") })).status).toBe("needs-review");
  });

  it("leaves a request that could be denied but lacks the facts for review, naming the policy", () => {
    const verdict = decideRequest(input([branch("rpms", "python-requests", "epel9")], { author: verified("rcarter"), facts: without("rhel") }));
    expect(verdict.status).toBe("needs-review");
    expect(verdict.reasons).toContain("distgit/branches/rpms/python-requests/epel9.yaml: policy/epel-rhel would deny, but what RHEL 9 ships is unknown (no rhel facts)");
  });

  it("deny beats approve", () => {
    const verdict = decideRequest(input([branch("rpms", "python-requests", "epel9")], { author: verified("rcarter") }));
    expect(verdict.decisions.find((d) => d.policy === "branch-by-maintainer")?.outcome).toBe("approve");
    expect(verdict).toMatchObject({ status: "denied", reasons: ["distgit/branches/rpms/python-requests/epel9.yaml: RHEL ships python-requests: EPEL does not branch it (epel9) (policy/epel-rhel)"] });
  });

  it("a conflict or a change that is no request document leaves it for review, naming the other request", () => {
    const conflict = decideRequest(input([branch("rpms", "nethack", "f43")], { conflicts: [{ path: "distgit/branches/rpms/nethack/f43.yaml", requestId: "01JREQUESTX" }] }));
    expect(conflict).toMatchObject({ status: "needs-review", reasons: ["distgit/branches/rpms/nethack/f43.yaml conflicts with request 01JREQUESTX"] });
    const other = decideRequest(input([branch("rpms", "nethack", "f43")], { otherChanges: [{ path: "koji/tags/f43/nethack.yaml", change: "deleted" }] }));
    expect(other).toMatchObject({ status: "needs-review", reasons: ["koji/tags/f43/nethack.yaml is deleted, and it is not a request document: a person must review it"] });
    expect(decideRequest(input([])).reasons).toEqual(["the request changes no request document"]);
  });

  it("every document must be approved: one unapproved document holds the whole request, with the unmet conditions", () => {
    const verdict = decideRequest(input([branch("rpms", "nethack", "f43"), branch("rpms", "sudoku", "f43")]));
    expect(verdict.status).toBe("needs-review");
    expect(verdict.reasons).toEqual([
      "distgit/branches/rpms/sudoku/f43.yaml: no approval policy approves it: policy/branch-by-maintainer: jdoe has no access to rpms/sudoku (commit wanted); policy/branch-by-provenpackager: jdoe is in none of provenpackager",
    ]);
  });

  it("an unless condition that holds settles a policy even when another condition is unknown", () => {
    const verdict = decideRequest(input([branch("rpms", "sudoku", "epel8")], { author: verified("asmith"), facts: without("groups") }));
    expect(verdict.decisions.find((d) => d.policy === "epel-provenpackager")).toMatchObject({ outcome: "unmet", reason: "asmith has admin access to rpms/sudoku" });
    expect(verdict.status).toBe("approved");
  });
});

describe("ApprovalPolicy files", () => {
  it("reports problems as file lines: a condition or match field the kind lacks, a deny on verifiedAuthor, an unknown placeholder", () => {
    const text = [
      "apiVersion: relengd/v1",
      "kind: ApprovalPolicy",
      "metadata: {name: sidetag-by-branch}",
      "spec:",
      "  kinds: [SideTag, BranchRequest]",
      "  match: {branch: [f43]}",
      "  when:",
      "    verifiedAuthor: false",
      "    bugId: true",
      "  decision: deny",
      '  reason: "no {flavour}"',
      "",
    ].join("\n");
    const parsed = parseApprovalPolicyYaml(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toEqual([
      { path: "/spec/match/branch", line: 6, message: "a SideTag has no branch to match" },
      { path: "/spec/when/verifiedAuthor", line: 8, message: "a deny policy must not depend on verifiedAuthor: an unverified author is left for review, never denied" },
      { path: "/spec/when/bugId", line: 9, message: "bugId says nothing about a SideTag or BranchRequest" },
      { path: "/spec/reason", line: 11, message: "{flavour} is not a placeholder; use {namespace}, {repo}, {branch}, {bug_id}, {monitor}, {base_tag}, {owner}, {author}, {path}, {version}, {desttag}, {group}, {name}, {size}, {calendar}, {meeting_name}" },
    ]);
    expect(parseApprovalPolicyYaml("kind: ApprovalPolicy\nspec: [")).toMatchObject({ ok: false });
  });

  it("ships the policies the design lists, all loading", () => {
    expect(shipped.approvalPolicies.map((p) => `${p.metadata.name}:${p.spec.decision}`).sort()).toEqual([
      "branch-by-maintainer:approve",
      "branch-by-provenpackager:approve",
      "calendar-entry:approve",
      "epel-provenpackager:deny",
      "epel-rhel:deny",
      "event-large:review",
      "mass-operations:review",
      "repo-exception:review",
      "repo-exists:deny",
      "repo-review:review",
      "sidetag-base-tag:deny",
      "sidetag:approve",
      "sig:review",
    ]);
  });
});

interface Ticket {
  body: Record<string, unknown>;
}

/** A fedora-scm-requests ticket's body as the proposed document it becomes (without `action`). */
function ticketDocument(kind: "new_branch" | "new_repo", file: string): Doc {
  const { action: _action, ...spec } = (JSON.parse(readFileSync(path.join(TICKETS, kind, file), "utf8")) as Ticket).body;
  const namespace = String(spec.namespace);
  const repo = String(spec.repo);
  return kind === "new_branch"
    ? { path: `distgit/branches/${namespace}/${repo}/${String(spec.branch)}.yaml`, document: { kind: "BranchRequest", spec } }
    : { path: `distgit/repos/${namespace}/${repo}.yaml`, document: { kind: "RepoRequest", spec } };
}

const tickets = (kind: "new_branch" | "new_repo") => readdirSync(path.join(TICKETS, kind)).filter((f) => f.endsWith(".json")).sort();

describe("the shipped policies on the fixtures' tickets, with the example facts", () => {
  const decide = (doc: Doc, overrides: Partial<RequestDecisionInput> = {}) => decideRequest(input([doc], overrides));

  it("branch tickets: old or non-standard branches and modules go to a person; EPEL follows the maintainers and the RHEL rule", () => {
    const verdicts = Object.fromEntries(tickets("new_branch").map((f) => [f, decide(ticketDocument("new_branch", f))]));
    expect(Object.keys(verdicts).length).toBeGreaterThan(0);
    // 000: f26, 004: f25 of rpms/nethack: no longer release branches.
    for (const f of ["000.json", "004.json"].filter((f) => f in verdicts)) {
      expect(verdicts[f]?.status).toBe("needs-review");
      expect(verdicts[f]?.reasons.join("\n")).toMatch(/f2[56] is not an active release branch/);
    }
    // 001: the non-standard branch 9 with its own service levels: valid SLAs, but not a release branch.
    if (verdicts["001.json"]) {
      expect(verdicts["001.json"].status).toBe("needs-review");
      expect(verdicts["001.json"].decisions.find((d) => d.policy === "branch-by-maintainer")?.conditions.find((c) => c.name === "slaValid")?.value).toBe(true);
    }
    // 002, 005: the modules namespace has no approving policy.
    for (const f of ["002.json", "005.json"].filter((f) => f in verdicts)) {
      expect(verdicts[f]?.reasons).toEqual([`${ticketDocument("new_branch", f).path}: no approval policy approves a BranchRequest like this`]);
    }
    // 003: epel8 of rpms/sudoku.
    if (verdicts["003.json"]) {
      const doc = ticketDocument("new_branch", "003.json");
      expect(decide(doc, { author: verified("asmith") })).toMatchObject({ status: "approved", approvedBy: "policy/branch-by-maintainer" });
      expect(decide(doc, { author: verified("mlopez") })).toMatchObject({
        status: "denied",
        reasons: ["distgit/branches/rpms/sudoku/epel8.yaml: mlopez does not maintain sudoku: an EPEL branch is asked by the package's maintainers (policy/epel-provenpackager)"],
      });
      expect(decide(doc, { author: verified("kvaldez") }).status).toBe("needs-review");
      // Were RHEL 8 to ship sudoku, not even its maintainer gets the branch.
      expect(decide(doc, { author: verified("asmith"), facts: withFacts({ rhel: { "8": ["sudoku"] } }) }).status).toBe("denied");
    }
  });

  it("a provenpackager may branch any rpm for a Fedora release", () => {
    expect(decide(branch("rpms", "sudoku", "f43"), { author: verified("mlopez") })).toMatchObject({ status: "approved", approvedBy: "policy/branch-by-provenpackager" });
  });

  it("repo tickets: nethack exists, so asking again is denied; a new one needs a person, naming the review bug or the exception", () => {
    for (const f of tickets("new_repo")) {
      const doc = ticketDocument("new_repo", f);
      const spec = doc.document.spec;
      expect(decide(doc).status).toBe("denied");
      expect(decide(doc).reasons).toEqual([`${doc.path}: ${String(spec.namespace)}/nethack exists already (policy/repo-exists)`]);
      // The same ticket in a world without nethack.
      const fresh = decide(doc, { facts: without("distgit", "packageAcls", "packageAccess") });
      expect(fresh.status).toBe("needs-review");
      const expected = spec.bug_id === "" ? `${doc.path}: an exception needs a person: ${String(spec.namespace)}/nethack has no package review bug (policy/repo-exception)` : `${doc.path}: a new package needs a package review: bug ${String(spec.bug_id)} (policy/repo-review)`;
      expect(fresh.reasons).toContain(expected);
      // repo-exists could not be judged without dist-git facts: named too, never a denial.
      expect(fresh.reasons.some((r) => r.includes("policy/repo-exists would deny"))).toBe(true);
      expect(decide(doc, { facts: withFacts({ distgit: { rpms: {} }, packageAcls: {}, packageAccess: {} }) }).reasons).toEqual([expected]);
    }
  });

  it("side tags: the owner's own on an allowed base tag within ten; another base tag is denied", () => {
    expect(decide(sideTag("jdoe", "nethack-3.7"))).toMatchObject({ status: "approved", approvedBy: "policy/sidetag", reasons: ["koji/sidetags/jdoe/nethack-3.7.yaml: jdoe may have a side tag of f43-build (policy/sidetag)"] });
    expect(decide(sideTag("jdoe", "old", { base_tag: "f40-build" }))).toMatchObject({ status: "denied", reasons: ["koji/sidetags/jdoe/old.yaml: Koji allows no side tag of f40-build (policy/sidetag-base-tag)"] });
    const ten = new Set(Array.from({ length: 10 }, (_, i) => `koji/sidetags/jdoe/tag${i}.yaml`));
    const eleventh = decide(sideTag("jdoe", "nethack-3.7"), { targetPaths: ten });
    expect(eleventh.status).toBe("needs-review");
    expect(eleventh.reasons[0]).toContain("jdoe would have 11 side tags, more than 10");
    expect(decide(sideTag("asmith", "games")).status).toBe("needs-review");
    expect(decide(sideTag("jdoe", "games"), { facts: without("kojiSidetag") }).status).toBe("needs-review");
  });
});
