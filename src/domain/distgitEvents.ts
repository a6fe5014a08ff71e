// dist-git's branch creations on the bus (org.fedoraproject.prod.pagure.git.branch.creation):
// the branch observed as existing, a fact the approval policies read. Pure.
import { isObject, publishedTopic } from "./observedTopics.js";

export const BRANCH_CREATION_TOPIC = "pagure.git.branch.creation";

/** A branch dist-git created. */
export interface DistgitBranchCreated {
  namespace: string;
  repo: string;
  branch: string;
  rev?: string;
  agent?: string;
}

/** A package repository dist-git created (pagure.project.new). */
export interface DistgitRepoCreated {
  namespace: string;
  repo: string;
  agent?: string;
}

export const PROJECT_NEW_TOPIC = "pagure.project.new";

export type BranchCreationEffect =
  | { kind: "distgitBranch"; branch: DistgitBranchCreated }
  | { kind: "distgitRepo"; repo: DistgitRepoCreated }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; path: string; reason: string };

// dist-git's namespaces are lowercase words (rpms, container, modules, flatpaks, tests).
const NAMESPACE = /^[a-z][a-z0-9-]{0,63}$/;
// fedpkg's repository name rule, bounded.
const REPO = /^[a-zA-Z0-9_][a-zA-Z0-9-_.+]{0,254}$/;
// git's ref name rules, as far as a branch relengd stores needs them: no control characters,
// spaces, `..`, `~^:?*[\`, no leading dash or dot, no `.lock` end, no `//`.
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!.*\/\.)(?!\.)[^\x00-\x20\x7f~^:?*[\\]{1,255}(?<![./])$/;
const SHA = /^[0-9a-f]{7,64}$/;
const AGENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** dist-git's topics relengd maps: a branch created, a repository created. */
export function isDistgitTopic(topic: string): boolean {
  const bare = publishedTopic(topic).bare;
  return bare === BRANCH_CREATION_TOPIC || bare === PROJECT_NEW_TOPIC;
}

export function mapDistgitMessage(topic: string, body: Record<string, unknown>): BranchCreationEffect {
  return publishedTopic(topic).bare === PROJECT_NEW_TOPIC ? mapProjectNew(topic, body) : mapBranchCreation(topic, body);
}

/** Only Fedora's production dist-git: pagure.io, staging, development and prefix-less messages are not. */
function notProductionDistgit(topic: string, what: string): BranchCreationEffect | undefined {
  const t = publishedTopic(topic);
  if (t.publisher === "io.pagure") return { kind: "ignored", reason: `a ${what} on pagure.io (${topic.slice(0, 120)}): a pagure.io project, not a dist-git repository` };
  if (t.publisher === null) return { kind: "ignored", reason: `a ${what} without its publisher's prefix: dist-git (org.fedoraproject.prod.) and pagure.io (io.pagure.prod.) publish the same topic` };
  if (t.env !== "prod") return { kind: "ignored", reason: `a ${what} in ${t.env === "stg" ? "staging" : "development"} dist-git (${t.publisher}.${t.env}.), not Fedora's production dist-git` };
  return undefined;
}

/** The namespace and name of pagure's project JSON (fedmsg-era messages may give only `fullname`). */
function repoOf(project: Record<string, unknown>, base: string): { namespace: string; repo: string } | BranchCreationEffect {
  if (project.parent !== undefined && project.parent !== null) {
    const user = isObject(project.user) && typeof project.user.name === "string" ? ` of ${project.user.name.slice(0, 64).toWellFormed()}` : "";
    return { kind: "ignored", reason: `a fork${user}, not the package's dist-git repository` };
  }
  let namespace = project.namespace;
  let name = project.name;
  if ((namespace === undefined || namespace === null) && typeof project.fullname === "string") {
    const parts = project.fullname.split("/");
    if (parts.length === 2) [namespace, name] = [parts[0], parts[1] ?? name];
  }
  if (typeof namespace !== "string" || !NAMESPACE.test(namespace)) {
    return namespace === undefined || namespace === null
      ? { kind: "ignored", reason: "a repository without a namespace: dist-git's package repositories are all in one (rpms, container, …)" }
      : { kind: "rejected", path: `${base}/namespace`, reason: "must be a dist-git namespace like rpms" };
  }
  if (typeof name !== "string" || !REPO.test(name)) return { kind: "rejected", path: `${base}/name`, reason: "must be a dist-git repository name" };
  return { namespace, repo: name };
}

/** `org.fedoraproject.prod.pagure.project.new`: dist-git created a package repository (the request processor's new_repo done). */
export function mapProjectNew(topic: string, body: Record<string, unknown>): BranchCreationEffect {
  const other = notProductionDistgit(topic, "project");
  if (other) return other;
  if (!isObject(body.project)) return { kind: "rejected", path: "/body/project", reason: "must describe the repository (namespace, name)" };
  const where = repoOf(body.project, "/body/project");
  if ("kind" in where) return where;
  const agent = typeof body.agent === "string" && AGENT.test(body.agent) ? body.agent : undefined;
  return { kind: "distgitRepo", repo: { ...where, ...(agent ? { agent } : {}) } };
}

/**
 * A branch creation of dist-git. pagure.io publishes the same topic under io.pagure.*: those are
 * pagure.io's projects, not package repositories; staging and development instances are not
 * Fedora's dist-git; a fork's branch is not the package's.
 */
export function mapBranchCreation(topic: string, body: Record<string, unknown>): BranchCreationEffect {
  const other = notProductionDistgit(topic, "branch");
  if (other) return other;
  if (!isObject(body.repo)) return { kind: "rejected", path: "/body/repo", reason: "must describe the repository (namespace, name)" };
  const where = repoOf(body.repo, "/body/repo");
  if ("kind" in where) return where;
  const { namespace, repo: name } = where;

  const ref = body.branch;
  if (typeof ref !== "string" || !ref.isWellFormed()) return { kind: "rejected", path: "/body/branch", reason: "must be the branch name (refs/heads/<name> or <name>)" };
  let branch = ref;
  if (ref.startsWith("refs/")) {
    if (!ref.startsWith("refs/heads/")) return { kind: "ignored", reason: `${ref.slice(0, 120)} is not a branch (refs/heads/…)` };
    branch = ref.slice("refs/heads/".length);
  }
  if (!BRANCH.test(branch)) return { kind: "rejected", path: "/body/branch", reason: "must be a git branch name" };

  const rev = typeof body.rev === "string" && SHA.test(body.rev) ? body.rev : undefined;
  const agent = typeof body.agent === "string" && AGENT.test(body.agent) ? body.agent : undefined;
  return { kind: "distgitBranch", branch: { namespace, repo: name, branch, ...(rev ? { rev } : {}), ...(agent ? { agent } : {}) } };
}
