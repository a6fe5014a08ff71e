// What git says of one revision of a request branch, before anything is judged: the files it
// changes against the target branch and who is behind its commits.

export type RevisionChange = "added" | "modified" | "deleted";

export interface RevisionFile {
  path: string;
  change: RevisionChange;
  /** The blob id in the revision (null for a deleted file). */
  blob: string | null;
  /** The bytes in the revision (null for a deleted file, or a file too large to read). */
  bytes: Uint8Array | null;
  /** The file is a symbolic link or a submodule, not a regular file. */
  special?: boolean;
}

/** Who made the revision: verified by a token (API) or by signatures the facts trust (git). */
export interface RevisionAuthor {
  /** The verified principal (token subject, signer), else the name the commits claim. */
  name: string | null;
  email: string | null;
  verified: boolean;
  /** Why the author is not verified, for people. */
  note?: string;
}

export interface RequestRevision {
  /** The environments' repository name. */
  repository: string;
  branch: string;
  revision: string;
  /** The target branch's head it is judged against (null: the target branch has no commit). */
  base: string | null;
  files: RevisionFile[];
  /** More files changed than were read (the rest are not in `files`). */
  truncated: boolean;
  author: RevisionAuthor;
  source: "git" | "api";
  seenAt: Date;
  /** Paths of proposed documents on the target head (what exists: repos, side tags per owner). */
  targetPaths: ReadonlySet<string>;
}
