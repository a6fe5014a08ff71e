// relengd's own access tokens: HS256 JWTs signed with the server's secret (jose).
import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { principalFromClaims, tokenClaimsSchema, type Principal, type Role } from "../domain/token.js";

const ISSUER = "relengd";
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

/** Why a token was refused; `reason` is safe to show the caller (it never echoes the token). */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly isRevoked: (jti: string) => boolean = () => false,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(req: IssueRequest): Promise<IssuedToken> {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + req.ttlSeconds;
    const token = await new SignJWT({
      role: req.role,
      ...(req.packages?.length ? { packages: req.packages } : {}),
      ...(req.environments?.length ? { environments: req.environments } : {}),
    })
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
    return principalFromClaims(claims.data);
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
