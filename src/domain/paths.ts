// Path segments of the GitOps repo: every segment is checked before it becomes a path, so that
// no input can name a file outside the repo (../, absolute paths, NUL, newlines, look-alikes).

// ASCII only: Unicode look-alikes (fullwidth solidus, one-dot leader) never pass.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;

export class UnsafePathError extends Error {}

export function isSafeSegment(segment: string): boolean {
  return SEGMENT.test(segment) && !segment.includes("..");
}

/** Joins checked segments with "/"; throws UnsafePathError naming the first bad segment. */
export function repoPath(...segments: string[]): string {
  for (const s of segments) {
    if (!isSafeSegment(s)) throw new UnsafePathError(`path segment ${JSON.stringify(s)} is not allowed (letters, digits and ._+- only, no "..")`);
  }
  return segments.join("/");
}

/** Splits a repo-relative path and checks each segment (lint of a checked-out repo). */
export function isSafeRepoPath(path: string): boolean {
  const parts = path.split("/");
  return parts.length > 0 && parts.every((p, i) => (i === parts.length - 1 ? isSafeSegment(p.replace(/\.ya?ml$/, "")) && /\.ya?ml$/.test(p) : isSafeSegment(p)));
}
