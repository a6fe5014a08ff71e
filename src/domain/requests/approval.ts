// Approval policies (policies/*.yaml, kind ApprovalPolicy) and the verdict on a request: which proposed documents policy approves, denies or leaves to a person, and why. Pure.
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { API_VERSION, parseYaml, validateDocument, type DocumentIssue } from "../documents/envelope.js";
import { GLOB_PATTERN, matchesGlobs } from "../glob.js";
import type { Facts } from "./facts.js";
import { requestKinds } from "./index.js";

/** The kinds of document a person proposes (the request documents of src/domain/requests): every one. */
export const approvalKinds = requestKinds;
export type ApprovalKind = (typeof approvalKinds)[number];

/**
 * What approval reads of a proposed document: its kind and spec, fields read by name. Structural
 * so that any parsed proposed document fits (BranchRequest: namespace, repo, branch, sls?;
 * RepoRequest: namespace, repo, branch, bug_id, exception, monitor; SideTag: base_tag, debuginfo,
 * suffix?, packages; EventRequest: size; SigRequest: group; CalendarEntry: its calendar from the path).
 */
export interface ProposedDocumentInput {
  kind: ApprovalKind;
  spec: Record<string, unknown>;
}

export const accessLevels = ["collaborator", "commit", "admin"] as const;
export type AccessLevel = (typeof accessLevels)[number];

const groupName = wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a group name like packager");

const conditionsSchema = z.strictObject({
  /** The author is verified (an API token's subject, or a signer the facts list). */
  verifiedAuthor: z.boolean().optional(),
  /** The author has at least this access to every package the document touches. */
  authorAccess: z.enum(accessLevels).optional(),
  /** The author is in at least one of these groups. */
  authorInGroups: z.array(groupName).min(1).max(50).optional(),
  /** A side tag's owner (its path segment) is the author. */
  ownerIsAuthor: z.boolean().optional(),
  /** The branch is an active release branch. */
  releaseBranch: z.boolean().optional(),
  /** The repository exists (in dist-git, or requested and merged on the target branch). */
  repoExists: z.boolean().optional(),
  /** The branch exists already (in dist-git, or requested and merged on the target branch). */
  branchExists: z.boolean().optional(),
  /** The branch is epelN and RHEL N ships the package. */
  rhelShips: z.boolean().optional(),
  /** The service levels fit the request processor's branch_slas. */
  slaValid: z.boolean().optional(),
  /** A package review bug is given. */
  bugId: z.boolean().optional(),
  /** Koji's hub policy allows side tags of the base tag. */
  baseTagAllowed: z.boolean().optional(),
  /** The owner's side tags on the target branch, with this request's, number at most this. */
  ownerSideTagsBelow: z.number().int().min(1).max(100_000).optional(),
  /** The monitoring choice is one the request processor offers. */
  monitorKnown: z.boolean().optional(),
  /** The author is in the editor or admin group of the calendar the entry's path names (calendars facts). */
  authorInCalendarGroup: z.boolean().optional(),
});

export type Conditions = z.output<typeof conditionsSchema>;
export type ConditionName = keyof Conditions;

const ALL: readonly ApprovalKind[] = approvalKinds;
const DISTGIT: readonly ApprovalKind[] = ["BranchRequest", "RepoRequest"];
/** The kinds that name packages (access and existence are about packages). */
const PACKAGES: readonly ApprovalKind[] = ["BranchRequest", "RepoRequest", "SideTag"];

/** The kinds each condition can say something about; a policy naming one for another kind is refused when loaded. */
export const conditionKinds: Record<ConditionName, readonly ApprovalKind[]> = {
  verifiedAuthor: ALL,
  authorAccess: PACKAGES,
  authorInGroups: ALL,
  ownerIsAuthor: ["SideTag"],
  releaseBranch: DISTGIT,
  repoExists: PACKAGES,
  branchExists: DISTGIT,
  rhelShips: DISTGIT,
  slaValid: DISTGIT,
  bugId: ["RepoRequest"],
  baseTagAllowed: ["SideTag"],
  ownerSideTagsBelow: ["SideTag"],
  monitorKnown: ["RepoRequest"],
  authorInCalendarGroup: ["CalendarEntry"],
};

/** Fields a policy may match with globs, and the kinds that have them (`owner` is a side tag's path segment). */
export const matchFieldKinds = {
  namespace: DISTGIT,
  repo: DISTGIT,
  branch: DISTGIT,
  monitor: ["RepoRequest"],
  base_tag: ["SideTag"],
  owner: ["SideTag"],
  size: ["EventRequest"],
  group: ["SigRequest"],
  calendar: ["CalendarEntry"],
} as const satisfies Record<string, readonly ApprovalKind[]>;
type MatchField = keyof typeof matchFieldKinds;

