// Glob lists with "!" negation, as used by token scopes and policy matches.
import picomatch from "picomatch";

const cache = new Map<string, (value: string) => boolean>();

function matcher(glob: string): (value: string) => boolean {
  let m = cache.get(glob);
  if (!m) {
    m = picomatch(glob, { dot: true, nocase: false });
    cache.set(glob, m);
  }
  return m;
}

/**
 * True when `value` matches at least one positive glob (or the list has only negations) and
 * none of the "!"-negated ones. An empty list matches everything.
 */
export function matchesGlobs(value: string, globs: readonly string[]): boolean {
  const positive = globs.filter((g) => !g.startsWith("!"));
  const negative = globs.filter((g) => g.startsWith("!")).map((g) => g.slice(1));
  if (negative.some((g) => matcher(g)(value))) return false;
  return positive.length === 0 || positive.some((g) => matcher(g)(value));
}

export const GLOB_PATTERN = /^!?[A-Za-z0-9._+\-*?[\]{},/]{1,200}$/;
