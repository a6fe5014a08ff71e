// The tickets of pagure.io's releng/fedora-scm-requests queue (what `fedpkg request-branch` and
// `fedpkg request-repo` file, and the request processor acts on) as relengd mirrors them: the bus
// message read, the ticket JSON read into a BranchRequest or RepoRequest with every misfit named,
// and relengd's own verdict compared with the bot's outcome. Pure.
import { z } from "zod";
import { validateDocument } from "./documents/envelope.js";
import { UnsafePathError } from "./paths.js";
import { branchRequestPath, branchRequestSchema, buildBranchRequest, type BranchRequestSpec } from "./requests/branchRequest.js";
import { buildRepoRequest, repoRequestPath, repoRequestSchema, type RepoRequestSpec } from "./requests/repoRequest.js";
import { renderProposedYaml } from "./requests/envelope.js";
import type { RequestVerdict } from "./requests/approval.js";
import { wellFormedText } from "./text.js";

/** The queue's project on pagure.io. */
export const SCM_PROJECT = { namespace: "releng", name: "fedora-scm-requests" } as const;
export const SCM_PROJECT_FULLNAME = `${SCM_PROJECT.namespace}/${SCM_PROJECT.name}`;

/**
 * The account the request processor (toddlers, now poddlers) acts as on pagure.io: `pagure_user`
 * of its deployed configuration (facts/scm-request-processor, production and staging alike).
 */
export const SCM_BOT_ACCOUNT = "releng-bot";

/** pagure.io's production prefix: only its tickets are mirrored (staging and development instances are not Fedora's queue). */
export const SCM_TOPIC_PREFIX = "io.pagure.prod.";

/** The topics the request processor subscribes to (poddlers: io.pagure.*.pagure.issue.new|edit|comment.added). */
export const SCM_TOPICS = ["pagure.issue.new", "pagure.issue.edit", "pagure.issue.comment.added"] as const;
export type ScmTopic = (typeof SCM_TOPICS)[number];

/** The shadow branch of a ticket's merge request. */
export function scmTicketBranch(ticketId: number): string {
  return `mr/scm-${ticketId}`;
}

/** Where a ticket's document goes when the ticket names no safe path (its repo or branch is no path segment). */
export function scmTicketFallbackPath(ticketId: number): string {
  return `scm-tickets/${ticketId}.yaml`;
}

// Bounds: a ticket's text is a few hundred bytes; anything far larger is not fedpkg's.
const MAX_CONTENT = 64 * 1024;
const MAX_DEPTH = 8;
/** What is kept of the closing comment (the reason), and of it in a trailer. */
export const MAX_REASON = 2000;
const MAX_TRAILER_REASON = 300;

export type ScmTicketState = "open" | "closed";

/** A ticket as one bus message shows it. */
export interface ScmTicketMessage {
  topic: ScmTopic;
  ticketId: number;
  title: string;
  /** The issue's text, well-formed, bounded. */
  content: string;
  /** The text's length when it was longer than relengd reads (it is then not read as a request). */
  oversize?: number;
  /** The pagure account that filed the ticket (pagure authenticated it). */
  author: string | null;
  /** Who sent the message (the commenter, the editor, the closer). */
  agent: string | null;
  state: ScmTicketState;
  /** Processed, Denied, Invalid, …: the close status when closed. */
  closeStatus: string | null;
  /** The last comment's text (the bot's or a person's word on why), bounded; null when none. */
  lastComment: string | null;
  lastCommentBy: string | null;
  /** Who closed it: closed_by when the message says, else the message's agent. */
  closedBy: string | null;
}

/** The ticket as a document: what the shadow branch holds, and what did not fit. */
export type ScmTicketDocument =
  | { ok: true; kind: "BranchRequest" | "RepoRequest"; spec: Record<string, unknown>; path: string; content: string; problems: string[]; lint: string[] }
  | { ok: false; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const userName = (value: unknown): string | null => {
  const name = isObject(value) ? value.name : value;
  return typeof name === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) ? name : null;
};

