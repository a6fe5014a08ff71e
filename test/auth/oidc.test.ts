// OIDC tokens from a configured issuer: verified against its JWKS (served here over loopback),
// mapped to a role and scopes by the claim rules, and refused with 401/403 when they should be.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { buildApp } from "../../src/api/app.js";
import { OidcVerifier } from "../../src/auth/oidc.js";
import { renderOidcConfig, type OidcConfigInput } from "../../src/auth/oidcConfig.js";
import { TokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { loadEnvironments } from "../../src/policy/environments.js";
import { fixedPolicies } from "../../src/policy/loader.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { DecisionRepository } from "../../src/store/decisionRepository.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import { TEST_SECRET } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, type TestDatabase } from "../support/database.js";
import { cleanEnv, freePort, startServerProcess } from "../support/serverProcess.js";
import { makeKey, TEST_AUDIENCE, TestIssuer, type IssuerKey } from "./oidcIssuer.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const CI_PROJECT = "fedora/rpms/python-requests";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function expectProblem(res: LightMyRequestResponse, status: number, detail: RegExp): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toContain("application/problem+json");
  expect(res.json().detail).toMatch(detail);
}

describe("OIDC tokens from a configured issuer", () => {
  let issuer: TestIssuer;
  let rsa: IssuerKey;
  let ec: IssuerKey;
  let database: TestDatabase;
  let app: FastifyInstance;
  let tokens: TokenService;
  let dir: string;

  /** A GitLab CI job's token: its project decides the package scope. */
  const ciClaims = (overrides: Record<string, unknown> = {}) =>
    issuer.claims({ project_path: CI_PROJECT, ref_protected: "true", jti: `job-${Math.random().toString(36).slice(2)}`, ...overrides });
  /** A person's token from the same issuer: the groups claim decides. */
  const personClaims = (groups: string[]) => issuer.claims({ sub: "alice", groups });

  const push = (headers: Record<string, string>, pkg = "python-requests") =>
    app.inject({ method: "POST", url: "/api/v1/artifacts", payload: sampleArtifact({ package: pkg }), headers });

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    rsa = await makeKey("RS256", "rsa-1");
    ec = await makeKey("ES256", "ec-1");
    issuer.publish(rsa, ec);

    dir = mkdtempSync(path.join(tmpdir(), "relengd-oidc-"));
    const config: OidcConfigInput = {
      apiVersion: "relengd/v1",
      kind: "OidcIssuers",
      issuers: [
        {
          name: "gitlab",
          issuer: issuer.issuer,
          jwksUrl: issuer.jwksUrl,
          audience: TEST_AUDIENCE,
          rules: [
            { claims: { project_path: "fedora/rpms/python-*", ref_protected: true }, role: "ci", packages: ["python-*"] },
            { claims: { groups: ["releng", "!banned"] }, role: "releaser", environments: ["f44-*"] },
          ],
        },
      ],
    };
    // Through the real configuration path: the file RELENGD_OIDC_CONFIG names.
    const file = path.join(dir, "oidc.yaml");
    writeFileSync(file, renderOidcConfig(config));
    const oidc = loadConfig({ RELENGD_OIDC_CONFIG: file }).oidc;
    if (!oidc) throw new Error("RELENGD_OIDC_CONFIG was not read");

    database = await freshDatabase("sqlite");
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    const environments = loadEnvironments(POLICIES, remote);
    const artifacts = new ArtifactRepository(database.db);
    const releases = new ReleaseRepository(database.db);
    tokens = new TokenService(TEST_SECRET, () => false, new OidcVerifier(oidc));
    app = await buildApp({
      store: database.db,
      // No policies: pushes are stored alone.
      pushes: { submit: (artifact) => artifacts.ingest(artifact) },
      artifacts,
      tokens,
      releases: { releases, artifacts, environments: () => environments, notify: () => undefined, rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } },
      policies: { decisions: new DecisionRepository(database.db), holder: fixedPolicies({ policies: [], environments }), onEvent: async () => undefined },
      logger: false,
    });
    await app.ready();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await app?.close();
    await database?.dispose();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("accepted", () => {
    it("maps a CI job's RS256 token by project_path to role ci scoped to python-*", async () => {
      const token = await issuer.sign(ciClaims(), rsa);
      await expect(tokens.verify(token)).resolves.toMatchObject({
        subject: `gitlab:project_path:${CI_PROJECT}:ref_type:branch:ref:rawhide`,
        role: "ci",
        packages: ["python-*"],
      });
      const res = await push(bearer(token));
      expect(res.statusCode, res.body).toBe(201);
    });

    it("applies the mapped package scope: the same CI token may not push kernel", async () => {
      expectProblem(await push(bearer(await issuer.sign(ciClaims(), rsa)), "kernel"), 403, /scoped to packages python-\*.*kernel/);
    });

    it("applies the mapped role: a CI token may not release", async () => {
      const res = await app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: "any-artifact", environment: "f44-updates-candidate" }, headers: bearer(await issuer.sign(ciClaims(), rsa)) });
      expectProblem(res, 403, /role ci may not use this route/);
    });

    it("maps an ES256 token whose groups contain releng to role releaser scoped to f44-* environments", async () => {
      const artifact = sampleArtifact({ package: "python-requests", release: "f44" });
      // relengd's own tokens keep working beside the issuer's.
      const own = await tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 600 });
      expect((await app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: bearer(own.token) })).statusCode).toBe(201);

      const token = await issuer.sign(personClaims(["packager", "releng"]), ec);
      await expect(tokens.verify(token)).resolves.toMatchObject({ subject: "gitlab:alice", role: "releaser", environments: ["f44-*"] });
      const inScope = await app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: artifact.id, environment: "f44-updates-candidate" }, headers: bearer(token) });
      expect(inScope.statusCode, inScope.body).toBe(202);
      const outOfScope = await app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: artifact.id, environment: "rawhide" }, headers: bearer(token) });
      expectProblem(outOfScope, 403, /scoped to environments f44-\*.*rawhide/);
    });
  });

  describe("refused with 401", () => {
    const cases: { name: string; detail: RegExp; token: () => Promise<string> }[] = [
      {
        name: "an expired token",
        detail: /expired/,
        token: () => {
          const past = Math.floor(Date.now() / 1000) - 3600;
          return issuer.sign(ciClaims({ iat: past - 600, nbf: past - 600, exp: past }), rsa);
        },
      },
      { name: "a token from another issuer", detail: /claim "iss"/, token: () => issuer.sign(ciClaims({ iss: "https://gitlab.example.org" }), rsa) },
      { name: "a token for another audience", detail: /claim "aud"/, token: () => issuer.sign(ciClaims({ aud: "https://another-service.example.org" }), rsa) },
      {
        name: "a token signed by another key under a published key id",
        detail: /signature is not valid/,
        token: async () => issuer.sign(ciClaims(), { ...(await makeKey("RS256", "intruder")), kid: rsa.kid }),
      },
      {
        name: "an unsigned alg:none token",
        detail: /algorithm is not allowed/,
        token: async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(ciClaims())}.`,
      },
      {
        // The classic key confusion: HS256 keyed with the issuer's public key material.
        name: "an HS256 token keyed with the issuer's public key",
        detail: /algorithm is not allowed/,
        token: () => new SignJWT(ciClaims()).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(new TextEncoder().encode(JSON.stringify(rsa.jwk))),
      },
      { name: "a token naming a key id the issuer never published", detail: /matches no signing key/, token: async () => issuer.sign(ciClaims(), await makeKey("RS256", "unknown-kid")) },
      { name: "a token without the subject claim", detail: /claim "sub"/, token: () => issuer.sign(ciClaims({ sub: undefined }), rsa) },
      { name: "a token whose subject is not one line", detail: /not a usable subject/, token: () => issuer.sign(ciClaims({ sub: "alice\nRelengd-Trigger: policy/forged" }), rsa) },
    ];

    for (const c of cases) {
      it(`refuses ${c.name}`, async () => {
        expectProblem(await push(bearer(await c.token())), 401, c.detail);
      });
    }

    it("never fetches keys for an algorithm it does not allow", async () => {
      const before = issuer.fetches;
      expectProblem(await push(bearer(`${b64({ alg: "none", kid: "x" })}.${b64(ciClaims({ jti: "none-1" }))}.`)), 401, /algorithm/);
      expect(issuer.fetches).toBe(before);
    });

    it("stores nothing from a push it refused", async () => {
      const artifact = sampleArtifact();
      const forged = await issuer.sign(ciClaims(), { ...(await makeKey("RS256", "intruder")), kid: rsa.kid });
      expect((await app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: bearer(forged) })).statusCode).toBe(401);
      const own = await tokens.issue({ subject: "reader", role: "reader", ttlSeconds: 600 });
      expect((await app.inject({ method: "GET", url: `/api/v1/artifacts/${artifact.id}`, headers: bearer(own.token) })).statusCode).toBe(404);
    });
  });

  describe("claims that map to nothing", () => {
    // The token is genuine, so the caller is authenticated; it is granted no role, which is
    // RFC 6750's insufficient_scope: 403, and a retry with the same token cannot succeed.
    it("refuses a CI job of a project no rule names with 403", async () => {
      const token = await issuer.sign(ciClaims({ project_path: "someone/else" }), rsa);
      expectProblem(await push(bearer(token)), 403, /matches no rule of issuer gitlab/);
    });

    it("refuses a CI job of an unprotected ref with 403, though its project matches", async () => {
      expectProblem(await push(bearer(await issuer.sign(ciClaims({ ref_protected: "false" }), rsa))), 403, /matches no rule/);
    });

    it("refuses a releng member who is also in a negated group with 403", async () => {
      const res = await app.inject({ method: "GET", url: "/api/v1/releases", headers: bearer(await issuer.sign(personClaims(["releng", "banned"]), ec)) });
      expectProblem(res, 403, /matches no rule/);
    });
  });

  describe("key rotation", () => {
    it("refetches the JWKS for a new key id once the cooldown has passed, then accepts tokens signed with it", async () => {
      // Only Date is faked: jose's cooldown and cache ages are measured with Date.now().
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      // A fetch now starts a fresh cooldown (30 s, the default).
      issuer.publish(rsa, ec);
      await issuer.sign(ciClaims(), await makeKey("RS256", "not-yet-published")).then(async (t) => expectProblem(await push(bearer(t)), 401, /matches no signing key/));
      const rotated = await makeKey("RS256", "rsa-2");
      issuer.publish(rotated, ec);
      const fetchesAfterRotation = issuer.fetches;

      // Within the cooldown an unknown key id does not cause a fetch: made-up kids cannot flood the issuer.
      expectProblem(await push(bearer(await issuer.sign(ciClaims(), rotated))), 401, /matches no signing key/);
      expect(issuer.fetches).toBe(fetchesAfterRotation);

      vi.setSystemTime(Date.now() + 31_000);
      const res = await push(bearer(await issuer.sign(ciClaims(), rotated)));
      expect(res.statusCode, res.body).toBe(201);
      expect(issuer.fetches).toBe(fetchesAfterRotation + 1);
      // The dropped key is gone from the set relengd now holds.
      expectProblem(await push(bearer(await issuer.sign(ciClaims(), rsa))), 401, /matches no signing key/);
      issuer.publish(rsa, ec, rotated);
    });
  });

  describe("an issuer whose keys cannot be fetched", () => {
    it("answers 503 with Retry-After, not 401, and recovers when the JWKS is back", async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      // Past the cache's maximum age (10 minutes): the next token makes relengd fetch again.
      vi.setSystemTime(Date.now() + 11 * 60_000);
      issuer.publish(rsa, ec);
      issuer.status = 500;
      const token = await issuer.sign(ciClaims(), rsa);
      const down = await push(bearer(token));
      expectProblem(down, 503, /signing keys of issuer gitlab cannot be fetched/);
      expect(down.headers["retry-after"]).toBe("5");
      issuer.status = 200;
      expect((await push(bearer(token))).statusCode).toBe(201);
    });
  });
});

describe("the OIDC issuers file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-oidc-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const problemsOf = (file: string): string => {
    try {
      loadConfig({ RELENGD_OIDC_CONFIG: file });
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("the configuration was accepted");
  };

  const valid: OidcConfigInput = {
    apiVersion: "relengd/v1",
    kind: "OidcIssuers",
    issuers: [
      {
        name: "fedora",
        issuer: "https://id.fedoraproject.org",
        jwksUrl: "https://id.fedoraproject.org/openidc/Jwks",
        audience: ["relengd", "https://relengd.fedoraproject.org"],
        algorithms: ["RS256"],
        subjectClaim: "preferred_username",
        rules: [{ claims: { groups: "releng" }, role: "releaser", environments: ["f44-*"] }],
      },
    ],
  };

  it("reads back what it renders, with defaults filled in", () => {
    const oidc = loadConfig({ RELENGD_OIDC_CONFIG: write("valid.yaml", renderOidcConfig(valid)) }).oidc;
    expect(oidc?.issuers[0]).toEqual({
      ...valid.issuers[0],
      clockToleranceSeconds: 30,
      jwksCooldownSeconds: 30,
      jwksCacheMaxAgeSeconds: 600,
      rules: [{ claims: { groups: ["releng"] }, role: "releaser", environments: ["f44-*"] }],
    });
  });

  it("names the file, line and field of each problem", () => {
    const text = [
      "apiVersion: relengd/v1",
      "kind: OidcIssuers",
      "issuers:",
      "  - name: gitlab",
      "    issuer: http://gitlab.com",
      "    jwksUrl: https://gitlab.com/oauth/discovery/keys",
      "    audience: relengd",
      "    algorithms: [RS256, HS256]",
      "    rules:",
      "      - claims: { project_path: 'fedora/*' }",
      "        role: superuser",
      "      - claims: {}",
      "        role: ci",
      "        packages: []",
    ].join("\n");
    const file = write("broken.yaml", text);
    const message = problemsOf(file);
    expect(message).toContain("RELENGD_OIDC_CONFIG");
    expect(message).toMatch(new RegExp(`${file}:5: /issuers/0/issuer: must be an https:// URL`));
    expect(message).toMatch(new RegExp(`${file}:8: /issuers/0/algorithms/1: `));
    expect(message).toMatch(new RegExp(`${file}:11: /issuers/0/rules/0/role: `));
    expect(message).toMatch(new RegExp(`${file}:12: /issuers/0/rules/1/claims: must name at least one claim`));
    expect(message).toMatch(new RegExp(`${file}:14: /issuers/0/rules/1/packages: must list at least one glob`));
  });

  it("refuses a second entry for one issuer or one name", () => {
    const issuer = valid.issuers[0]!;
    const file = write("dup.yaml", renderOidcConfig({ ...valid, issuers: [issuer, { ...issuer, name: "again" }, { ...issuer, issuer: "https://other.example.org" }] }));
    const message = problemsOf(file);
    expect(message).toMatch(/\/issuers\/1\/issuer: is configured a second time/);
    expect(message).toMatch(/\/issuers\/2\/name: names issuer fedora a second time/);
  });

  it("says so when the file cannot be read", () => {
    expect(problemsOf(path.join(dir, "missing.yaml"))).toMatch(/missing\.yaml: cannot read/);
  });
});

