// The proposed documents of a branch as git holds them: which are present at a commit, and the
// first-parent history that says whether each reached the branch through a relengd merge.
import { isProposedDocumentPath, requestRoots } from "../domain/requests/index.js";
import { firstParentLogArgs, latestChanges, parseFirstParentChanges, requestIdsToWitness, unreviewedDocuments, unreviewedDocumentsWitnessed, type FirstParentChange, type UnreviewedDocument } from "../domain/requests/unreviewed.js";
import { countedGitCommand } from "./gitLocks.js";
import { runGitProcess } from "./gitProcess.js";
import { gitEnv } from "./workspace.js";

async function git(dir: string, args: string[]): Promise<string> {
  return countedGitCommand(dir, async () => {
    const result = await runGitProcess({ args, cwd: dir, env: gitEnv() });
    if (result.code !== 0) throw new Error(`git ${args[0] ?? ""} in ${dir}: ${result.stderr.trim() || `ended with ${result.code ?? result.signal}`}`);
    return result.stdout.toString("utf8");
  });
}

/** The paths of the proposed documents (YAML under distgit/ and koji/sidetags/) at `commit` of the repository in `dir`. */
export async function listProposedDocumentPaths(dir: string, commit: string): Promise<string[]> {
  const listing = await git(dir, ["--literal-pathspecs", "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", ...requestRoots]);
  return listing.split("\0").filter((p) => p !== "" && isProposedDocumentPath(p));
}

/** Of the proposed documents present at `head`, those whose last first-parent change is not a relengd merge. */
export async function readUnreviewedDocuments(dir: string, head: string, present?: readonly string[]): Promise<UnreviewedDocument[]> {
  const paths = present ?? (await listProposedDocumentPaths(dir, head));
  if (paths.length === 0) return [];
  const log = await git(dir, firstParentLogArgs(head));
  return unreviewedDocuments(parseFirstParentChanges(log), paths);
}

/** What the first-parent history of `head` says of the proposed documents present there. */
export interface ProposedHistory {
  head: string;
  paths: string[];
  changes: FirstParentChange[];
}

/**
 * Reads the proposed documents at `head` and the first-parent changes that brought them (none: no
 * log is run). With `previous` (the history of an earlier head of the same branch), only the
 * commits since it are read when it is an ancestor of `head`: a branch that only moves forward
 * costs one short log per move, not a walk of its whole history.
 */
export async function readProposedHistory(dir: string, head: string, present?: readonly string[], previous?: ProposedHistory): Promise<ProposedHistory> {
  const paths = [...(present ?? (await listProposedDocumentPaths(dir, head)))];
  if (previous?.head === head) return { head, paths, changes: previous.changes };
  const since = previous && (await isAncestor(dir, previous.head, head)) ? previous : undefined;
  if (paths.length === 0 && !since) return { head, paths, changes: [] };
  const newer = parseFirstParentChanges(await git(dir, firstParentLogArgs(head, since?.head)));
  return { head, paths, changes: latestChanges(newer, since?.changes ?? []) };
}

async function isAncestor(dir: string, ancestor: string, head: string): Promise<boolean> {
  return countedGitCommand(dir, async () => (await runGitProcess({ args: ["merge-base", "--is-ancestor", ancestor, head], cwd: dir, env: gitEnv() })).code === 0);
}

/**
 * The documents of `history` that are unreviewed with the store as witness: `mergeCommits`
 * answers which of the request ids the trailers name relengd merged, and with which commit.
 * Asking again over the same history costs no git command (a merge recorded after it was pushed).
 */
export async function witnessUnreviewed(history: ProposedHistory, mergeCommits: (ids: string[]) => Promise<ReadonlyMap<string, string>>): Promise<UnreviewedDocument[]> {
  if (history.paths.length === 0) return [];
  const ids = requestIdsToWitness(history.changes, history.paths);
  return unreviewedDocumentsWitnessed(history.changes, history.paths, ids.length > 0 ? await mergeCommits(ids) : new Map());
}

/** readUnreviewedDocuments with the store (or the API) as witness of relengd's merges. */
export async function readUnreviewedWitnessed(
  dir: string,
  head: string,
  mergeCommits: (ids: string[]) => Promise<ReadonlyMap<string, string>>,
  present?: readonly string[],
): Promise<UnreviewedDocument[]> {
  return witnessUnreviewed(await readProposedHistory(dir, head, present), mergeCommits);
}