/** One line of well-formed text, at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = wellFormedText(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The topic's parts when it is one of the queue's topics on any instance: `<prefix>pagure.issue.<x>`.
 * The prefix is read here, not by splitTopic: pagure.io's `io.pagure.<env>.` is not one of the
 * prefixes Fedora's own services use.
 */
export function scmTopicOf(topic: string): { prefix: string; topic: ScmTopic } | undefined {
  for (const t of SCM_TOPICS) {
    if (topic === t) return { prefix: "", topic: t };
    if (topic.endsWith(`.${t}`)) return { prefix: topic.slice(0, topic.length - t.length), topic: t };
  }
  return undefined;
}

/**
 * Whether a message's project is the queue: pagure's `fullname` releng/fedora-scm-requests, or
 * namespace releng and name fedora-scm-requests. Messages of pagure before namespaces (fedmsg era,
 * 2015–2016) carry neither fullname nor namespace: a project named fedora-scm-requests without
 * them is taken as the queue (pagure.io never had another project of that name at the top level).
 * A fork (a project with a parent) is not the queue. Returns true, or why not.
 */
export function isScmProject(project: unknown): true | string {
  if (!isObject(project)) return "the message names no project";
  const { name, namespace, fullname } = project;
  const shown = oneLine(typeof fullname === "string" ? fullname : `${typeof namespace === "string" ? namespace + "/" : ""}${typeof name === "string" ? name : "?"}`, 100);
  if (project.parent !== null && project.parent !== undefined) return `project ${shown} is a fork`;
  if (fullname === SCM_PROJECT_FULLNAME) return true;
  const unnamespaced = (namespace === undefined || namespace === null) && typeof fullname !== "string";
  if (name === SCM_PROJECT.name && (namespace === SCM_PROJECT.namespace || unnamespaced)) return true;
  return `project ${shown} is not ${SCM_PROJECT_FULLNAME}`;
}

export type ScmTicketMapping = { kind: "scmTicket"; ticket: ScmTicketMessage } | { kind: "ignored"; reason: string } | { kind: "rejected"; path: string; reason: string };

/**
 * `io.pagure.prod.pagure.issue.new|edit|comment.added` on releng/fedora-scm-requests → the ticket
 * as the message shows it; undefined when the topic is none of these (another mapping's).
 */
export function mapScmTicketMessage(topic: string, body: Record<string, unknown>): ScmTicketMapping | undefined {
  const parts = scmTopicOf(topic);
  if (!parts) return undefined;
  if (parts.prefix !== SCM_TOPIC_PREFIX) {
    const where = parts.prefix === "" ? "a topic without a prefix" : `${oneLine(parts.prefix, 60)}*`;
    return { kind: "ignored", reason: `${parts.topic} from ${where}: only pagure.io's production tickets (${SCM_TOPIC_PREFIX}) are ${SCM_PROJECT_FULLNAME}'s` };
  }
  const project = isScmProject(body.project);
  if (project !== true) return { kind: "ignored", reason: `${project}: only ${SCM_PROJECT_FULLNAME} tickets are mirrored` };
  const issue = body.issue;
  if (!isObject(issue)) return { kind: "rejected", path: "/body/issue", reason: "must describe the ticket" };
  const id = issue.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) return { kind: "rejected", path: "/body/issue/id", reason: "must be the ticket's number" };
  const status = issue.status;
  if (typeof status !== "string" || status.length === 0 || status.length > 64) return { kind: "rejected", path: "/body/issue/status", reason: "must be the ticket's status (Open, Closed, or a close status)" };
  const rawContent = typeof issue.content === "string" ? issue.content : "";
  const content = wellFormedText(rawContent.length > MAX_CONTENT ? rawContent.slice(0, MAX_CONTENT) : rawContent);
  // Pagure 5+ sends status Open|Closed and close_status; fedmsg-era pagure sent the close status as the status.
  const open = status === "Open";
  const closeStatus = open ? null : status === "Closed" ? (typeof issue.close_status === "string" && issue.close_status.length > 0 ? oneLine(issue.close_status, 64) : "Closed") : oneLine(status, 64);
  const comments = Array.isArray(issue.comments) ? issue.comments.filter(isObject) : [];
  const last = comments.reduce<Record<string, unknown> | undefined>((best, c) => (best === undefined || (typeof c.id === "number" && typeof best.id === "number" && c.id >= best.id) ? c : best), undefined);
  const lastText = last && typeof last.comment === "string" ? wellFormedText(last.comment).slice(0, MAX_REASON) : null;
  const agent = userName(body.agent);
  return {
    kind: "scmTicket",
    ticket: {
      topic: parts.topic,
      ticketId: id,
      title: typeof issue.title === "string" ? oneLine(issue.title, 300) : "",
      content,
      ...(rawContent.length > MAX_CONTENT ? { oversize: rawContent.length } : {}),
      author: userName(issue.user),
      agent,
      state: open ? "open" : "closed",
      closeStatus,
      lastComment: lastText,
      lastCommentBy: last ? userName(last.user) : null,
      closedBy: open ? null : (userName(issue.closed_by) ?? agent),
    },
  };
}

