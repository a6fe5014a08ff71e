// A test identity provider: real RS256/ES256 key pairs made with jose, their public halves served
// as a JWKS over loopback HTTP, and tokens signed the way an OIDC provider signs them.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";

export type IssuerAlg = "RS256" | "ES256";

type SigningKey = Parameters<SignJWT["sign"]>[0];

export interface IssuerKey {
  kid: string;
  alg: IssuerAlg;
  privateKey: SigningKey;
  jwk: JWK;
}

export async function makeKey(alg: IssuerAlg, kid: string): Promise<IssuerKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export const TEST_AUDIENCE = "https://relengd.test";

export class TestIssuer {
  /** JWKS requests answered so far (any status). */
  fetches = 0;
  /** What GET /jwks answers with; anything but 200 sends no key set. */
  status = 200;
  private keys: IssuerKey[] = [];
  private port = 0;
  private readonly server: Server = createServer((req, res) => {
    if (req.url !== "/jwks") {
      res.writeHead(404).end();
      return;
    }
    this.fetches += 1;
    if (this.status !== 200) {
      res.writeHead(this.status, { "content-type": "text/plain" }).end("unavailable");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
  });

  static async start(): Promise<TestIssuer> {
    const self = new TestIssuer();
    await new Promise<void>((resolve) => self.server.listen(0, "127.0.0.1", resolve));
    self.port = (self.server.address() as AddressInfo).port;
    return self;
  }

  /** The `iss` of its tokens (an http URL: loopback is the one place the config allows one). */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get jwksUrl(): string {
    return `${this.issuer}/jwks`;
  }

  /** Replaces the published key set (a rotation publishes the new key and drops the old). */
  publish(...keys: IssuerKey[]): void {
    this.keys = keys;
  }

  /** Claims an identity provider would put in a CI job's token; each test overrides what it means to break. */
  claims(overrides: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { iss: this.issuer, aud: TEST_AUDIENCE, sub: "project_path:fedora/rpms/python-requests:ref_type:branch:ref:rawhide", iat: now, nbf: now, exp: now + 600, ...overrides };
  }

  /** A token signed with `key`; its header names the key's id unless `kid` says otherwise (null: no kid). */
  sign(claims: JWTPayload, key: IssuerKey, opts: { kid?: string | null } = {}): Promise<string> {
    const kid = opts.kid === undefined ? key.kid : opts.kid;
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: "JWT", ...(kid === null ? {} : { kid }) }).sign(key.privateKey);
  }

  close(): Promise<void> {
    // fetch keeps connections alive; close would wait for them to time out.
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }
}