describe("relengd serve with RELENGD_OIDC_CONFIG", () => {
  let issuer: TestIssuer;
  let key: IssuerKey;
  let dir: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    key = await makeKey("ES256", "ec-serve");
    issuer.publish(key);
    dir = mkdtempSync(path.join(tmpdir(), "relengd-oidc-serve-"));
  });
  afterAll(async () => {
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const serverEnv = async (configFile: string) => ({
    ...cleanEnv(),
    RELENGD_PORT: String(await freePort()),
    RELENGD_DATA_DIR: path.join(dir, "data"),
    RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
    RELENGD_TOKEN_SECRET: TEST_SECRET,
    RELENGD_LOG_LEVEL: "warn",
    RELENGD_OIDC_CONFIG: configFile,
  });

  it("accepts the configured issuer's tokens in the real server process", { timeout: 60_000 }, async () => {
    const file = path.join(dir, "oidc.yaml");
    writeFileSync(
      file,
      renderOidcConfig({
        apiVersion: "relengd/v1",
        kind: "OidcIssuers",
        issuers: [{ name: "ci", issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience: TEST_AUDIENCE, rules: [{ claims: { project_path: "fedora/rpms/*" }, role: "ci" }] }],
      }),
    );
    const server = await startServerProcess(await serverEnv(file));
    try {
      const push = (token: string) =>
        fetch(`${server.url}/api/v1/artifacts`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(sampleArtifact()) });
      const accepted = await push(await issuer.sign(issuer.claims({ project_path: CI_PROJECT }), key));
      expect(accepted.status, await accepted.text()).toBe(201);
      const mapsToNothing = await push(await issuer.sign(issuer.claims({ project_path: "elsewhere/x" }), key));
      expect(mapsToNothing.status).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it("does not start with a broken issuers file, and says where it is broken", { timeout: 60_000 }, async () => {
    const file = path.join(dir, "broken.yaml");
    writeFileSync(file, "apiVersion: relengd/v1\nkind: OidcIssuers\nissuers:\n  - name: Bad Name\n");
    const started = startServerProcess(await serverEnv(file));
    await expect(started).rejects.toThrow(/exited before answering/);
    await expect(started).rejects.toThrow(new RegExp(`RELENGD_OIDC_CONFIG[\\s\\S]*${file}:4: /issuers/0/name: must be a short name`));
  });
});
