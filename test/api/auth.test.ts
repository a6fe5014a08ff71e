// Who may call what: every role-guarded route refuses bad tokens with 401 and out-of-scope callers with 403.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { buildApp } from "../../src/api/app.js";
import { InvalidTokenRequest, TokenService } from "../../src/auth/tokens.js";
import type { EnvironmentSet } from "../../src/domain/environmentSet.js";
import { fixedPolicies } from "../../src/policy/loader.js";
import { DecisionRepository } from "../../src/store/decisionRepository.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import { TokenRepository } from "../../src/store/tokenRepository.js";
import { startTestApp, TEST_SECRET, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

type Headers = Record<string, string>;

const secretKey = (secret: string) => new TextEncoder().encode(secret);

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Claims as relengd itself would issue them; each case overrides what it breaks. */
function validClaims(overrides: JWTPayload & { role?: string } = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: "test-ci",
    role: "ci",
    jti: randomUUID(),
    iss: "relengd",
    aud: "relengd",
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
}

type SigningKey = Parameters<SignJWT["sign"]>[0];

function sign(claims: JWTPayload, key: SigningKey, alg = "HS256"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });

function expectProblem(res: LightMyRequestResponse, status: number, detail: RegExp): void {
  expect(res.statusCode).toBe(status);
  expect(res.headers["content-type"]).toContain("application/problem+json");
  const body = res.json();
  expect(body.status).toBe(status);
  expect(body.detail).toMatch(detail);
}

