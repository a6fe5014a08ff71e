// The git reads and writes of requests, in a workspace: request branches listed and fetched,
// what a branch changes, who signed its commits, and the merge commit that takes it in.
import { parseRequestMergeMessage } from "../domain/commitMessages/requestMerge.js";
import { TRAILER } from "../domain/commitMessages/trailers.js";
import { PushRejected, RemoteUnavailable, type Author, type Workspace } from "./workspace.js";

/** Request branches are the remote's `refs/heads/requests/…`. */
export const REQUEST_BRANCH_PREFIX = "requests/";
/** Where a workspace keeps fetched request branches (never pushed from). */
const LOCAL_REQUEST_REFS = "refs/relengd/heads/";
/** git's tree with nothing in it: the base of a branch with history unrelated to the target. */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
/** A ref name longer than this is not taken for a request (git allows far longer ones). */
const MAX_BRANCH_NAME = 200;
/** Branches fetched per git fetch: the refspecs are command-line arguments. */
const FETCH_CHUNK = 200;

export class RequestGitError extends Error {}

async function git(ws: Workspace, args: string[], opts: { input?: Buffer; env?: Record<string, string> } = {}): Promise<string> {
  const r = await ws.run(args, opts);
  if (r.code !== 0) throw new RequestGitError(`git ${args[0] ?? ""}: ${(r.stderr.trim() || r.stdout.toString("utf8").trim()).split("\n").slice(0, 3).join(" / ") || `ended with ${r.code}`}`);
  return r.stdout.toString("utf8");
}

export const localRequestRef = (branch: string): string => `${LOCAL_REQUEST_REFS}${branch}`;

/**
 * Every branch of the remote with its commit (`ls-remote`: one round trip, nothing fetched).
 * Throws RemoteUnavailable when the remote cannot be read.
 */
export async function remoteHeads(ws: Workspace): Promise<Map<string, string>> {
  const r = await ws.run(["ls-remote", "--heads", "origin"]);
  if (r.code !== 0) throw new RemoteUnavailable(`ls-remote ${ws.url} failed: ${r.stderr.trim().split("\n")[0] ?? r.code}`);
  const heads = new Map<string, string>();
  for (const line of r.stdout.toString("utf8").split("\n")) {
    const m = /^([0-9a-f]{40,64})\trefs\/heads\/(.+)$/.exec(line);
    if (m?.[1] && m[2] && m[2].length <= MAX_BRANCH_NAME) heads.set(m[2], m[1]);
  }
  return heads;
}

/** Whether `branch` is a request branch relengd reads. */
export function isRequestBranch(branch: string): boolean {
  return branch.startsWith(REQUEST_BRANCH_PREFIX) && branch.length > REQUEST_BRANCH_PREFIX.length && branch.length <= MAX_BRANCH_NAME;
}

/** Fetches branches into the workspace (request branches under refs/relengd/heads/). */
export async function fetchBranches(ws: Workspace, branches: readonly string[]): Promise<void> {
  for (let i = 0; i < branches.length; i += FETCH_CHUNK) {
    const specs = branches.slice(i, i + FETCH_CHUNK).map((b) => `+refs/heads/${b}:${localRequestRef(b)}`);
    const r = await ws.run(["fetch", "--quiet", "--no-tags", "origin", ...specs]);
    if (r.code !== 0) throw new RemoteUnavailable(`fetch from ${ws.url} failed: ${r.stderr.trim().split("\n")[0] ?? r.code}`);
  }
}

/** Whether the workspace has `sha` as a commit. */
export async function hasCommit(ws: Workspace, sha: string): Promise<boolean> {
  return (await ws.run(["cat-file", "-e", `${sha}^{commit}`])).code === 0;
}

/** The best common ancestor of two commits; null when their histories are unrelated. */
export async function mergeBase(ws: Workspace, a: string, b: string): Promise<string | null> {
  const r = await ws.run(["merge-base", a, b]);
  if (r.code === 0) return r.stdout.toString("utf8").trim() || null;
  if (r.code === 1) return null;
  throw new RequestGitError(`git merge-base: ${r.stderr.trim()}`);
}

