// Forge webhooks as relengd reads them: which forge sent a delivery (by its headers), and what a
// push or pull/merge-request event says about a branch — its new head commit and the forge
// account that put it there. Forgejo and Gitea share one payload shape (Gitea's API structs);
// GitLab has its own (docs.gitlab.com, "Webhook events"). Relengd only reads these; the payloads
// are the forges' formats. Pure.
import { z } from "zod";
import { parseWith, type FieldIssue, type Parsed } from "./fieldIssues.js";
import { wellFormedString } from "./text.js";

export const forges = ["forgejo", "gitea", "gitlab"] as const;
export type Forge = (typeof forges)[number];

/** What the headers say: the forge, its event name, its delivery id, and the proof to check. */
export interface ForgeDeliveryHeaders {
  forge: Forge;
  event: string;
  /** The forge's id of this delivery; null when it sent none (an old GitLab). */
  deliveryId: string | null;
  /** Forgejo/Gitea: the hex HMAC-SHA256 of the body. GitLab: the secret token. */
  proof: { kind: "signature" | "token"; header: string; value: string | undefined };
}

export type HeaderBag = Record<string, string | string[] | undefined>;

/** Longest header value read (an event name, a delivery id): forges send UUIDs and short words. */
const MAX_HEADER_CHARS = 200;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.trim();
}

const FORGE_EVENT_HEADERS = ["x-forgejo-event", "x-gitea-event", "x-gitlab-event"] as const;

/**
 * The forge a delivery comes from, by its event header. Forgejo sends the X-Gitea-* headers
 * too: its own are looked at first, and its own signature is the one checked when present.
 */
export function forgeDeliveryHeaders(headers: HeaderBag): Parsed<ForgeDeliveryHeaders> {
  const issue = (name: string, message: string): Parsed<ForgeDeliveryHeaders> => ({ ok: false, issues: [{ path: `/${name}`, message }] });
  for (const name of [...FORGE_EVENT_HEADERS, "x-forgejo-delivery", "x-gitea-delivery", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid", "idempotency-key"]) {
    const v = header(headers, name);
    if (v !== undefined && (v.length > MAX_HEADER_CHARS || !/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/.test(v))) return issue(name, `must be printable ASCII of at most ${MAX_HEADER_CHARS} characters`);
  }
  const forgejo = header(headers, "x-forgejo-event");
  if (forgejo) {
    const own = header(headers, "x-forgejo-signature");
    return {
      ok: true,
      value: {
        forge: "forgejo",
        event: forgejo,
        deliveryId: header(headers, "x-forgejo-delivery") || header(headers, "x-gitea-delivery") || null,
        proof: own !== undefined ? { kind: "signature", header: "x-forgejo-signature", value: own } : { kind: "signature", header: "x-gitea-signature", value: header(headers, "x-gitea-signature") },
      },
    };
  }
  const gitea = header(headers, "x-gitea-event");
  if (gitea) {
    return { ok: true, value: { forge: "gitea", event: gitea, deliveryId: header(headers, "x-gitea-delivery") || null, proof: { kind: "signature", header: "x-gitea-signature", value: header(headers, "x-gitea-signature") } } };
  }
  const gitlab = header(headers, "x-gitlab-event");
  if (gitlab) {
    // Idempotency-Key (GitLab 17.4) stays the same when GitLab retries a delivery; the event UUID is older.
    const id = header(headers, "idempotency-key") || header(headers, "x-gitlab-event-uuid") || header(headers, "x-gitlab-webhook-uuid") || null;
    return { ok: true, value: { forge: "gitlab", event: gitlab, deliveryId: id, proof: { kind: "token", header: "x-gitlab-token", value: header(headers, "x-gitlab-token") } } };
  }
  return issue("x-forgejo-event", "is missing: a forge webhook carries X-Forgejo-Event, X-Gitea-Event or X-Gitlab-Event");
}

/** What a verified push or pull request says about a branch of a repository. */
export interface BranchChange {
  kind: "push" | "pull-request";
  /** The forge's action (opened, synchronized, update...) for a pull request; "push" for a push. */
  action: string;
  /** The repository the branch is in, as the forge names it (owner/name). */
  repositoryName: string;
  /** Every URL the forge gives for the repository (clone, ssh, web). */
  repositoryUrls: string[];
  branch: string;
  /** The branch's new head; null when the push deleted the branch. */
  revision: string | null;
  /** The forge account that pushed it (or opened, reopened or updated the pull request with it). */
  account: string;
  /**
   * Whether this event is the account putting `revision` at the head (a push, a pull request
   * opened, reopened or updated with new commits); a label or a title edit is not.
   */
  setsHead: boolean;
  /** A pull request from another repository (a fork): its branch is not in this repository. */
  fromFork: boolean;
}

export type ForgeEvent = { kind: "change"; change: BranchChange } | { kind: "ignored"; reason: string };

const ZERO_SHA = /^0+$/;
const sha = wellFormedString().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, "must be a 40 or 64 character hex commit id");
// Forgejo/Gitea and GitLab user names: letters, digits, `-`, `_`, `.` (Fedora's forge uses FAS names).
const account = wellFormedString().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/, "must be a forge user name");
const ref = wellFormedString().min(1).max(1024);
const branchName = wellFormedString().min(1).max(1024);
const url = wellFormedString().max(2048);
const optionalUrl = url.nullish();

