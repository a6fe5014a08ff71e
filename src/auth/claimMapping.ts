// Which configured rule an OIDC token's claims satisfy: pure matching, no I/O.
import { matchesGlob } from "../domain/glob.js";

export interface ClaimRule {
  /** Claim name → globs (with ! negation) its value must match. */
  claims: Record<string, string[]>;
}

/** A claim's values as text: a scalar is one value, a list is its scalar elements; anything else none. */
function claimValues(claims: Record<string, unknown>, name: string): string[] {
  // Own properties only: a claim named "constructor" must not find Object's.
  if (!Object.hasOwn(claims, name)) return [];
  const raw = claims[name];
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  return list.filter((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean").map(String);
}

/**
 * True when one of the values matches a positive glob (or there are only negated ones) and none
 * matches a negated glob: `groups: [releng, "!banned"]` is "in releng and not in banned". A
 * missing claim matches nothing, negations included.
 */
export function claimMatches(values: readonly string[], globs: readonly string[]): boolean {
  if (values.length === 0) return false;
  const positive = globs.filter((g) => !g.startsWith("!"));
  const negated = globs.filter((g) => g.startsWith("!")).map((g) => g.slice(1));
  if (values.some((v) => negated.some((g) => matchesGlob(v, g)))) return false;
  return positive.length === 0 || values.some((v) => positive.some((g) => matchesGlob(v, g)));
}

/** The first rule all of whose claims match, or undefined when the token maps to nothing. */
export function matchingRule<R extends ClaimRule>(rules: readonly R[], claims: Record<string, unknown>): R | undefined {
  return rules.find((rule) => Object.entries(rule.claims).every(([name, globs]) => claimMatches(claimValues(claims, name), globs)));
}