const globs = z.array(wellFormedString().regex(GLOB_PATTERN, "must be a glob like f* or !epel*")).min(1).max(100);

/** Words a reason may name: `{repo}` is replaced by the document's repo. */
export const reasonPlaceholders = ["namespace", "repo", "branch", "bug_id", "monitor", "base_tag", "owner", "author", "path", "version", "desttag", "group", "name", "size", "calendar", "meeting_name"] as const;

export const approvalDecisions = ["approve", "review", "deny"] as const;

/** The most approvals a review rule may ask for. */
export const MAX_REVIEW_APPROVALS = 20;

/**
 * Who reviews what a `review` policy leaves to people: members of `group` (facts: groups), and
 * how many distinct members must approve (none denying) before the request is approved.
 */
export const reviewRuleSchema = z.strictObject({
  group: groupName,
  approvals: z.number().int().min(1).max(MAX_REVIEW_APPROVALS).default(1),
});
export type ReviewRule = z.output<typeof reviewRuleSchema>;

export const approvalPolicySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("ApprovalPolicy"),
  metadata: z.strictObject({
    name: wellFormedString().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and -"),
    description: wellFormedString().max(500).optional(),
  }),
  spec: z
    .strictObject({
      kinds: z
        .array(z.enum(approvalKinds))
        .min(1)
        .max(approvalKinds.length)
        .refine((k) => new Set(k).size === k.length, { message: "must not name a kind twice" }),
      match: z.strictObject(Object.fromEntries(Object.keys(matchFieldKinds).map((f) => [f, globs.optional()])) as { [F in MatchField]: z.ZodOptional<typeof globs> }).default({}),
      when: conditionsSchema.default({}),
      unless: conditionsSchema.optional(),
      decision: z.enum(approvalDecisions),
      /** Only with decision review: who reviews, and how many of them approve. Without it, one releaser's approval does. */
      review: reviewRuleSchema.optional(),
      reason: wellFormedString().min(1).max(500),
    })
    .superRefine((spec, ctx) => {
      if (spec.review !== undefined && spec.decision !== "review") ctx.addIssue({ code: "custom", path: ["review"], message: `only a review policy names its reviewers; this one decides ${spec.decision}` });
      for (const [field, kinds] of Object.entries(matchFieldKinds) as [MatchField, readonly ApprovalKind[]][]) {
        if (spec.match[field] === undefined) continue;
        const without = spec.kinds.filter((k) => !kinds.includes(k));
        if (without.length > 0) ctx.addIssue({ code: "custom", path: ["match", field], message: `a ${without.join(" or ")} has no ${field} to match` });
      }
      for (const part of ["when", "unless"] as const) {
        for (const name of Object.keys(spec[part] ?? {}) as ConditionName[]) {
          const without = spec.kinds.filter((k) => !conditionKinds[name].includes(k));
          if (without.length > 0) ctx.addIssue({ code: "custom", path: [part, name], message: `${name} says nothing about a ${without.join(" or ")}` });
          // An unverified author is left to a person, never refused for it (issue 16).
          if (name === "verifiedAuthor" && spec.decision === "deny") ctx.addIssue({ code: "custom", path: [part, name], message: "a deny policy must not depend on verifiedAuthor: an unverified author is left for review, never denied" });
        }
      }
      for (const m of spec.reason.matchAll(/\{([^{}]*)\}/g)) {
        if (!(reasonPlaceholders as readonly string[]).includes(m[1] ?? "")) {
          ctx.addIssue({ code: "custom", path: ["reason"], message: `{${m[1]}} is not a placeholder; use ${reasonPlaceholders.map((p) => `{${p}}`).join(", ")}` });
        }
      }
    }),
});

export type ApprovalPolicy = z.output<typeof approvalPolicySchema>;

export type ApprovalPolicyParse = { ok: true; value: ApprovalPolicy; lineOf: (path: (string | number)[]) => number | undefined } | { ok: false; issues: DocumentIssue[] };

/** An approval policy from a YAML value already parsed (the loader dispatches on kind). */
export function parseApprovalPolicy(raw: unknown, lineOf: (path: (string | number)[]) => number | undefined = () => undefined): ApprovalPolicyParse {
  const parsed = validateDocument(approvalPolicySchema, raw, lineOf);
  return parsed.ok ? { ok: true, value: parsed.value, lineOf } : parsed;
}