export type PathChange = "added" | "modified" | "deleted";

/** The files `to` changes since `from` (null: since nothing), renames as delete + add. */
export async function changedPaths(ws: Workspace, from: string | null, to: string): Promise<{ path: string; change: PathChange }[]> {
  const out = await git(ws, ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--name-status", from ?? EMPTY_TREE, to]);
  const parts = out.split("\0");
  const changes: { path: string; change: PathChange }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i] ?? "";
    const file = parts[i + 1] ?? "";
    if (!file) continue;
    changes.push({ path: file, change: status.startsWith("A") ? "added" : status.startsWith("D") ? "deleted" : "modified" });
  }
  return changes;
}

export interface BlobAt {
  oid: string;
  mode: string;
  size: number;
  /** The content; null when it is larger than the caller reads. */
  bytes: Buffer | null;
}

/**
 * The blob id, size and bytes of each of `paths` at `commit` (absent paths and non-files are
 * missing). Blobs larger than `maxBytes` are not read: a pushed branch may hold a file of any size,
 * and only its id is needed to tell it from another.
 */
export async function blobsAt(ws: Workspace, commit: string, paths: readonly string[], maxBytes = Number.POSITIVE_INFINITY): Promise<Map<string, BlobAt>> {
  const out = new Map<string, BlobAt>();
  if (paths.length === 0) return out;
  // -l: each entry with its size, so that large blobs are never read.
  const listing = await git(ws, ["--literal-pathspecs", "ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", ...paths]);
  const entries: { path: string; oid: string; mode: string; size: number }[] = [];
  for (const entry of listing.split("\0")) {
    const m = /^(\d{6}) blob ([0-9a-f]{40,64}) +(\d+)\t(.*)$/s.exec(entry);
    if (m?.[1] && m[2] && m[3] && m[4] !== undefined) entries.push({ mode: m[1], oid: m[2], size: Number(m[3]), path: m[4] });
  }
  const toRead = entries.filter((e) => e.size <= maxBytes);
  for (const e of entries) if (e.size > maxBytes) out.set(e.path, { oid: e.oid, mode: e.mode, size: e.size, bytes: null });
  if (toRead.length === 0) return out;
  const r = await ws.run(["cat-file", "--batch"], { input: Buffer.from(toRead.map((e) => e.oid).join("\n") + "\n") });
  if (r.code !== 0) throw new RequestGitError(`git cat-file: ${r.stderr.trim()}`);
  let at = 0;
  for (const e of toRead) {
    const nl = r.stdout.indexOf(10, at);
    const header = r.stdout.subarray(at, nl).toString();
    at = nl + 1;
    const m = /^[0-9a-f]{40,64} blob (\d+)$/.exec(header);
    if (!m) throw new RequestGitError(`git cat-file: unexpected answer for ${e.path}: ${header}`);
    const size = Number(m[1]);
    out.set(e.path, { oid: e.oid, mode: e.mode, size, bytes: r.stdout.subarray(at, at + size) });
    at += size + 1;
  }
  return out;
}

/** Every path under `prefixes` at `commit`. */
export async function pathsAt(ws: Workspace, commit: string, prefixes: readonly string[]): Promise<string[]> {
  const out = await git(ws, ["--literal-pathspecs", "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", ...prefixes]);
  return out.split("\0").filter(Boolean);
}

export interface CommitSignature {
  sha: string;
  /** git's %G?: G good, B bad, U/X/Y/R doubtful, E cannot check, N none. */
  status: string;
  /** The principal the allowed-signers file names for the key (good signatures only). */
  signer: string;
  authorName: string;
  authorEmail: string;
}

/**
 * The commits of `tip` not in `exclude` (every commit of tip's history when null), newest first,
 * with their SSH signatures checked against `allowedSigners` (a file git reads; null: none is
 * trusted, so no signature is good).
 */
