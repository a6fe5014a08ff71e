// Glob lists with "!" negation, as used by token scopes and policy matches.
import picomatch from "picomatch";

const cache = new Map<string, (value: string) => boolean>();

/**
 * One glob's test. picomatch's own matcher builds a result object on every call around the same
 * test (empty input never matches, the glob itself always does, else the regex); this is that
 * test without the allocation.
 */
function matcher(glob: string): (value: string) => boolean {
  let m = cache.get(glob);
  if (!m) {
    const re = picomatch.makeRe(glob, { dot: true, nocase: false });
    m = (value: string) => value !== "" && (value === glob || re.test(value));
    cache.set(glob, m);
  }
  return m;
}

// Compiled lists, by list: policies and token claims never change their arrays once parsed.
const lists = new WeakMap<readonly string[], (value: string) => boolean>();

function listMatcher(globs: readonly string[]): (value: string) => boolean {
  let m = lists.get(globs);
  if (!m) {
    const positive = globs.filter((g) => !g.startsWith("!")).map(matcher);
    const negative = globs.filter((g) => g.startsWith("!")).map((g) => matcher(g.slice(1)));
    m = (value: string) => {
      for (const n of negative) if (n(value)) return false;
      if (positive.length === 0) return true;
      for (const p of positive) if (p(value)) return true;
      return false;
    };
    lists.set(globs, m);
  }
  return m;
}

/**
 * True when `value` matches at least one positive glob (or the list has only negations) and
 * none of the "!"-negated ones. An empty list matches everything.
 */
export function matchesGlobs(value: string, globs: readonly string[]): boolean {
  return listMatcher(globs)(value);
}

/** True when `value` matches one glob (a "!" glob: when it does not match the rest). */
export function matchesGlob(value: string, glob: string): boolean {
  return glob.startsWith("!") ? !matcher(glob.slice(1))(value) : matcher(glob)(value);
}

export const GLOB_PATTERN = /^!?[A-Za-z0-9._+\-*?[\]{},/]{1,200}$/;
