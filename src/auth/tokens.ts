// relengd's own access tokens: HS256 JWTs signed with the server's secret (jose).
import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { principalFromClaims, tokenClaimsSchema, type Principal, type Role } from "../domain/token.js";
import { fieldErrorMap } from "../domain/fieldIssues.js";

const ISSUER = "relengd";
// Tokens whose signature was checked, kept by their exact text; cleared whole when full.
const VERIFIED_CACHE_SIZE = 10_000;
const AUDIENCE = "relengd";

export interface IssueRequest {
  subject: string;
  role: Role;
  packages?: string[];
  environments?: string[];
  /** Seconds until expiry. */
  ttlSeconds: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

/** Why a token cannot be issued: it would carry claims that `verify` refuses. */
export class InvalidTokenRequest extends Error {}

/** Why a token was refused; `reason` is safe to show the caller (it never echoes the token). */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * A genuine token (signature, issuer, audience and expiry all check out) whose claims match no
 * configured rule: the caller is known but granted nothing, which is RFC 6750's
 * insufficient_scope (403), not an authentication failure (401).
 */
export class TokenGrantsNothing extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** An issuer's signing keys could not be fetched: the token may be fine, the check could not run. */
export class SigningKeysUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A verified token: who it is, and until when that answer may be reused. */
export interface VerifiedToken {
  principal: Principal;
  expiresAtMs: number;
}

/**
 * Checks tokens of issuers other than relengd (auth/oidc.ts). Declared here, beside the service
 * that calls it, so that this module does not depend on the OIDC one that depends on it.
 */
export interface ForeignTokenVerifier {
  /** True when `iss` is an issuer whose tokens are accepted. */
  trusts(iss: string): boolean;
  verify(token: string, iss: string): Promise<VerifiedToken>;
}

/** The `iss` claim as the token states it, before any check; undefined when there is none to read. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** jose's verification failures in words the caller may see. */
export function rejectionOf(err: unknown): TokenRejected {
  if (err instanceof joseErrors.JWTExpired) return new TokenRejected("token has expired");
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRejected("token signature is not valid");
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenRejected("token algorithm is not allowed");
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new TokenRejected(`token claim "${err.claim}" is not valid`);
  return new TokenRejected("token is malformed");
}

export class TokenService {
  // A KeyObject made once: given raw bytes, jose would import the key again on every verify.
  private readonly key: KeyObject;
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    secret: string,
    private readonly isRevoked: (jti: string) => boolean = () => false,
    /** Outside identity providers (RELENGD_OIDC_CONFIG) whose tokens are accepted beside relengd's own. */
    private readonly oidc?: ForeignTokenVerifier,
  ) {
    this.key = createSecretKey(Buffer.from(secret, "utf8"));
  }

  async issue(req: IssueRequest): Promise<IssuedToken> {
    // An empty scope list would be left out of the token, and a token without a scope may touch
    // everything: refuse it rather than widen what the caller asked for.
    if (req.packages?.length === 0) throw new InvalidTokenRequest("packages must list at least one glob; leave it out for every package");
    if (req.environments?.length === 0) throw new InvalidTokenRequest("environments must list at least one glob; leave it out for every environment");
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + req.ttlSeconds;
    const scope = {
      ...(req.packages ? { packages: req.packages } : {}),
      ...(req.environments ? { environments: req.environments } : {}),
    };
    // Never sign what verify() would refuse (an over-long subject, too many or malformed globs).
    const checked = tokenClaimsSchema.safeParse({ sub: req.subject, role: req.role, jti, exp, iat: now, ...scope }, { error: fieldErrorMap });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new InvalidTokenRequest(`${issue?.path.join(".") || "token"}: ${issue?.message ?? "is not valid"}`);
    }
    const token = await new SignJWT({ role: req.role, ...scope })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(req.subject)
      .setJti(jti)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, jti, expiresAt: new Date(exp * 1000) };
  }

  async verify(token: string): Promise<Principal> {
    // A pipeline sends the same token with every request: its signature is checked once (an
    // HMAC through WebCrypto costs about a millisecond), then expiry and revocation every time.
    const cached = this.verified.get(token);
    if (cached) {
      if (Date.now() >= cached.expiresAtMs) {
        this.verified.delete(token);
        throw new TokenRejected("token has expired");
      }
      if (this.isRevoked(cached.principal.tokenId)) throw new TokenRejected("token has been revoked");
      return cached.principal;
    }
    // The token's own (unverified) issuer only picks whose keys check it; that check then
    // verifies the issuer again.
    const iss = unverifiedIssuer(token);
    const foreign = iss !== undefined && iss !== ISSUER;
    if (foreign && !this.oidc?.trusts(iss)) throw new TokenRejected(`token claim "iss" names an issuer relengd does not trust`);
    const verified = foreign && this.oidc ? await this.oidc.verify(token, iss) : await this.verifyOwn(token);
    if (this.isRevoked(verified.principal.tokenId)) throw new TokenRejected("token has been revoked");
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
    this.verified.set(token, verified);
    return verified.principal;
  }

  private async verifyOwn(token: string): Promise<VerifiedToken> {
    let payload: unknown;
    try {
      // Only HS256: "alg: none" and any other algorithm are refused before the signature check.
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ["exp", "jti", "sub"] }));
    } catch (err) {
      throw rejectionOf(err);
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    // exp is a required claim above; the schema only leaves it optional for issue().
    if (!claims.success || claims.data.exp === undefined) throw new TokenRejected("token claims are not valid (unknown role or scope)");
    return { principal: principalFromClaims(claims.data), expiresAtMs: claims.data.exp * 1000 };
  }
}

/**
 * The revoked token ids, kept in memory and refreshed from the store on an interval: a check on
 * every request would put a query on the ingest hot path. A revocation takes effect within one
 * interval (RELENGD_REVOCATION_REFRESH_MS), also when another process (`relengd token revoke`)
 * wrote it.
 */
export class RevocationList {
  private revoked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly load: () => Promise<Set<string>>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  has = (jti: string): boolean => this.revoked.has(jti);

  async refresh(): Promise<void> {
    this.revoked = await this.load();
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
