// The OIDC issuers file (RELENGD_OIDC_CONFIG): which outside identity providers relengd trusts and
// how their tokens' claims become a role and scopes. This module alone reads and writes its format.
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { z } from "zod";
import { wellFormed, wellFormedString } from "../domain/text.js";
import { API_VERSION, parseYaml, validateDocument } from "../domain/documents/envelope.js";
import { GLOB_PATTERN, matchesGlob } from "../domain/glob.js";
import { roles } from "../domain/token.js";

export const OIDC_CONFIG_KIND = "OidcIssuers";

/**
 * Only asymmetric algorithms: an HS* token would be checked against a secret the identity
 * provider shares with everyone it issues to, and `none` is no signature at all.
 */
export const oidcAlgorithms = ["RS256", "ES256"] as const;
export type OidcAlgorithm = (typeof oidcAlgorithms)[number];

const ISSUER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
// Claim names as identity providers spell them, URL-shaped ones included (https://example.com/groups).
const CLAIM_NAME = /^[A-Za-z0-9_:/.-]{1,128}$/;
// A claim's value is matched by globs of printable ASCII (e-mail addresses, project paths, group names).
const CLAIM_GLOB = /^!?[\x21-\x7e]{1,256}$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** https, or http to this machine only (a JWKS served over plain HTTP from elsewhere could be swapped in transit). */
const secureUrl = wellFormed(z.url({ protocol: /^https?$/ })).max(2048).refine((u) => {
  const url = new URL(u);
  return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
}, "must be an https:// URL (http:// only on the loopback interface)");

/** Globs are compiled on first use: one that cannot compile is refused here, not on a request. */
function compiles(glob: string): boolean {
  try {
    matchesGlob("x", glob);
    return true;
  } catch {
    return false;
  }
}

// YAML reads `ref_protected: true` as a boolean; GitLab sends the string "true". Both mean the text.
const claimGlob = z
  .union([wellFormedString(), z.number(), z.boolean()])
  .transform(String)
  .pipe(wellFormedString().regex(CLAIM_GLOB, "must be a glob of printable characters without spaces, optionally starting with !"))
  .refine(compiles, "is not a glob picomatch can compile");

const scopeGlobs = (what: string) =>
  z
    .array(wellFormedString().regex(GLOB_PATTERN, "must be a glob like python-* or !kernel"))
    .min(1, `must list at least one glob; leave it out for every ${what}`)
    .max(50);

const ruleSchema = z.strictObject({
  /** Every named claim must match its globs (a list-valued claim: one of its values). */
  claims: z
    .record(wellFormedString().regex(CLAIM_NAME, "must be a claim name"), z.union([claimGlob.transform((g) => [g]), z.array(claimGlob).min(1).max(50)]))
    .refine((c) => Object.keys(c).length > 0, "must name at least one claim: a rule matching every token of an issuer would admit everyone it issues to"),
  role: z.enum(roles),
  packages: scopeGlobs("package").optional(),
  environments: scopeGlobs("environment").optional(),
});

const issuerSchema = z.strictObject({
  /** Short name: the prefix of the subjects this issuer's tokens become (`gitlab:…`). */
  name: wellFormedString().regex(ISSUER_NAME, "must be a short name of lowercase letters, digits and -"),
  /** The `iss` claim, exactly. Being a URL, it can never be "relengd", the issuer of relengd's own tokens. */
  issuer: secureUrl,
  jwksUrl: secureUrl,
  /** The `aud` claim must name one of these. */
  audience: z.union([wellFormedString().min(1).max(512).transform((a) => [a]), z.array(wellFormedString().min(1).max(512)).min(1).max(20)]),
  algorithms: z.array(z.enum(oidcAlgorithms)).min(1).default([...oidcAlgorithms]),
  /** The claim that names the caller in decisions, holds and commit trailers. */
  subjectClaim: wellFormedString().regex(CLAIM_NAME, "must be a claim name").default("sub"),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  /** After a fetch, a token with an unknown key id waits this long before the JWKS is fetched again. */
  jwksCooldownSeconds: z.number().min(0).max(3600).default(30),
  /** Keys are fetched again after this long even when every key id is known. */
  jwksCacheMaxAgeSeconds: z.number().min(1).max(86_400).default(600),
  /** In order; the first rule whose claims all match decides the role and scopes. */
  rules: z.array(ruleSchema).min(1).max(200),
});

export const oidcConfigSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(OIDC_CONFIG_KIND),
    issuers: z.array(issuerSchema).min(1).max(20),
  })
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    const issuers = new Set<string>();
    file.issuers.forEach((issuer, i) => {
      if (names.has(issuer.name)) ctx.addIssue({ code: "custom", path: ["issuers", i, "name"], message: `names issuer ${issuer.name} a second time` });
      if (issuers.has(issuer.issuer)) ctx.addIssue({ code: "custom", path: ["issuers", i, "issuer"], message: `is configured a second time` });
      names.add(issuer.name);
      issuers.add(issuer.issuer);
    });
  });

export type OidcConfig = z.output<typeof oidcConfigSchema>;
export type OidcIssuer = OidcConfig["issuers"][number];
export type OidcRule = OidcIssuer["rules"][number];
export type OidcConfigInput = z.input<typeof oidcConfigSchema>;

export type OidcConfigParse = { ok: true; value: OidcConfig } | { ok: false; problems: string[] };

/** Parses the file's text; each problem is one line, `file:line: /field: message`. */
export function parseOidcConfig(text: string, file: string): OidcConfigParse {
  const yaml = parseYaml(text);
  const parsed = yaml.ok ? validateDocument(oidcConfigSchema, yaml.value, yaml.lineOf) : yaml;
  if (!parsed.ok) return { ok: false, problems: parsed.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path}: ${i.message}`) };
  return { ok: true, value: parsed.value };
}

export function readOidcConfig(file: string): OidcConfigParse {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { ok: false, problems: [`${file}: cannot read: ${(err as Error).message}`] };
  }
  return parseOidcConfig(text, file);
}

/** The file's text for a configuration (tests and docs write it; parse reads it back equal). */
export function renderOidcConfig(config: OidcConfigInput): string {
  return stringify(config, { lineWidth: 0, indent: 2 });
}
