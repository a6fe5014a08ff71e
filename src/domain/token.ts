// Access-token claims: roles, scopes and what each role may do. Signing lives in src/auth.
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { GLOB_PATTERN, matchesGlobs } from "./glob.js";

/** Ordered: each role can do everything the ones before it can. */
export const roles = ["reader", "ci", "releaser", "admin"] as const;
export type Role = (typeof roles)[number];

export function roleAtLeast(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

const globList = z.array(wellFormedString().regex(GLOB_PATTERN, "must be a glob like python-* or !kernel")).max(50);

/** The claims relengd puts in its tokens (beside the registered sub, jti, iat, exp). */
export const tokenClaimsSchema = z.object({
  sub: wellFormedString().min(1).max(256),
  role: z.enum(roles),
  jti: wellFormedString().min(1).max(64),
  packages: globList.optional(),
  environments: globList.optional(),
  exp: z.number().int().optional(),
  iat: z.number().int().optional(),
});

export type TokenClaims = z.output<typeof tokenClaimsSchema>;

/** Who is calling, once the token is verified. */
export interface Principal {
  subject: string;
  role: Role;
  tokenId: string;
  /** Globs over package names; undefined means every package. */
  packages?: string[];
  /** Globs over environment names; undefined means every environment. */
  environments?: string[];
}

export function principalFromClaims(claims: TokenClaims): Principal {
  return {
    subject: claims.sub,
    role: claims.role,
    tokenId: claims.jti,
    ...(claims.packages ? { packages: claims.packages } : {}),
    ...(claims.environments ? { environments: claims.environments } : {}),
  };
}

export function mayTouchPackage(principal: Principal, pkg: string): boolean {
  return principal.packages === undefined || matchesGlobs(pkg, principal.packages);
}

export function mayTouchEnvironment(principal: Principal, environment: string): boolean {
  return principal.environments === undefined || matchesGlobs(environment, principal.environments);
}

/** "30d", "12h", "15m", "45s" → seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,6})([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit;
}
