// Reading a bare shadow repository in tests: its branches, the mirrored commits of a ref (with
// their parsed trailers) and a file at a ref.
import { parseShadowCommitMessage, type ShadowCommitInfo } from "../../src/domain/commitMessages/shadow.js";
import { git } from "./remote.js";

export interface ShadowCommit {
  sha: string;
  parents: string[];
  info: ShadowCommitInfo | undefined;
}

/** The commits of `ref` in the bare remote, newest first. */
export function shadowCommitsOf(remote: string, ref: string, firstParent = false): ShadowCommit[] {
  const out = git(remote, "log", ...(firstParent ? ["--first-parent"] : []), "--format=%H%x1f%P%x1f%B%x1e", ref);
  return out
    .split("\x1e")
    .map((r) => r.replace(/^\n/, ""))
    .filter(Boolean)
    .map((r) => {
      const [sha = "", parents = "", message = ""] = r.split("\x1f");
      return { sha, parents: parents.split(" ").filter(Boolean), info: parseShadowCommitMessage(message) };
    });
}

/** The remote's branches, sorted. */
export const remoteBranches = (remote: string): string[] => git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim().split("\n").filter(Boolean).sort();

/** A file's content at `ref`, or null when the ref does not have it. */
export function fileAt(remote: string, ref: string, file: string): string | null {
  try {
    return git(remote, "show", `${ref}:${file}`);
  } catch {
    return null;
  }
}