/**
 * The ticket JSON in an issue's text. fedpkg writes it between two lines of three backticks; the
 * request processor reads `content.strip('`').strip('\n')`. A text whose JSON is fenced elsewhere
 * (a note before it) is read from its first fenced block.
 */
export function ticketJsonOf(content: string, oversize?: number): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (oversize !== undefined) return { ok: false, reason: `the ticket's text is ${oversize} characters; relengd reads tickets of at most ${MAX_CONTENT}` };
  if (content.trim().length === 0) return { ok: false, reason: "the ticket has no text" };
  const candidates: string[] = [content.replace(/^[`\n]+|[`\n]+$/g, ""), content.trim().replace(/^`+[a-z]*\s*|`+$/gi, "")];
  const fenced = /```[a-zA-Z]*\s*\n([\s\S]*?)```/.exec(content);
  if (fenced?.[1] !== undefined) candidates.push(fenced[1]);
  let error = "";
  for (const text of candidates) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (err) {
      error ||= err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: false, reason: `the ticket's text holds no JSON (${oneLine(error, 120)})` };
}

function depthOf(value: unknown, limit: number): number {
  if (typeof value !== "object" || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const v of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(v, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}

const shortJson = (value: unknown): string => {
  // JSON.stringify and String() recurse: a value nested thousands deep would overflow the stack.
  if (depthOf(value, MAX_DEPTH) >= MAX_DEPTH) return `(nested ${MAX_DEPTH} levels or more)`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return oneLine(json ?? String(value), 80);
};

const FIELDS = {
  BranchRequest: ["namespace", "repo", "branch", "create_git_branch", "sls"],
  RepoRequest: ["namespace", "repo", "branch", "bug_id", "summary", "description", "upstreamurl", "monitor", "exception", "initial_commit"],
} as const;

const ACTIONS = { new_branch: "BranchRequest", new_repo: "RepoRequest" } as const;

/** Fedora's branch names today (dist-git's release branches and rawhide's names). */
const KNOWN_BRANCH = /^(rawhide|main|eln|f[1-9][0-9]{0,2}|epel[1-9][0-9]?(\.[0-9]{1,2})?(-next)?|el[5-6]|stable)$/;

/**
 * The ticket JSON as a relengd document, mirrored anyway when it does not fit: every key the kind
 * has is kept as the ticket gives it, anything else is left out, and each misfit is named
 * (`/spec/<field> …`). `lint` is what `relengd lint` would refuse in the document as written
 * (the relengd verdict denies it); `problems` also names what fits the schema but not today's
 * Fedora (`master`, branch `9`, the `modules` namespace, no review bug).
 */
export function scmTicketDocument(ticketId: number, json: unknown): ScmTicketDocument {
  if (!isObject(json)) return { ok: false, reason: `the ticket JSON is ${Array.isArray(json) ? "a list" : json === null ? "null" : `a ${typeof json}`}, not an object with an action` };
  const action = json.action;
  if (typeof action !== "string" || !(action in ACTIONS)) return { ok: false, reason: `the ticket's action ${shortJson(action)} is neither new_branch nor new_repo` };
  const kind = ACTIONS[action as keyof typeof ACTIONS];
  const problems: string[] = [];
  const spec: Record<string, unknown> = {};
  for (const field of FIELDS[kind]) {
    if (!(field in json)) continue;
    const value = json[field];
    if (depthOf(value, MAX_DEPTH) >= MAX_DEPTH) {
      problems.push(`/spec/${field} the ticket's value is nested ${MAX_DEPTH} levels or more; left out`);
      continue;
    }
    if (typeof value === "string" && !value.isWellFormed()) {
      problems.push(`/spec/${field} the ticket's value holds a lone UTF-16 surrogate; kept with U+FFFD in its place`);
      spec[field] = wellFormedText(value);
      continue;
    }
    spec[field] = value;
  }
  for (const key of Object.keys(json)) {
    if (key === "action" || (FIELDS[kind] as readonly string[]).includes(key)) continue;
    problems.push(`/spec/${oneLine(key, 60)} the ticket's ${shortJson(key)} (${shortJson(json[key])}) has no place in a ${kind}; left out`);
  }
  // Well-formed keys only reach a document (a lone surrogate in a string value was replaced above).
  const schema = kind === "BranchRequest" ? branchRequestSchema : repoRequestSchema;
  const checked = validateDocument(schema as z.ZodType<unknown>, { apiVersion: "relengd/v1", kind, spec });
  const lint = checked.ok ? [] : checked.issues.map((i) => `${i.path} ${i.message}`);
  problems.push(...lint);
  // Values that fit the schema but not Fedora as it is.
  if (spec.branch === "master") problems.push(`/spec/branch master: dist-git's default branch is rawhide since 2021 (fedpkg of 2020 wrote master)`);
  else if (typeof spec.branch === "string" && !KNOWN_BRANCH.test(spec.branch)) problems.push(`/spec/branch ${oneLine(spec.branch, 80)} is not a Fedora release branch name (rawhide, fN, epelN, eln)`);
  if (spec.namespace === "modules" || spec.namespace === "test-modules") problems.push(`/spec/namespace ${spec.namespace}: a module repository (fedpkg filed these beside rpms requests; Fedora no longer builds modules)`);
  if (kind === "RepoRequest" && spec.bug_id === "") problems.push(`/spec/bug_id "": no package review bug${spec.exception === true ? " (an exception was asked)" : ""}`);

  // A document that fits is written as relengd writes its own (schema key order, defaults filled in).
  const content = renderProposedYaml(checked.ok ? checked.value : { apiVersion: "relengd/v1", kind, spec });
  const judged = checked.ok && isObject(checked.value) && isObject(checked.value.spec) ? checked.value.spec : spec;
  let path: string;
  try {
    const named = { namespace: spec.namespace, repo: spec.repo, branch: spec.branch };
    if (typeof named.namespace !== "string" || typeof named.repo !== "string" || (kind === "BranchRequest" && typeof named.branch !== "string")) throw new UnsafePathError("the ticket names no namespace, repo and branch as text");
    path = kind === "BranchRequest" ? branchRequestPath(named as { namespace: string; repo: string; branch: string }) : repoRequestPath(named as { namespace: string; repo: string });
  } catch (err) {
    if (!(err instanceof UnsafePathError)) throw err;
    path = scmTicketFallbackPath(ticketId);
    problems.push(`/spec the document's place cannot be named from the ticket (${oneLine(err.message, 160)}); kept at ${path}`);
  }
  return { ok: true, kind, spec: judged, path, content, problems: problems.map((p) => oneLine(p, 400)), lint };
}

/** The documents as typed specs (for callers that need them after lint passed). */
export function typedDocument(kind: "BranchRequest" | "RepoRequest", spec: Record<string, unknown>): ReturnType<typeof buildBranchRequest> | ReturnType<typeof buildRepoRequest> {
  return kind === "BranchRequest" ? buildBranchRequest(spec as BranchRequestSpec) : buildRepoRequest(spec as RepoRequestSpec);
}

// --- agreement -----------------------------------------------------------------------------------

export const agreementOutcomes = ["agreed", "disagreed", "undecidable"] as const;
export type AgreementOutcome = (typeof agreementOutcomes)[number];

/** relengd's verdict on one revision of a ticket, as stored. */
export interface ScmVerdict {
  /** approved | needs-review | denied, or none when the ticket holds no request relengd can judge. */
  status: RequestVerdict["status"] | "none";
  /** needs-review: by a rule (a review policy, no policy approving it) or because facts are missing. */
  review: "rule" | "facts" | null;
  reasons: string[];
}

/** Which of relengd's verdicts a needs-review is: a rule said so, or facts it lacked left it open. */
export function scmVerdictOf(verdict: RequestVerdict): ScmVerdict {
  if (verdict.status !== "needs-review") return { status: verdict.status, review: null, reasons: verdict.reasons };
  const byRule = verdict.decisions.some((d) => d.outcome === "review");
  const unknown = verdict.decisions.some((d) => d.outcome === "unknown");
  return { status: "needs-review", review: byRule || !unknown ? "rule" : "facts", reasons: verdict.reasons };
}

export interface Agreement {
  outcome: AgreementOutcome;
  /** relengd's side, in words. */
  relengd: string;
  /** The bot's side, in words. */
  bot: string;
}

/**
 * relengd's verdict against the closed ticket: Processed is the bot's approval, any other close
 * status (Denied, Invalid, …) its refusal. A review by rule agrees when a person (not the bot)
 * closed the ticket; a review for missing facts, or a ticket relengd could not read, is undecidable.
 */
export function compareWithBot(verdict: ScmVerdict, closed: { closeStatus: string; closedBy: string | null; reason: string | null }, bot = SCM_BOT_ACCOUNT): Agreement {
  const processed = closed.closeStatus.toLowerCase() === "processed";
  const byWhom = closed.closedBy ?? "unknown";
  const reason = closed.reason ? `: ${oneLine(closed.reason, MAX_TRAILER_REASON)}` : "";
  const botSide = `${closed.closeStatus} by ${byWhom}${reason}`;
  const relengdSide = `${verdict.status}${verdict.review ? ` (${verdict.review === "rule" ? "by a rule" : "facts missing"})` : ""}${verdict.reasons.length > 0 ? `: ${oneLine(verdict.reasons.join("; "), 600)}` : ""}`;
  const result = (outcome: AgreementOutcome): Agreement => ({ outcome, relengd: relengdSide, bot: botSide });
  switch (verdict.status) {
    case "none":
      return result("undecidable");
    case "approved":
      return result(processed ? "agreed" : "disagreed");
    case "denied":
      return result(processed ? "disagreed" : "agreed");
    case "needs-review":
      if (verdict.review === "facts") return result("undecidable");
      return result(closed.closedBy !== null && closed.closedBy !== bot ? "agreed" : "disagreed");
  }
}

/** The closing comment as a trailer value. */
export function trailerReason(closeStatus: string, reason: string | null): string {
  return reason ? `${closeStatus}: ${oneLine(reason, MAX_TRAILER_REASON)}` : closeStatus;
}

/** Lint problems of a document as approval's `problems` input (no lines: the document is relengd's rendering). */
export function lintProblemsOf(path: string, lint: string[]): { path: string; line: number; field?: string; message: string }[] {
  return lint.map((l) => {
    const space = l.indexOf(" ");
    return space > 0 ? { path, line: 1, field: l.slice(0, space), message: l.slice(space + 1) } : { path, line: 1, message: l };
  });
}