// Forgejo/Gitea (modules/structs: PushPayload, PullRequestPayload, Repository, User).
const giteaUser = z.looseObject({ login: account.optional(), username: account.optional() });
const giteaRepository = z.looseObject({ full_name: wellFormedString().min(1).max(512), clone_url: optionalUrl, ssh_url: optionalUrl, html_url: optionalUrl });
const giteaPush = z.looseObject({ ref, after: sha, pusher: giteaUser.nullish(), sender: giteaUser.nullish(), repository: giteaRepository });
const giteaPullRequest = z.looseObject({
  action: wellFormedString().min(1).max(100),
  pull_request: z.looseObject({
    head: z.looseObject({ ref: branchName, sha, repo: z.looseObject({ full_name: wellFormedString().max(512) }).nullish() }),
    base: z.looseObject({ repo: z.looseObject({ full_name: wellFormedString().max(512) }).nullish() }),
  }),
  sender: giteaUser,
  repository: giteaRepository,
});

// GitLab (docs.gitlab.com/user/project/integrations/webhook_events).
const gitlabProject = z.looseObject({ path_with_namespace: wellFormedString().min(1).max(512), git_http_url: optionalUrl, git_ssh_url: optionalUrl, web_url: optionalUrl });
const gitlabPush = z.looseObject({ object_kind: z.literal("push"), ref, after: sha, user_username: account, project: gitlabProject });
const gitlabMergeRequest = z.looseObject({
  object_kind: z.literal("merge_request"),
  user: z.looseObject({ username: account }),
  project: gitlabProject,
  object_attributes: z.looseObject({
    action: wellFormedString().min(1).max(100).optional(),
    source_branch: branchName,
    source_project_id: z.number().int(),
    target_project_id: z.number().int(),
    last_commit: z.looseObject({ id: sha }),
    oldrev: sha.nullish(),
  }),
});

const urls = (...list: (string | null | undefined)[]) => list.filter((u): u is string => typeof u === "string" && u.length > 0);
const BRANCH_REF = "refs/heads/";

function branchOfRef(r: string): string | null {
  return r.startsWith(BRANCH_REF) && r.length > BRANCH_REF.length ? r.slice(BRANCH_REF.length) : null;
}

const within = (issues: FieldIssue[]): Parsed<ForgeEvent> => ({ ok: false, issues });

/**
 * A verified delivery's body read as the forge's event: a branch change, or ignored with the
 * reason (an event relengd does not read, a tag). A push or pull request that lacks what it
 * must carry is refused field by field.
 */
