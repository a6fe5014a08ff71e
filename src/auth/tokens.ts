// relengd's own access tokens: HS256 JWTs signed with the server's secret (jose).
import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { principalFromClaims, tokenClaimsSchema, type Principal, type Role } from "../domain/token.js";

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

export class TokenService {
  // A KeyObject made once: given raw bytes, jose would import the key again on every verify.
  private readonly key: KeyObject;
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    secret: string,
    private readonly isRevoked: (jti: string) => boolean = () => false,
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
    const checked = tokenClaimsSchema.safeParse({ sub: req.subject, role: req.role, jti, exp, iat: now, ...scope });
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
    let payload: unknown;
    try {
      // Only HS256: "alg: none" and any other algorithm are refused before the signature check.
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ["exp", "jti", "sub"] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenRejected("token has expired");
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenRejected("token signature is not valid");
      if (err instanceof joseErrors.JOSEAlgNotAllowed) throw new TokenRejected("token algorithm is not allowed");
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new TokenRejected(`token claim "${err.claim}" is not valid`);
      throw new TokenRejected("token is malformed");
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenRejected("token claims are not valid (unknown role or scope)");
    if (this.isRevoked(claims.data.jti)) throw new TokenRejected("token has been revoked");
    const principal = principalFromClaims(claims.data);
    if (claims.data.exp !== undefined) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, { principal, expiresAtMs: claims.data.exp * 1000 });
    }
    return principal;
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
    this.timer = setInterval(() => this.refresh().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
