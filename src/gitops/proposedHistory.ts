// The proposed documents of a branch as git holds them: which are present at a commit, and the
// first-parent history that says whether each reached the branch through a relengd merge.
import { isProposedDocumentPath, requestRoots } from "../domain/requests/index.js";
import { firstParentLogArgs, parseFirstParentChanges, requestIdsToWitness, unreviewedDocuments, unreviewedDocumentsWitnessed, type UnreviewedDocument } from "../domain/requests/unreviewed.js";
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

/**
 * readUnreviewedDocuments with the store as witness: `mergeCommits` answers which of the request
 * ids the trailers name relengd merged, and with which commit.
 */
export async function readUnreviewedWitnessed(
  dir: string,
  head: string,
  mergeCommits: (ids: string[]) => Promise<ReadonlyMap<string, string>>,
  present?: readonly string[],
): Promise<UnreviewedDocument[]> {
  const paths = present ?? (await listProposedDocumentPaths(dir, head));
  if (paths.length === 0) return [];
  const changes = parseFirstParentChanges(await git(dir, firstParentLogArgs(head)));
  const ids = requestIdsToWitness(changes, paths);
  return unreviewedDocumentsWitnessed(changes, paths, ids.length > 0 ? await mergeCommits(ids) : new Map());
}