export async function commitSignatures(ws: Workspace, tip: string, exclude: string | null, allowedSigners: string | null, limit = 1000): Promise<CommitSignature[]> {
  const config = ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${allowedSigners ?? "/dev/null"}`];
  const range = exclude ? [tip, `^${exclude}`] : [tip];
  const out = await git(ws, [...config, "log", `--max-count=${limit}`, "--format=%H%x1f%G?%x1f%GS%x1f%an%x1f%ae%x1e", ...range, "--"]);
  const sigs: CommitSignature[] = [];
  for (const record of out.split("\x1e")) {
    const [sha, status, signer, authorName, authorEmail] = record.replace(/^\n/, "").split("\x1f");
    if (!sha || status === undefined) continue;
    sigs.push({ sha: sha.trim(), status, signer: status === "G" ? (signer ?? "") : "", authorName: authorName ?? "", authorEmail: authorEmail ?? "" });
  }
  return sigs;
}

/**
 * The tree of merging `theirs` into `ours` (git's merge-tree: no work tree, no index), or the
 * paths that conflict. Unrelated histories merge too.
 */
export async function mergeTree(ws: Workspace, ours: string, theirs: string): Promise<{ ok: true; tree: string } | { ok: false; conflicts: string[] }> {
  const r = await ws.run(["merge-tree", "--write-tree", "--allow-unrelated-histories", "--name-only", "-z", ours, theirs]);
  const out = r.stdout.toString("utf8");
  const [tree, ...rest] = out.split("\0");
  if (r.code === 0 && tree && /^[0-9a-f]{40,64}$/.test(tree.trim())) return { ok: true, tree: tree.trim() };
  if (r.code === 1) {
    // After the tree: the conflicted paths, then an empty entry, then messages.
    const end = rest.indexOf("");
    const conflicts = [...new Set(rest.slice(0, end === -1 ? rest.length : end).filter(Boolean))];
    return { ok: false, conflicts };
  }
  throw new RequestGitError(`git merge-tree: ${r.stderr.trim() || `ended with ${r.code}`}`);
}

/** A commit of `tree` with `parents`, as `author` (committer too), at `when`. */
export async function commitTree(ws: Workspace, tree: string, parents: readonly string[], message: string, author: Author, when: Date): Promise<string> {
  // "@": the raw form, which git reads as seconds whatever their count (a bare "0 +0000" is refused).
  const date = `@${Math.floor(when.getTime() / 1000)} +0000`;
  const env = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const out = await git(ws, ["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], { input: Buffer.from(message, "utf8"), env });
  const sha = out.trim();
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new RequestGitError(`git commit-tree answered ${sha.slice(0, 80)}`);
  return sha;
}

/**
 * The merge commit of `requestId` on `head`'s first-parent line, if a run before made it. A merge
 * comes after the head the request was judged against (`since`), so the search stops there
 * instead of walking the whole history (0.2-0.3 s at 30,000 commits, before every merge).
 */
export async function findRequestMerge(ws: Workspace, head: string, requestId: string, since?: string | null): Promise<string | undefined> {
  const bound = since && (await ws.run(["merge-base", "--is-ancestor", since, head])).code === 0 ? [`^${since}`] : [];
  const out = await git(ws, ["log", "--first-parent", "--format=%H%x1f%B%x1e", "--fixed-strings", `--grep=${TRAILER.requestId}: ${requestId}`, head, ...bound, "--"]);
  for (const record of out.split("\x1e")) {
    const [sha, message] = record.replace(/^\n/, "").split("\x1f");
    if (sha && message !== undefined && parseRequestMergeMessage(message)?.requestId === requestId) return sha.trim();
  }
  return undefined;
}

/** Pushes `sha` to branch `branch` of the remote as a fast-forward (or a new branch); never forces. */
export async function pushBranch(ws: Workspace, sha: string, branch: string): Promise<void> {
  const r = await ws.run(["push", "--quiet", "--porcelain", "origin", `${sha}:refs/heads/${branch}`]);
  if (r.code === 0) return;
  const text = `${r.stderr}\n${r.stdout.toString("utf8")}`;
  const first = text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 2).join(" / ");
  if (/\[rejected\]|non-fast-forward|fetch first/i.test(text)) throw new PushRejected(`push to ${ws.url} ${branch} rejected: ${first}`);
  throw new RemoteUnavailable(`push to ${ws.url} ${branch} failed: ${first}`);
}
