// Tokens from outside identity providers (OIDC): verified with each issuer's published keys
// (JWKS), then mapped to a relengd role and scopes by the configured claim rules.
import { createHash } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { Principal } from "../domain/token.js";
import { matchingRule } from "./claimMapping.js";
import type { OidcConfig, OidcIssuer } from "./oidcConfig.js";
import { rejectionOf, SigningKeysUnavailable, TokenGrantsNothing, TokenRejected, type ForeignTokenVerifier, type VerifiedToken } from "./tokens.js";

type KeyResolver = ReturnType<typeof createRemoteJWKSet>;

// Subjects end up in commit trailers, decisions and logs: one line of reasonable length.
const SUBJECT_VALUE = /^[^\p{Cc}]{1,200}$/u;

interface TrustedIssuer {
  config: OidcIssuer;
  keys: KeyResolver;
}

export class OidcVerifier implements ForeignTokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();

  constructor(config: OidcConfig) {
    for (const issuer of config.issuers) {
      // jose keeps the fetched set, refetches it when it is older than cacheMaxAge, and on a key
      // id it does not know (a rotation) once the cooldown since the last fetch has passed; the
      // cooldown is what stops a stream of made-up key ids from becoming a stream of fetches.
      const keys = createRemoteJWKSet(new URL(issuer.jwksUrl), {
        cooldownDuration: issuer.jwksCooldownSeconds * 1000,
        cacheMaxAge: issuer.jwksCacheMaxAgeSeconds * 1000,
        timeoutDuration: 5000,
      });
      this.issuers.set(issuer.issuer, { config: issuer, keys });
    }
  }

  /** True when `iss` is a configured issuer. */
  trusts(iss: string): boolean {
    return this.issuers.has(iss);
  }

  async verify(token: string, iss: string): Promise<VerifiedToken> {
    const trusted = this.issuers.get(iss);
    if (!trusted) throw new TokenRejected("token issuer is not trusted");
    const { config } = trusted;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, jws) => this.keyOf(trusted, header, jws), {
        issuer: config.issuer,
        audience: config.audience,
        // Checked before any key is looked up: `none` and HS* never reach the JWKS.
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ["exp", config.subjectClaim],
      }));
    } catch (err) {
      if (err instanceof SigningKeysUnavailable || err instanceof TokenRejected) throw err;
      throw rejectionOf(err);
    }
    const subject = payload[config.subjectClaim];
    if (typeof subject !== "string" || !SUBJECT_VALUE.test(subject)) throw new TokenRejected(`token claim "${config.subjectClaim}" is not a usable subject`);
    const rule = matchingRule(config.rules, payload);
    if (!rule) throw new TokenGrantsNothing(`token of ${config.name}:${subject} matches no rule of issuer ${config.name}, so it grants no role`);
    const principal: Principal = {
      subject: `${config.name}:${subject}`,
      role: rule.role,
      tokenId: tokenIdOf(config, payload, token),
      ...(rule.packages ? { packages: rule.packages } : {}),
      ...(rule.environments ? { environments: rule.environments } : {}),
    };
    // exp is a required claim; a cached answer stays good as long as jose itself would accept it.
    return { principal, expiresAtMs: ((payload.exp ?? 0) + config.clockToleranceSeconds) * 1000 };
  }

  private async keyOf(trusted: TrustedIssuer, ...args: Parameters<KeyResolver>): ReturnType<KeyResolver> {
    try {
      return await trusted.keys(...args);
    } catch (err) {
      // The token's fault: after a refetch (or within the cooldown) no key, or several, fit it.
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new TokenRejected(`token key id matches no signing key of issuer ${trusted.config.name}`);
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) throw new TokenRejected(`token names no key id and issuer ${trusted.config.name} has several keys`);
      // The issuer's: unreachable, slow, not 200, not a key set.
      throw new SigningKeysUnavailable(`signing keys of issuer ${trusted.config.name} cannot be fetched: ${(err as Error).message}`);
    }
  }
}

/** What `relengd token revoke` names an OIDC token by: its jti, else a digest of the token. */
function tokenIdOf(config: OidcIssuer, payload: JWTPayload, token: string): string {
  if (typeof payload.jti === "string" && payload.jti.length > 0 && payload.jti.length <= 64) return payload.jti;
  return `${config.name}-${createHash("sha256").update(token).digest("hex").slice(0, 32)}`;
}