export function parseForgeEvent(h: Pick<ForgeDeliveryHeaders, "forge" | "event">, body: unknown): Parsed<ForgeEvent> {
  const ignored = (reason: string): Parsed<ForgeEvent> => ({ ok: true, value: { kind: "ignored", reason } });
  if (h.forge === "gitlab") {
    if (h.event === "Push Hook") {
      const p = parseWith(gitlabPush, body);
      if (!p.ok) return within(p.issues);
      const branch = branchOfRef(p.value.ref);
      if (!branch) return ignored(`${p.value.ref} is not a branch`);
      const project = p.value.project;
      return {
        ok: true,
        value: {
          kind: "change",
          change: { kind: "push", action: "push", repositoryName: project.path_with_namespace, repositoryUrls: urls(project.git_http_url, project.git_ssh_url, project.web_url), branch, revision: ZERO_SHA.test(p.value.after) ? null : p.value.after, account: p.value.user_username, setsHead: true, fromFork: false },
        },
      };
    }
    if (h.event === "Merge Request Hook") {
      const p = parseWith(gitlabMergeRequest, body);
      if (!p.ok) return within(p.issues);
      const a = p.value.object_attributes;
      const action = a.action ?? "unknown";
      // `update` carries oldrev only when new commits were pushed (GitLab's docs).
      const setsHead = action === "open" || action === "reopen" || (action === "update" && typeof a.oldrev === "string");
      const project = p.value.project;
      return {
        ok: true,
        value: {
          kind: "change",
          change: { kind: "pull-request", action, repositoryName: project.path_with_namespace, repositoryUrls: urls(project.git_http_url, project.git_ssh_url, project.web_url), branch: a.source_branch, revision: a.last_commit.id, account: p.value.user.username, setsHead, fromFork: a.source_project_id !== a.target_project_id },
        },
      };
    }
    return ignored(`GitLab event ${h.event} is not one relengd reads (Push Hook, Merge Request Hook)`);
  }
  if (h.event === "push") {
    const p = parseWith(giteaPush, body);
    if (!p.ok) return within(p.issues);
    const who = p.value.pusher?.login || p.value.pusher?.username || p.value.sender?.login || p.value.sender?.username;
    if (!who) return within([{ path: "/pusher/login", message: "is missing: a push names who pushed" }]);
    const branch = branchOfRef(p.value.ref);
    if (!branch) return ignored(`${p.value.ref} is not a branch`);
    const repo = p.value.repository;
    return {
      ok: true,
      value: {
        kind: "change",
        change: { kind: "push", action: "push", repositoryName: repo.full_name, repositoryUrls: urls(repo.clone_url, repo.ssh_url, repo.html_url), branch, revision: ZERO_SHA.test(p.value.after) ? null : p.value.after, account: who, setsHead: true, fromFork: false },
      },
    };
  }
  if (h.event === "pull_request") {
    const p = parseWith(giteaPullRequest, body);
    if (!p.ok) return within(p.issues);
    const who = p.value.sender.login || p.value.sender.username;
    if (!who) return within([{ path: "/sender/login", message: "is missing: a pull request event names who acted" }]);
    const pr = p.value.pull_request;
    const repo = p.value.repository;
    // Gitea says `synchronized` for new commits on the head branch (GitHub: `synchronize`).
    const setsHead = ["opened", "reopened", "synchronized", "synchronize"].includes(p.value.action);
    const headRepo = pr.head.repo?.full_name;
    const fromFork = headRepo === undefined || headRepo.toLowerCase() !== (pr.base.repo?.full_name ?? repo.full_name).toLowerCase();
    return {
      ok: true,
      value: {
        kind: "change",
        change: { kind: "pull-request", action: p.value.action, repositoryName: repo.full_name, repositoryUrls: urls(repo.clone_url, repo.ssh_url, repo.html_url), branch: pr.head.ref, revision: pr.head.sha, account: who, setsHead, fromFork },
      },
    };
  }
  return ignored(`${h.forge === "forgejo" ? "Forgejo" : "Gitea"} event ${h.event} is not one relengd reads (push, pull_request)`);
}

/**
 * A repository URL reduced to what two spellings of one repository share: the host (without
 * user or port) and the path (without `.git` or a trailing slash), lower case — so that the
 * forge's https clone URL, its `git@host:owner/name.git` and relengd's ssh:// URL agree. A
 * local path stays a path.
 */
export function repositoryKey(u: string): string {
  let s = u.trim();
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(s);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)(\/.*)?$/i.exec(s);
  if (withScheme) {
    const host = (withScheme[1] ?? "").replace(/^.*@/, "").replace(/:\d*$/, "");
    s = `${host}${withScheme[2] ?? ""}`;
  } else if (scp && !s.startsWith("/")) {
    s = `${scp[1]}/${scp[2]}`;
  }
  s = s.replace(/\/+$/, "").replace(/\.git$/, "").replace(/\/+$/, "");
  return s.toLowerCase();
}

/** Whether a change names the repository at `url` (any of its URLs, compared by repositoryKey). */
export function namesRepository(change: Pick<BranchChange, "repositoryUrls">, url: string): boolean {
  const key = repositoryKey(url);
  return change.repositoryUrls.some((u) => repositoryKey(u) === key);
}