export function parseApprovalPolicyYaml(text: string): ApprovalPolicyParse {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  return parseApprovalPolicy(yaml.value, yaml.lineOf);
}

// --- Evaluation ---

/** A three-valued answer: "unknown" when the facts it needs are missing. */
export type Tri = true | false | "unknown";

export interface ConditionResult {
  /** The condition's name as the policy writes it. */
  name: ConditionName;
  /** What the policy asks for, in its own words (`true`, `commit`, `[provenpackager]`, `≤ 10`). */
  wanted: string;
  /** `when` conditions must hold, `unless` conditions must not. */
  part: "when" | "unless";
  /** Whether the condition as written holds. */
  value: Tri;
  /** The fact behind the answer, as a sentence. */
  detail: string;
}

export type PolicyOutcome = "approve" | "review" | "deny" | "not-applicable" | "unmet" | "unknown";

export interface RequestDecision {
  policy: string;
  path: string;
  outcome: PolicyOutcome;
  reason: string;
  conditions: ConditionResult[];
}

export interface RequestDecisionInput {
  /** The proposed documents the request adds or changes, parsed. */
  documents: { path: string; document: ProposedDocumentInput }[];
  /** Lint failures: the request is denied. */
  problems: { path: string; line: number; field?: string; message: string }[];
  /** Changes that are not proposed documents (other files, deletions): a person reviews them. */
  otherChanges: { path: string; change: "added" | "modified" | "deleted" }[];
  /** The same path with other content in another open or merged request. */
  conflicts: { path: string; requestId: string }[];
  /** name: the verified principal (token subject, signer) or the claimed commit author. */
  author: { name: string | null; verified: boolean };
  /** Paths on the target branch's head (repositories and side tags already requested). */
  targetPaths: ReadonlySet<string>;
  facts: Facts;
  policies: ApprovalPolicy[];
  /** For service-level dates in the past; without it, dates are not compared with today. */
  now?: Date;
}

export interface RequestVerdict {
  status: "approved" | "needs-review" | "denied";
  /** `policy/<name>` when approved. */
  approvedBy?: string;
  /** Sentences for people; lint problems as `file:line: /field message`. */
  reasons: string[];
  decisions: RequestDecision[];
  /** needs-review by a review policy that names its reviewers: who must approve it (reviewRulesOf). */
  reviews?: PolicyReviewRule[];
}

/** A review rule of the policy that asked for it. */
export interface PolicyReviewRule extends ReviewRule {
  policy: string;
}

/**
 * The review rules of the review policies that held for a request (by its decisions), one per
 * group with the most approvals any of them asks. Empty: the default, one releaser's approval.
 */
