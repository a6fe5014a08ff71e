// Reads one revision of a request branch out of git: what it changes against the target branch
// (only what would change on a merge) and who signed the commits it adds.
import type { RequestRevision, RevisionAuthor, RevisionFile } from "../domain/requests/revision.js";
import { blobsAt, changedPaths, commitSignatures, mergeBase, pathsAt, type BlobAt, type CommitSignature } from "./requestGit.js";
import type { Workspace } from "./workspace.js";

/** The folders of the GitOps repository that hold proposed documents. */
export const PROPOSED_DOCUMENT_ROOTS = ["distgit", "koji/sidetags"] as const;

/** Files of one request read and judged; a branch changing more is judged on these and named truncated. */
export const MAX_REQUEST_FILES = 500;
/** A file larger than this is not read (the judge refuses it by its size). */
export const MAX_REQUEST_FILE_BYTES = 256 * 1024;
/** Commits of a request branch whose signatures are read. */
const MAX_REQUEST_COMMITS = 500;

export interface RevisionInput {
  repository: string;
  branch: string;
  tip: string;
  targetHead: string | null;
  /** The allowed-signers file written from the facts (null: no key is trusted). */
  allowedSigners: string | null;
  source: "git" | "api";
  seenAt: Date;
  /** Set for an API submission: the token's subject, verified. */
  author?: RevisionAuthor;
  /** Proposed documents on the target head, when the caller read them already. */
  targetPaths?: ReadonlySet<string>;
}

export async function readRevision(ws: Workspace, input: RevisionInput): Promise<RequestRevision> {
  const { tip, targetHead } = input;
  const base = targetHead ? await mergeBase(ws, targetHead, tip) : null;
  const changed = await changedPaths(ws, base, tip);
  const truncated = changed.length > MAX_REQUEST_FILES;
  const candidates = changed.slice(0, MAX_REQUEST_FILES);
  const paths = candidates.map((c) => c.path);
  // The target's side is compared by blob id only: none of its bytes are read.
  const [atTip, atTarget] = await Promise.all([blobsAt(ws, tip, paths, MAX_REQUEST_FILE_BYTES), targetHead ? blobsAt(ws, targetHead, paths, 0) : Promise.resolve(new Map<string, BlobAt>())]);
  const files: RevisionFile[] = [];
  for (const c of candidates) {
    const mine = atTip.get(c.path);
    const theirs = atTarget.get(c.path);
    // What the target already has is no change a merge would make (a branch with unrelated
    // history carries the README too; a file another request merged meanwhile).
    if (mine && theirs && mine.oid === theirs.oid && mine.mode === theirs.mode) continue;
    if (!mine && !theirs) continue;
    if (!mine) {
      files.push({ path: c.path, change: "deleted", blob: null, bytes: null });
      continue;
    }
    const special = mine.mode !== "100644" && mine.mode !== "100755";
    files.push({
      path: c.path,
      change: theirs ? "modified" : "added",
      blob: mine.oid,
      bytes: mine.bytes === null ? null : new Uint8Array(mine.bytes),
      ...(special ? { special: true } : {}),
    });
  }
  // Symbolic links and submodules are listed by ls-tree as other kinds than blob: changed but unread.
  for (const c of candidates) {
    if (c.change !== "deleted" && !atTip.has(c.path) && !files.some((f) => f.path === c.path)) files.push({ path: c.path, change: c.change, blob: null, bytes: null, special: true });
  }
  const author = input.author ?? authorOf(await commitSignatures(ws, tip, targetHead, input.allowedSigners, MAX_REQUEST_COMMITS));
  const targetPaths = input.targetPaths ?? new Set(targetHead ? await pathsAt(ws, targetHead, PROPOSED_DOCUMENT_ROOTS) : []);
  return { repository: input.repository, branch: input.branch, revision: tip, base: targetHead, files, truncated, author, source: input.source, seenAt: input.seenAt, targetPaths };
}

/**
 * Verified only when every commit the branch adds has a good signature of one and the same
 * person; otherwise the newest commit's claimed author, unverified, with the reason.
 */
export function authorOf(sigs: readonly CommitSignature[]): RevisionAuthor {
  const newest = sigs[0];
  if (!newest) return { name: null, email: null, verified: false, note: "the branch adds no commit" };
  const claimed = { name: newest.authorName || null, email: newest.authorEmail || null };
  const unsigned = sigs.find((s) => s.status !== "G");
  if (unsigned) {
    const why = unsigned.status === "N" ? "is not signed" : unsigned.status === "B" ? "has a bad signature" : "is not signed by a key the facts list";
    return { ...claimed, verified: false, note: `commit ${unsigned.sha.slice(0, 12)} ${why}` };
  }
  const signers = [...new Set(sigs.map((s) => s.signer))];
  if (signers.length !== 1 || !signers[0]) return { ...claimed, verified: false, note: `the commits are signed by several people (${signers.join(", ")})` };
  return { name: signers[0], email: newest.authorEmail || null, verified: true };
}