describe.each(testProviders)("authentication and authorization on %s", (provider) => {
  let t: TestApp;
  /** An artifact that exists, so only the token can make a request to it fail. */
  let existingId: string;

  beforeAll(async () => {
    t = await startTestApp(provider);
    const a = sampleArtifact();
    existingId = a.id;
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: await t.auth("ci") });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  const routes = [
    { name: "POST /api/v1/artifacts", send: (headers: Headers) => t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: sampleArtifact(), headers }) },
    { name: "GET /api/v1/artifacts", send: (headers: Headers) => t.app.inject({ method: "GET", url: "/api/v1/artifacts", headers }) },
    { name: "GET /api/v1/artifacts/:id", send: (headers: Headers) => t.app.inject({ method: "GET", url: `/api/v1/artifacts/${existingId}`, headers }) },
    {
      name: "POST /api/v1/artifacts/:id/results",
      send: (headers: Headers) =>
        t.app.inject({
          method: "POST",
          url: `/api/v1/artifacts/${existingId}/results`,
          payload: { results: [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier1.functional", outcome: "PASSED" }] },
          headers,
        }),
    },
  ];

  // Built once per provider: each is a way a caller can present a token the server must refuse.
  const rejected: { name: string; detail: RegExp; headers: () => Promise<Headers> }[] = [
    { name: "a request without an Authorization header", detail: /missing Authorization/, headers: async () => ({}) },
    { name: "a non-Bearer Authorization header", detail: /must be Bearer/, headers: async () => ({ authorization: "Basic Y2k6aHVudGVyMg==" }) },
    { name: "a bearer value that is not a JWT", detail: /malformed/, headers: async () => bearer("not-a-jwt") },
    {
      name: "a token signed with another secret",
      detail: /signature is not valid/,
      headers: async () => bearer(await sign(validClaims(), secretKey("another-secret-that-is-long-enough-for-hs256-987654"))),
    },
    {
      name: "an expired token",
      detail: /expired/,
      headers: async () => {
        const past = Math.floor(Date.now() / 1000) - 120;
        return bearer(await sign(validClaims({ iat: past - 3600, exp: past }), secretKey(TEST_SECRET)));
      },
    },
    {
      name: "an unsigned alg:none token",
      detail: /algorithm is not allowed/,
      headers: async () => bearer(`${base64url({ alg: "none", typ: "JWT" })}.${base64url(validClaims({ role: "admin" }))}.`),
    },
    {
      name: "an HS512 token signed with the right secret",
      detail: /algorithm is not allowed/,
      headers: async () => bearer(await sign(validClaims(), secretKey(TEST_SECRET), "HS512")),
    },
    {
      name: "an RS256 token",
      detail: /algorithm is not allowed/,
      headers: async () => bearer(await sign(validClaims(), (await generateKeyPair("RS256")).privateKey, "RS256")),
    },
    {
      name: "a token with an unknown role",
      detail: /unknown role/,
      headers: async () => bearer(await sign(validClaims({ role: "superuser" }), secretKey(TEST_SECRET))),
    },
    {
      name: "a token from another issuer",
      detail: /claim "iss"/,
      headers: async () => bearer(await sign(validClaims({ iss: "not-relengd" }), secretKey(TEST_SECRET))),
    },
    {
      name: "a token for another audience",
      detail: /claim "aud"/,
      headers: async () => bearer(await sign(validClaims({ aud: "not-relengd" }), secretKey(TEST_SECRET))),
    },
    {
      name: "a revoked token",
      detail: /revoked/,
      headers: async () => {
        const issued = await t.tokens.issue({ subject: "revoked-ci", role: "ci", ttlSeconds: 3600 });
        await new TokenRepository(t.database.db).revoke(issued.jti);
        await t.revocations.refresh();
        return bearer(issued.token);
      },
    },
  ];

  for (const route of routes) {
    describe(route.name, () => {
      for (const { name, detail, headers } of rejected) {
        it(`rejects ${name} with 401 problem+json`, async () => {
          expectProblem(await route.send(await headers()), 401, detail);
        });
      }
    });
  }

  it("stores nothing from a push it refused with 401", async () => {
    const a = sampleArtifact();
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: bearer(await sign(validClaims(), secretKey("x".repeat(40)))) });
    expect(res.statusCode).toBe(401);
    const shown = await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: await t.auth("reader") });
    expect(shown.statusCode).toBe(404);
  });

  it("refuses a reader token pushing an artifact with 403", async () => {
    const a = sampleArtifact();
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: await t.auth("reader") });
    expectProblem(res, 403, /role reader may not/);
    expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: await t.auth("reader") })).statusCode).toBe(404);
  });

  it("refuses a reader token appending results with 403", async () => {
    const res = await routes[3]!.send(await t.auth("reader"));
    expectProblem(res, 403, /role reader may not/);
  });

  it("refuses a ci token scoped to python-* pushing kernel with 403 and stores nothing", async () => {
    const scoped = await t.auth("ci", { packages: ["python-*"] });
    const kernel = sampleArtifact({ package: "kernel" });
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: kernel, headers: scoped });
    expectProblem(res, 403, /scoped to packages python-\*.*kernel/);
    const shown = await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${kernel.id}`, headers: await t.auth("reader") });
    expectProblem(shown, 404, /no artifact/);
  });

  it("accepts a ci token scoped to python-* pushing python-requests", async () => {
    const scoped = await t.auth("ci", { packages: ["python-*"] });
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: sampleArtifact({ package: "python-requests" }), headers: scoped });
    expect(res.statusCode).toBe(201);
    expect(res.json().status).toBe("created");
  });

  it("refuses a package excluded by a negated glob in the token's scope", async () => {
    const scoped = await t.auth("ci", { packages: ["python-*", "!python-foo"] });
    const foo = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: sampleArtifact({ package: "python-foo" }), headers: scoped });
    expectProblem(foo, 403, /python-foo/);
    const bar = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: sampleArtifact({ package: "python-bar" }), headers: scoped });
    expect(bar.statusCode).toBe(201);
  });

  it("refuses appending results to an artifact of a package outside the token's scope, and keeps its results", async () => {
    const kernel = sampleArtifact({ package: "kernel" });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: kernel, headers: await t.auth("ci") })).statusCode).toBe(201);
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/artifacts/${kernel.id}/results`,
      payload: { results: [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier1.functional", outcome: "FAILED" }] },
      headers: await t.auth("ci", { packages: ["python-*"] }),
    });
    expectProblem(res, 403, /may not touch package kernel/);
    const shown = await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${kernel.id}`, headers: await t.auth("reader") });
    expect(shown.json().results).toEqual([]);
  });

  it("answers /healthz and /readyz without a token", async () => {
    const health = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().status).toBe("ready");
  });
});

describe("issuing tokens", () => {
  const tokens = new TokenService(TEST_SECRET);

  it("refuses an empty package or environment scope instead of issuing a token for everything", async () => {
    await expect(tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 60, packages: [] })).rejects.toThrow(InvalidTokenRequest);
    await expect(tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 60, environments: [] })).rejects.toThrow(/at least one glob/);
  });

  it("refuses to issue a token the server would then reject", async () => {
    await expect(tokens.issue({ subject: "x".repeat(300), role: "ci", ttlSeconds: 60 })).rejects.toThrow(/^sub: /);
    const many = Array.from({ length: 51 }, (_, i) => `python-${i}-*`);
    await expect(tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 60, packages: many })).rejects.toThrow(/^packages: /);
  });

  it("issues a scoped token that verifies back to the same principal", async () => {
    const issued = await tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 60, packages: ["python-*", "!python-foo"] });
    await expect(tokens.verify(issued.token)).resolves.toEqual({ subject: "ci", role: "ci", tokenId: issued.jti, packages: ["python-*", "!python-foo"] });
  });
});

describe.each(testProviders)("request logging on %s", (provider) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tokens: TokenService;
  const logged: string[] = [];

  beforeAll(async () => {
    database = await freshDatabase(provider);
    tokens = new TokenService(TEST_SECRET);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString("utf8"));
        done();
      },
    });
    // The most talkative level and no redaction: the app itself must not put the token in a log line.
    const logger = pino({ level: "trace" }, sink);
    const artifacts = new ArtifactRepository(database.db);
    const releases = new ReleaseRepository(database.db);
    const environments: EnvironmentSet = { repositories: new Map(), environments: new Map(), source: "none" };
    app = await buildApp({ store: database.db,
      // No policies: pushes are stored alone.
      pushes: { submit: (artifact) => artifacts.ingest(artifact) }, artifacts, tokens, logger, releases: { releases, artifacts, environments: () => environments, notify: () => undefined, rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } },
      policies: { decisions: new DecisionRepository(database.db), holder: fixedPolicies({ policies: [], environments }), onEvent: async () => undefined },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it("never writes the bearer token into the log, accepted or refused", async () => {
    const { token } = await tokens.issue({ subject: "log-ci", role: "ci", ttlSeconds: 3600 });
    const forged = await sign(validClaims(), secretKey("another-secret-that-is-long-enough-for-hs256-987654"));
    const a = sampleArtifact();
    expect((await app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: bearer(token) })).statusCode).toBe(201);
    expect((await app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: bearer(token) })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/api/v1/artifacts", headers: bearer(forged) })).statusCode).toBe(401);
    const bad = await app.inject({ method: "POST", url: "/api/v1/artifacts", headers: { ...bearer(token), "content-type": "application/json" }, payload: "{nope" });
    expect(bad.statusCode).toBe(400);

    const text = logged.join("");
    // The log did record these requests, so its silence about the token means something.
    expect(text).toContain("authenticated");
    expect(text).toContain("/api/v1/artifacts");
    for (const secret of [token, forged, TEST_SECRET]) {
      expect(text).not.toContain(secret);
      // A JWT's signature alone would be enough to replay it with the other two parts from elsewhere.
      expect(text).not.toContain(secret.split(".").at(-1));
    }
  });
});