export function reviewRulesOf(decisions: readonly { policy: string; outcome: string }[], policies: readonly ApprovalPolicy[]): PolicyReviewRule[] {
  const byName = new Map(policies.map((p) => [p.metadata.name, p]));
  const byGroup = new Map<string, PolicyReviewRule>();
  for (const d of decisions) {
    if (d.outcome !== "review") continue;
    const review = byName.get(d.policy)?.spec.review;
    if (!review) continue;
    const known = byGroup.get(review.group);
    if (!known || known.approvals < review.approvals) byGroup.set(review.group, { ...review, policy: d.policy });
  }
  return [...byGroup.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

/** A review rule in words: `3 distinct members of relenggroup approve`. */
export function describeReviewRule(rule: ReviewRule): string {
  return rule.approvals === 1 ? `a member of ${rule.group} approves` : `${rule.approvals} distinct members of ${rule.group} approve, none denying`;
}

/** One document as conditions see it. */
interface Subject {
  path: string;
  kind: ApprovalKind;
  spec: Record<string, unknown>;
  /** A side tag's owner, from `koji/sidetags/<owner>/<label>.yaml`. */
  owner: string | undefined;
  /** A calendar entry's calendar, from `calendar/<calendar>/<date>-<slug>.yaml`. */
  calendar: string | undefined;
}

interface Context {
  author: { name: string | null; verified: boolean };
  facts: Facts;
  targetPaths: ReadonlySet<string>;
  /** Side-tag paths by owner, on the target branch and in this request together (made once, on first use). */
  sideTagsOf: (owner: string) => number;
  now: Date | undefined;
}

interface Answer {
  value: Tri;
  detail: string;
}

const SIDE_TAG_PATH = /^koji\/sidetags\/([^/]+)\/[^/]+\.ya?ml$/;
const CALENDAR_PATH = /^calendar\/([^/]+)\/[^/]+\.ya?ml$/;

function subjectOf(path: string, document: ProposedDocumentInput): Subject {
  return {
    path,
    kind: document.kind,
    spec: document.spec,
    owner: document.kind === "SideTag" ? SIDE_TAG_PATH.exec(path)?.[1] : undefined,
    calendar: document.kind === "CalendarEntry" ? CALENDAR_PATH.exec(path)?.[1] : undefined,
  };
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function specText(s: Subject, field: string): string | undefined {
  return text(s.spec[field]);
}

/** The packages a document touches, as (namespace, repo): a side tag's packages are rpms. */
function packagesOf(s: Subject): { namespace: string; repo: string }[] | undefined {
  if (s.kind === "SideTag") {
    const pkgs = s.spec.packages;
    if (!Array.isArray(pkgs) || !pkgs.every((p) => typeof p === "string")) return undefined;
    return (pkgs).map((repo) => ({ namespace: "rpms", repo }));
  }
  if (!DISTGIT.includes(s.kind)) return undefined;
  const namespace = specText(s, "namespace");
  const repo = specText(s, "repo");
  return namespace !== undefined && repo !== undefined ? [{ namespace, repo }] : undefined;
}

const unknown = (detail: string): Answer => ({ value: "unknown", detail });
const answer = (value: boolean, yes: string, no: string): Answer => ({ value, detail: value ? yes : no });

/** The verified author's name, or why the author-dependent condition cannot be answered. */
function verifiedName(ctx: Context): string | Answer {
  if (ctx.author.name === null) return unknown("the author is unknown");
  if (!ctx.author.verified) return unknown(`author ${ctx.author.name} is not verified`);
  return ctx.author.name;
}

/** Every package's answer folded: one false decides, else one unknown, else true. */
function allOf(answers: Answer[], none: string): Answer {
  if (answers.length === 0) return { value: true, detail: none };
  const no = answers.find((a) => a.value === false);
  if (no) return no;
  const maybe = answers.find((a) => a.value === "unknown");
  if (maybe) return maybe;
  return { value: true, detail: answers.map((a) => a.detail).join("; ") };
}

const rank: Record<AccessLevel | "none", number> = { none: 0, collaborator: 1, commit: 2, admin: 3 };
const levelAt = (r: number): AccessLevel | "none" => (["none", "collaborator", "commit", "admin"] as const)[r] ?? "none";

function accessTo(ctx: Context, user: string, namespace: string, repo: string, wanted: AccessLevel): Answer {
  const { packageAccess, packageAcls, groups } = ctx.facts.values;
  const where = `${namespace}/${repo}`;
  if (!packageAccess && !packageAcls) return unknown(`package access is unknown (no packageAccess or packageAcls facts) for ${where}`);
  let best = 0;
  let throughUnknownGroup = false;
  const entry = packageAccess?.get(namespace)?.get(repo);
  if (entry) {
    for (const level of accessLevels) {
      for (const member of entry[level]) {
        const granted = member.startsWith("@") ? groups?.get(member.slice(1))?.has(user) : member === user;
        if (granted) best = Math.max(best, rank[level]);
        else if (member.startsWith("@") && !groups) throughUnknownGroup = true;
      }
    }
  }
  // pagure_owner_alias.json lists the users who may commit (admins included).
  if (packageAcls?.get(namespace)?.get(repo)?.includes(user)) best = Math.max(best, rank.commit);
  if (best >= rank[wanted]) return { value: true, detail: `${user} has ${levelAt(best)} access to ${where}` };
  const has = best === 0 ? "no access" : `only ${levelAt(best)} access`;
  if (throughUnknownGroup) return unknown(`${user} has ${has} to ${where} unless through a group, and the groups are unknown`);
  // Without packageAccess, the owner alias file says who commits, not who administers or collaborates.
  if (!packageAccess && wanted !== "commit") return unknown(`${user} has ${has} to ${where} by packageAcls; ${wanted} access is known only from packageAccess`);
  return { value: false, detail: `${user} has ${has} to ${where} (${wanted} wanted)` };
}

const EPEL_BRANCH = /^epel([1-9][0-9]?)(?:\.[0-9]+)?(?:-next)?$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** A date that exists (2029-11-31 does not), as UTC midnight. */
function realDate(value: string): Date | undefined {
  const m = DATE.exec(value);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d : undefined;
}

function slaValid(s: Subject, ctx: Context): Answer {
  const scm = ctx.facts.values.scmRequestProcessor;
  if (!scm) return unknown("the request processor's branch_slas are unknown");
  const branch = specText(s, "branch");
  if (branch === undefined) return unknown("the document names no branch");
  const raw = s.spec.sls;
  if (raw !== undefined && (raw === null || typeof raw !== "object" || Array.isArray(raw))) return { value: false, detail: "sls is not a mapping of service level to date" };
  const sls = raw === undefined ? undefined : Object.entries(raw as Record<string, unknown>);
  const standard = scm.branchSlas.get(branch);
  if (standard) {
    if (sls === undefined) return { value: true, detail: `${branch} is a standard branch: its service levels come from branch_slas` };
    const expected = [...standard].map(([n, d]) => `${n} ${d}`).sort();
    const given = sls.map(([n, d]) => `${n} ${String(d)}`).sort();
    const same = expected.length === given.length && expected.every((e, i) => e === given[i]);
    return answer(same, `the service levels of ${branch} are those of branch_slas`, `${branch} is a standard branch with service levels ${expected.join(", ")}, not ${given.join(", ")}`);
  }
  if (sls === undefined || sls.length === 0) {
    // A Fedora or EPEL release's service levels are its life cycle; branch_slas may lag behind new releases.
    const releases = ctx.facts.values.releaseBranches;
    if (!releases) return unknown(`${branch} is not in branch_slas and the release branches are unknown`);
    return answer(releases.has(branch), `${branch} is a release branch: its service levels are the release's`, `${branch} is neither in branch_slas nor a release branch, so the request must give its service levels (sls)`);
  }
  const known = new Set([...scm.branchSlas.values()].flatMap((levels) => [...levels.keys()]));
  for (const [name, date] of sls) {
    if (!known.has(name)) return { value: false, detail: `${name} is not a service level branch_slas knows (${[...known].sort().join(", ")})` };
    const d = typeof date === "string" ? realDate(date) : undefined;
    if (!d) return { value: false, detail: `${name}: ${String(date)} is not a real date (YYYY-MM-DD)` };
    // fedscm-admin's rule: a service level ends on June 1st or December 1st.
    if (d.getUTCDate() !== 1 || (d.getUTCMonth() !== 5 && d.getUTCMonth() !== 11)) return { value: false, detail: `${name}: ${String(date)} must be a June 1st or a December 1st` };
    if (ctx.now && d.getTime() <= ctx.now.getTime()) return { value: false, detail: `${name}: ${String(date)} is in the past` };
  }
  return { value: true, detail: `the service levels of non-standard branch ${branch} are known names with real end dates` };
}

/** Whether the predicate behind a condition is true (the policy then asks for true or false). */
function predicate(name: ConditionName, wanted: Conditions[ConditionName], s: Subject, ctx: Context): Answer {
  const { facts } = ctx;
  switch (name) {
    case "verifiedAuthor":
      if (ctx.author.name === null) return { value: false, detail: "the author is unknown" };
      return answer(ctx.author.verified, `author ${ctx.author.name} is verified`, `author ${ctx.author.name} is not verified`);
    case "authorAccess": {
      const user = verifiedName(ctx);
      if (typeof user !== "string") return user;
      const pkgs = packagesOf(s);
      if (!pkgs) return unknown("the document names no packages");
      return allOf(
        pkgs.map((p) => accessTo(ctx, user, p.namespace, p.repo, wanted as AccessLevel)),
        "the document touches no package",
      );
    }
    case "authorInGroups": {
      const user = verifiedName(ctx);
      if (typeof user !== "string") return user;
      const groups = facts.values.groups;
      const names = wanted as string[];
      if (!groups) return unknown(`group memberships are unknown (no groups facts)`);
      const member = names.find((g) => groups.get(g)?.has(user));
      return answer(member !== undefined, `${user} is in ${member}`, `${user} is in none of ${names.join(", ")}`);
    }
    case "ownerIsAuthor": {
      if (s.owner === undefined) return unknown(`${s.path} names no owner`);
      const user = verifiedName(ctx);
      if (typeof user !== "string") return user;
      return answer(s.owner === user, `the side tag's owner ${s.owner} is the author`, `the side tag's owner ${s.owner} is not the author ${user}`);
    }
    case "releaseBranch": {
      const branch = specText(s, "branch");
      if (branch === undefined) return unknown("the document names no branch");
      if (!facts.values.releaseBranches) return unknown("the release branches are unknown (no releaseBranches facts)");
      return answer(facts.values.releaseBranches.has(branch), `${branch} is a release branch`, `${branch} is not an active release branch`);
    }
    case "repoExists": {
      const pkgs = packagesOf(s);
      if (!pkgs) return unknown("the document names no packages");
      const { distgit, packageAcls, packageAccess } = facts.values;
      return allOf(
        pkgs.map(({ namespace, repo }) => {
          const where = `${namespace}/${repo}`;
          if (distgit?.get(namespace)?.has(repo) || packageAcls?.get(namespace)?.has(repo) || packageAccess?.get(namespace)?.has(repo)) return { value: true, detail: `${where} exists in dist-git` };
          if (ctx.targetPaths.has(`distgit/repos/${namespace}/${repo}.yaml`)) return { value: true, detail: `${where} was requested on the target branch` };
          return distgit ? { value: false, detail: `${where} does not exist` } : unknown(`whether ${where} exists is unknown (no distgit facts)`);
        }),
        "the document touches no repository",
      );
    }
    case "branchExists": {
      const namespace = specText(s, "namespace");
      const repo = specText(s, "repo");
      const branch = specText(s, "branch");
      if (namespace === undefined || repo === undefined || branch === undefined) return unknown("the document names no namespace, repo and branch");
      const where = `${namespace}/${repo} ${branch}`;
      const distgit = facts.values.distgit;
      if (distgit?.get(namespace)?.get(repo)?.has(branch)) return { value: true, detail: `${where} exists in dist-git` };
      if (ctx.targetPaths.has(`distgit/branches/${namespace}/${repo}/${branch}.yaml`)) return { value: true, detail: `${where} was requested on the target branch` };
      return distgit ? { value: false, detail: `${where} does not exist` } : unknown(`whether ${where} exists is unknown (no distgit facts)`);
    }
    case "rhelShips": {
      const namespace = specText(s, "namespace");
      const repo = specText(s, "repo");
      const branch = specText(s, "branch");
      if (namespace === undefined || repo === undefined || branch === undefined) return unknown("the document names no namespace, repo and branch");
      const epel = EPEL_BRANCH.exec(branch);
      if (!epel) return { value: false, detail: `${branch} is not an EPEL branch` };
      if (namespace !== "rpms") return { value: false, detail: `RHEL ships rpms; ${namespace}/${repo} is not one` };
      const major = epel[1] ?? "";
      const rhel = facts.values.rhel;
      if (!rhel) return unknown(`what RHEL ${major} ships is unknown (no rhel facts)`);
      const shipped = rhel.get(major);
      if (!shipped) return unknown(`what RHEL ${major} ships is unknown (the rhel facts have no list for ${major})`);
      return answer(shipped.has(repo), `RHEL ${major} ships ${repo}`, `RHEL ${major} does not ship ${repo}`);
    }
    case "slaValid":
      return slaValid(s, ctx);
    case "bugId": {
      const bug = s.spec.bug_id;
      if (typeof bug === "number") return answer(Number.isInteger(bug) && bug > 0, `bug ${bug} is given`, `bug_id ${bug} is not a bug number`);
      if (bug === "" || bug === undefined) return { value: false, detail: "no package review bug is given" };
      if (typeof bug === "string") return answer(/^[1-9][0-9]{0,11}$/.test(bug), `bug ${bug} is given`, `bug_id ${bug} is not a bug number`);
      return unknown("bug_id is neither a number nor a string");
    }
    case "baseTagAllowed": {
      const tag = specText(s, "base_tag");
      if (tag === undefined) return unknown("the document names no base_tag");
      const koji = facts.values.kojiSidetag;
      if (!koji) return unknown("Koji's side-tag base tags are unknown (no kojiSidetag facts)");
      return answer(koji.baseTagsAllowed.has(tag), `Koji allows side tags of ${tag}`, `Koji's sidetag policy does not allow side tags of ${tag}`);
    }
    case "ownerSideTagsBelow": {
      if (s.owner === undefined) return unknown(`${s.path} names no owner`);
      const count = ctx.sideTagsOf(s.owner);
      const max = wanted as number;
      return answer(count <= max, `${s.owner} would have ${count} side tags (at most ${max})`, `${s.owner} would have ${count} side tags, more than ${max}`);
    }
    case "monitorKnown": {
      const monitor = specText(s, "monitor");
      if (monitor === undefined) return unknown("the document names no monitor");
      const scm = facts.values.scmRequestProcessor;
      if (!scm) return unknown("the request processor's monitor choices are unknown");
      return answer(scm.monitorChoices.includes(monitor), `${monitor} is a monitoring choice`, `${monitor} is not one of ${scm.monitorChoices.join(", ")}`);
    }
    case "authorInCalendarGroup": {
      if (s.calendar === undefined) return unknown(`${s.path} names no calendar`);
      const user = verifiedName(ctx);
      if (typeof user !== "string") return user;
      const calendars = facts.values.calendars;
      if (!calendars) return unknown("fedocal's calendars are unknown (no calendars facts)");
      const cal = calendars.get(s.calendar);
      if (!cal) return { value: false, detail: `fedocal has no calendar ${s.calendar}` };
      const names = [...new Set([...cal.editors, ...cal.admins])];
      if (names.length === 0) return { value: false, detail: `calendar ${s.calendar} names no editor or admin group` };
      const groups = facts.values.groups;
      if (!groups) return unknown(`group memberships are unknown (no groups facts) for calendar ${s.calendar}'s groups ${names.join(", ")}`);
      const member = names.find((g) => groups.get(g)?.has(user));
      return answer(member !== undefined, `${user} is in ${member}, a group of calendar ${s.calendar}`, `${user} is in none of calendar ${s.calendar}'s groups (${names.join(", ")})`);
    }
  }
}

function wantedWords(name: ConditionName, wanted: Conditions[ConditionName]): string {
  if (Array.isArray(wanted)) return `[${wanted.join(", ")}]`;
  if (name === "ownerSideTagsBelow") return `≤ ${String(wanted)}`;
  return String(wanted);
}

function evaluateConditions(part: "when" | "unless", conditions: Conditions | undefined, s: Subject, ctx: Context): ConditionResult[] {
  if (!conditions) return [];
  return (Object.entries(conditions) as [ConditionName, Conditions[ConditionName]][])
    .filter(([, wanted]) => wanted !== undefined)
    .map(([name, wanted]) => {
      const p = predicate(name, wanted, s, ctx);
      // A boolean condition written `false` holds when its predicate does not; the others hold when it does.
      const value: Tri = p.value === "unknown" ? "unknown" : wanted === false ? !p.value : p.value;
      return { name, wanted: wantedWords(name, wanted), part, value, detail: p.detail };
    });
}

function matchValue(field: MatchField, s: Subject): string | undefined {
  return field === "owner" ? s.owner : field === "calendar" ? s.calendar : specText(s, field);
}

function mismatch(policy: ApprovalPolicy, s: Subject): string | undefined {
  if (!policy.spec.kinds.includes(s.kind)) return `applies to ${policy.spec.kinds.join(", ")}, not a ${s.kind}`;
  for (const [field, list] of Object.entries(policy.spec.match) as [MatchField, string[] | undefined][]) {
    if (!list) continue;
    const value = matchValue(field, s);
    if (value === undefined) return `the ${s.kind} has no ${field} to match ${list.join(", ")}`;
    if (!matchesGlobs(value, list)) return `${field} ${value} does not match ${list.join(", ")}`;
  }
  return undefined;
}

/** The policy's reason with `{repo}`-style placeholders filled from the document. */
function reasonFor(policy: ApprovalPolicy, s: Subject, ctx: Context): string {
  return policy.spec.reason.replace(/\{([a-z_]+)\}/g, (whole, key: string) => {
    const v = key === "owner" ? s.owner : key === "calendar" ? s.calendar : key === "author" ? ctx.author.name : key === "path" ? s.path : s.spec[key];
    if (v === "" || v === null || v === undefined) return "none";
    return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : whole;
  });
}

/** One policy on one document. */
function evaluateApprovalPolicy(policy: ApprovalPolicy, s: Subject, ctx: Context): RequestDecision {
  const base = { policy: policy.metadata.name, path: s.path };
  const off = mismatch(policy, s);
  if (off !== undefined) return { ...base, outcome: "not-applicable", reason: off, conditions: [] };
  const conditions = [...evaluateConditions("when", policy.spec.when, s, ctx), ...evaluateConditions("unless", policy.spec.unless, s, ctx)];
  // A `when` condition that does not hold, or an `unless` condition that does, settles it whatever is unknown.
  const failing = conditions.filter((c) => (c.part === "when" ? c.value === false : c.value === true));
  if (failing.length > 0) return { ...base, outcome: "unmet", reason: failing.map((c) => c.detail).join("; "), conditions };
  const open = conditions.filter((c) => c.value === "unknown");
  if (open.length > 0) return { ...base, outcome: "unknown", reason: `would ${policy.spec.decision}, but ${open.map((c) => c.detail).join("; ")}`, conditions };
  return { ...base, outcome: policy.spec.decision, reason: reasonFor(policy, s, ctx), conditions };
}

/** A lint problem as `relengd lint` prints it. */
export function describeProblem(p: RequestDecisionInput["problems"][number]): string {
  return `${p.path}:${p.line}: ${p.field ? `${p.field} ` : ""}${p.message}`;
}

/**
 * The verdict on a request. Any lint problem denies it; else a deny policy that holds denies it;
 * else anything a person must see (a review policy, a conflict, a change that is no proposed
 * document, a policy that could deny or ask for review but lacks facts) leaves it for review; else
 * it is approved when every document is approved by a policy and the author is verified. An
 * unverified or unknown author is never approved, and never denied for lack of facts: conditions
 * about the author are unknown until the author is verified.
 */
export function decideRequest(input: RequestDecisionInput): RequestVerdict {
  let byOwner: Map<string, Set<string>> | undefined;
  const sideTagsOf = (owner: string) => {
    if (!byOwner) {
      byOwner = new Map();
      for (const p of [...input.targetPaths, ...input.documents.map((d) => d.path)]) {
        const o = SIDE_TAG_PATH.exec(p)?.[1];
        if (o === undefined) continue;
        const paths = byOwner.get(o) ?? new Set<string>();
        paths.add(p);
        byOwner.set(o, paths);
      }
    }
    return byOwner.get(owner)?.size ?? 0;
  };
  const ctx: Context = { author: input.author, facts: input.facts, targetPaths: input.targetPaths, sideTagsOf, now: input.now };
  const byPolicy = new Map(input.policies.map((p) => [p.metadata.name, p]));
  const perDocument = input.documents.map(({ path, document }) => {
    const s = subjectOf(path, document);
    return { s, decisions: input.policies.map((p) => evaluateApprovalPolicy(p, s, ctx)) };
  });
  const decisions = perDocument.flatMap((d) => d.decisions);
  const named = (d: RequestDecision) => `${d.path}: ${d.reason} (policy/${d.policy})`;

  if (input.problems.length > 0) return { status: "denied", reasons: input.problems.map(describeProblem), decisions };

  const denials = decisions.filter((d) => d.outcome === "deny");
  if (denials.length > 0) return { status: "denied", reasons: denials.map(named), decisions };

  const review: string[] = [];
  const author = input.author.name ?? "unknown";
  if (!input.author.verified || input.author.name === null) review.push(`author ${author} is not verified: only a verified author's request is approved by policy`);
  for (const c of input.conflicts) review.push(`${c.path} conflicts with request ${c.requestId}`);
  for (const o of input.otherChanges) review.push(`${o.path} is ${o.change}, and it is not a request document: a person must review it`);
  if (input.documents.length === 0 && input.otherChanges.length === 0) review.push("the request changes no request document");
  for (const d of decisions) {
    const rule = d.outcome === "review" ? byPolicy.get(d.policy)?.spec.review : undefined;
    if (rule) review.push(`${named(d)}: approved once ${describeReviewRule(rule)}`);
    else if (d.outcome === "review") review.push(named(d));
    else if (d.outcome === "unknown" && byPolicy.get(d.policy)?.spec.decision !== "approve") review.push(`${d.path}: policy/${d.policy} ${d.reason}`);
  }
  let approvedBy: string | undefined;
  for (const { s, decisions: own } of perDocument) {
    const approving = own.find((d) => d.outcome === "approve");
    if (approving) {
      approvedBy ??= `policy/${approving.policy}`;
      continue;
    }
    // A review policy that holds already says why a person decides this document.
    if (own.some((d) => d.outcome === "review")) continue;
    const maybe = own.filter((d) => d.outcome === "unknown" && byPolicy.get(d.policy)?.spec.decision === "approve");
    const unmet = own.filter((d) => d.outcome === "unmet" && byPolicy.get(d.policy)?.spec.decision === "approve");
    if (maybe.length > 0) review.push(`${s.path}: ${maybe.map((d) => `policy/${d.policy} ${d.reason}`).join("; ")}`);
    else if (unmet.length > 0) review.push(`${s.path}: no approval policy approves it: ${unmet.map((d) => `policy/${d.policy}: ${d.reason}`).join("; ")}`);
    else review.push(`${s.path}: no approval policy approves a ${s.kind} like this`);
  }
  if (review.length > 0) {
    const reviews = reviewRulesOf(decisions, input.policies);
    return { status: "needs-review", reasons: review, decisions, ...(reviews.length > 0 ? { reviews } : {}) };
  }
  // Every document has an approving policy here, so approvedBy is set.
  return { status: "approved", approvedBy: approvedBy ?? "policy/unknown", reasons: perDocument.flatMap(({ decisions: own }) => own.filter((d) => d.outcome === "approve").slice(0, 1).map(named)), decisions };
}
