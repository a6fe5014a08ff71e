// Every route the app registers × every way a caller can be refused: 401 for a missing or bad
// token, 403 for the wrong role or a package/environment outside the token's scope, and one
// allowed request that is neither. A route without an entry here fails the test.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, HTTPMethods, LightMyRequestResponse } from "fastify";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roles, type Role } from "../../src/domain/token.js";
import { RequestRepository } from "../../src/store/requestRepository.js";
import { startTestApp, TEST_SECRET, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { branchRequest, branchRequestYaml } from "../support/requestApp.js";

type Scope = "package" | "environment";
type Headers = Record<string, string>;

interface Fixtures {
  /** An artifact of python-requests for f44 (releasable to f44-updates-candidate). */
  artifactId: string;
  /** A release of that artifact to f44-updates-candidate. */
  releaseId: string;
  /** An artifact of python-requests for f41, which no shipped policy gates (a waiver of it can release it nowhere). */
  ungatedArtifactId: string;
  /** A fresh hold on f44-updates-candidate for a package of python-requests' scope. */
  newHold(): Promise<string>;
  /** A fresh request for a branch of rpms/python-requests, in needs-review. */
  newRequest(): Promise<string>;
}

interface Request {
  url: string;
  payload?: unknown;
}

interface Guarded {
  role: Role;
  /** The scopes the route's use case checks; each gets an out-of-scope case. */
  scopes: Scope[];
  request(f: Fixtures): Request | Promise<Request>;
  /** A page for people: with no token it answers 401 with the sign-in page (HTML that asks again with the dashboard's token). */
  signInPage?: true;
}

/** In scope of every test token: what the requests below touch. */
const PACKAGE = "python-requests";
const ENVIRONMENT = "f44-updates-candidate";
// Scopes that leave out PACKAGE and ENVIRONMENT.
const OTHER_PACKAGES = ["kernel"];
const OTHER_ENVIRONMENTS = ["rawhide"];

const PUBLIC = "public" as const;

/**
 * Keys are "METHOD /path" as the router knows them; HEAD routes (made by fastify for each GET)
 * are covered by their GET entry and get the same cases.
 */
const MATRIX: Record<string, Guarded | typeof PUBLIC> = {
  // Probes, metrics, the API's own description and the dashboard's page and assets: public by
  // design (probes and scrapers have no token; the page asks for one before it calls the API).
  "GET /healthz": PUBLIC,
  "GET /readyz": PUBLIC,
  "GET /metrics": PUBLIC,
  "GET /openapi.json": PUBLIC,
  "GET /": PUBLIC,
  "GET /assets/*": PUBLIC,
  // No bearer token: a forge signs (or, GitLab, carries) RELENGD_FORGE_WEBHOOK_SECRET instead
  // (test/api/forgeWebhook.test.ts refuses what does not verify).
  "POST /api/v1/forge/webhook": PUBLIC,

  "POST /api/v1/artifacts": { role: "ci", scopes: ["package"], request: () => ({ url: "/api/v1/artifacts", payload: sampleArtifact({ package: PACKAGE }) }) },
  "GET /api/v1/artifacts": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/artifacts" }) },
  "GET /api/v1/artifacts/:id": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/artifacts/${f.artifactId}` }) },
  "POST /api/v1/artifacts/:id/results": {
    role: "ci",
    scopes: ["package"],
    request: (f) => ({
      url: `/api/v1/artifacts/${f.artifactId}/results`,
      payload: { results: [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED" }] },
    }),
  },
  "GET /api/v1/artifacts/:id/decisions": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/artifacts/${f.artifactId}/decisions` }) },
  // A waiver needs the package's scope; a token's environment scope does not refuse it but limits the releases it
  // acts on (test/api/waivers.test.ts).
  "POST /api/v1/artifacts/:id/waivers": {
    role: "releaser",
    scopes: ["package"],
    request: (f) => ({ url: `/api/v1/artifacts/${f.ungatedArtifactId}/waivers`, payload: { testcase: "fedora-ci.koji-build.tier0.functional", comment: "auth matrix" } }),
  },
  "GET /api/v1/artifacts/:id/waivers": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/artifacts/${f.artifactId}/waivers` }) },
  "GET /api/v1/policies": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/policies" }) },
  "POST /api/v1/policies/reload": { role: "admin", scopes: [], request: () => ({ url: "/api/v1/policies/reload" }) },
  "POST /api/v1/releases": {
    role: "releaser",
    scopes: ["package", "environment"],
    request: (f) => ({ url: "/api/v1/releases", payload: { artifactId: f.artifactId, environment: ENVIRONMENT } }),
  },
  "GET /api/v1/releases": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/releases" }) },
  "GET /api/v1/releases/:id": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/releases/${f.releaseId}` }) },
  "GET /api/v1/releases/:id/timeline": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/releases/${f.releaseId}/timeline` }) },
  "GET /api/v1/releases/:id/document": { role: "reader", scopes: [], request: (f) => ({ url: `/api/v1/releases/${f.releaseId}/document` }) },
  "POST /api/v1/releases/:id/retry": { role: "releaser", scopes: ["package", "environment"], request: (f) => ({ url: `/api/v1/releases/${f.releaseId}/retry` }) },
  "POST /api/v1/rollbacks": {
    role: "releaser",
    scopes: ["package", "environment"],
    request: (f) => ({ url: "/api/v1/rollbacks", payload: { environment: ENVIRONMENT, package: PACKAGE, artifactId: f.artifactId, reason: "auth matrix" } }),
  },
  "GET /api/v1/holds": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/holds" }) },
  "POST /api/v1/holds": {
    role: "releaser",
    scopes: ["package", "environment"],
    request: () => ({ url: "/api/v1/holds", payload: { environment: ENVIRONMENT, package: PACKAGE, reason: "auth matrix" } }),
  },
  "DELETE /api/v1/holds/:id": { role: "releaser", scopes: ["package", "environment"], request: async (f) => ({ url: `/api/v1/holds/${await f.newHold()}` }) },
  "GET /api/v1/environments": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/environments" }) },
  "GET /api/v1/environments/:name/state": { role: "reader", scopes: [], request: () => ({ url: `/api/v1/environments/${ENVIRONMENT}/state` }) },
  "GET /api/v1/overview": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/overview" }) },
  "GET /api/v1/koji-tags": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/koji-tags" }) },
  "GET /api/v1/koji-tags/:tag/observed": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/koji-tags/f44-updates-candidate/observed" }) },
  "GET /api/v1/shadow/agreement": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/shadow/agreement" }) },

  "GET /api/v1/reports/broken-deps": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/reports/broken-deps" }) },
  "GET /api/v1/reports/broken-deps/:id": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/reports/broken-deps/latest" }) },
  "GET /reports/broken-deps": { role: "reader", scopes: [], signInPage: true, request: () => ({ url: "/reports/broken-deps" }) },
  "GET /reports/broken-deps/:id": { role: "reader", scopes: [], signInPage: true, request: () => ({ url: "/reports/broken-deps/latest" }) },
  "GET /api/v1/observed/branches": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/observed/branches" }) },
  "GET /api/v1/observed/sidetags": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/observed/sidetags" }) },
  "POST /api/v1/events": {
    role: "admin",
    scopes: [],
    request: () => ({ url: "/api/v1/events", payload: { id: randomUUID(), topic: "org.fedoraproject.prod.relengd.authmatrix", body: {} } }),
  },
  "GET /api/v1/events": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/events" }) },
  "GET /api/v1/events/:id": { role: "reader", scopes: [], request: () => ({ url: `/api/v1/events/${randomUUID()}` }) },
  // A package-scoped token may submit and decide only requests for its packages (the use cases check it).
  "POST /api/v1/requests": { role: "ci", scopes: ["package"], request: () => ({ url: "/api/v1/requests", payload: { document: branchRequestYaml(PACKAGE, "f44") } }) },
  "GET /api/v1/requests": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/requests" }) },
  "GET /api/v1/requests/unreviewed": { role: "reader", scopes: [], request: () => ({ url: "/api/v1/requests/unreviewed" }) },
  "GET /api/v1/requests/:id": { role: "reader", scopes: [], request: async (f) => ({ url: `/api/v1/requests/${await f.newRequest()}` }) },
  "GET /api/v1/requests/:id/decisions": { role: "reader", scopes: [], request: async (f) => ({ url: `/api/v1/requests/${await f.newRequest()}/decisions` }) },
  "POST /api/v1/requests/:id/approve": { role: "releaser", scopes: ["package"], request: async (f) => ({ url: `/api/v1/requests/${await f.newRequest()}/approve`, payload: { reason: "auth matrix" } }) },
  "POST /api/v1/requests/:id/deny": { role: "releaser", scopes: ["package"], request: async (f) => ({ url: `/api/v1/requests/${await f.newRequest()}/deny`, payload: { reason: "auth matrix" } }) },
};

/** Public routes matched by prefix: the interactive API page and its assets. */
const PUBLIC_PREFIXES = ["/docs"];

/**
 * "METHOD /path" of every route the router holds, read from fastify's own radix tree: each
 * line is a node, its path the concatenation of its ancestors'. (The tree without common
 * prefixes drops the static part above a wildcard, so the raw tree it is.)
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes().split("\n")) {
    const m = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? "").length / 4;
    stack.length = depth;
    stack.push(m[2] ?? "");
    for (const method of m[3]?.split(", ") ?? []) routes.push(`${method} ${stack.join("")}`);
  }
  return routes;
}

const entryKey = (route: string) => route.replace(/^HEAD /, "GET ");
const isPublicPrefix = (route: string) => PUBLIC_PREFIXES.some((p) => route.split(" ")[1] === p || route.split(" ")[1]?.startsWith(`${p}/`));
const lowerRole = (role: Role): Role | undefined => roles[roles.indexOf(role) - 1];

function sign(claims: JWTPayload, secret: string, alg = "HS256"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

function claims(role: Role, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { sub: "matrix", role, jti: randomUUID(), iss: "relengd", aud: "relengd", iat: now, exp: now + 600, ...overrides };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });

/** What is wrong with a refusal, or nothing: the status, and a problem+json body saying it. */
function refusalProblem(res: LightMyRequestResponse, status: 401 | 403, method: string): string | undefined {
  if (res.statusCode !== status) return `${res.statusCode} instead of ${status}: ${res.body.slice(0, 200)}`;
  if (!String(res.headers["content-type"]).includes("application/problem+json")) return `${status} as ${res.headers["content-type"]}, not problem+json`;
  // HEAD answers carry the headers of a GET and no body.
  if (method !== "HEAD" && (res.json() as { status?: unknown }).status !== status) return `${status} whose problem says status ${(res.json() as { status?: unknown }).status}`;
  return undefined;
}

/** What is wrong with a page's answer to a browser without a token, if anything: it must be the sign-in page, with no data. */
function signInProblem(res: LightMyRequestResponse, method: string): string | undefined {
  if (res.statusCode !== 401) return `${res.statusCode} instead of 401: ${res.body.slice(0, 200)}`;
  if (!String(res.headers["content-type"]).startsWith("text/html")) return `401 as ${res.headers["content-type"]}, not the sign-in page`;
  if (method !== "HEAD" && !res.body.includes("/assets/signedPage.js")) return "401 without the sign-in page's script";
  return undefined;
}

describe("auth matrix over every registered route", () => {
  let t: TestApp;
  let fixtures: Fixtures;
  let routes: string[];

  beforeAll(async () => {
    t = await startTestApp("sqlite", { requests: {} });
    const admin = await t.auth("admin");
    const artifact = sampleArtifact({ package: PACKAGE, release: "f44" });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: admin })).statusCode).toBe(201);
    const released = await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: artifact.id, environment: ENVIRONMENT }, headers: admin });
    expect(released.statusCode, released.body).toBe(202);
    const ungated = sampleArtifact({ package: PACKAGE });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: ungated, headers: admin })).statusCode).toBe(201);
    let holds = 0;
    const requests = new RequestRepository(t.database.db);
    fixtures = {
      artifactId: artifact.id,
      ungatedArtifactId: ungated.id,
      releaseId: released.json().id as string,
      async newHold() {
        holds += 1;
        const res = await t.app.inject({ method: "POST", url: "/api/v1/holds", payload: { environment: ENVIRONMENT, package: `${PACKAGE}-${holds}`, reason: "auth matrix fixture" }, headers: admin });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().id as string;
      },
      async newRequest() {
        return (await requests.record(branchRequest(PACKAGE, "f44"))).record.id;
      },
    };
    routes = registeredRoutes(t.app);
  });
  afterAll(async () => t?.close());

  it("reads the router's real routes (each one the router finds again)", () => {
    expect(routes).toContain("POST /api/v1/artifacts/:id/results");
    expect(routes).toContain("DELETE /api/v1/holds/:id");
    for (const route of routes) {
      const [method, url] = route.split(" ") as [HTTPMethods, string];
      expect(t.app.hasRoute({ method, url }), route).toBe(true);
    }
  });

  it("has an entry for every registered route, and no entry for a route that is gone", () => {
    const missing = routes.filter((r) => !isPublicPrefix(r) && !(entryKey(r) in MATRIX));
    expect(missing, "routes without an auth matrix entry").toEqual([]);
    const stale = Object.keys(MATRIX).filter((k) => !routes.includes(k));
    expect(stale, "matrix entries for routes the app no longer registers").toEqual([]);
  });

  describe("public routes answer without a token", () => {
    it.each(Object.entries(MATRIX).filter(([, e]) => e === PUBLIC).map(([k]) => k))("%s", async (route) => {
      const [method, url] = route.split(" ") as [HTTPMethods, string];
      const res = await t.app.inject({ method, url });
      expect([401, 403]).not.toContain(res.statusCode);
      expect(res.statusCode).toBeLessThan(500);
    });

    it("the interactive API page and its assets", async () => {
      const docs = routes.filter(isPublicPrefix).filter((r) => r.startsWith("GET ") && !r.includes(":") && !r.includes("*"));
      for (const route of docs) {
        const res = await t.app.inject({ method: "GET", url: route.slice(4) });
        expect([401, 403], route).not.toContain(res.statusCode);
      }
    });
  });

  // Every guarded route, GET's HEAD twin included, × each refusal.
  const guarded = () =>
    routes
      .filter((r) => !isPublicPrefix(r))
      .map((r) => ({ route: r, entry: MATRIX[entryKey(r)] }))
      .filter((x): x is { route: string; entry: Guarded } => x.entry !== undefined && x.entry !== PUBLIC);

  const send = async (route: string, entry: Guarded, headers: Headers) => {
    const method = route.split(" ")[0] as HTTPMethods;
    const req = await entry.request(fixtures);
    return t.app.inject({ method, url: req.url, headers, ...(req.payload !== undefined ? { payload: req.payload as object } : {}) });
  };

  const unauthenticated: { name: string; headers: (role: Role) => Promise<Headers> }[] = [
    { name: "no token", headers: async () => ({}) },
    {
      name: "an expired token",
      headers: async (role) => {
        const past = Math.floor(Date.now() / 1000) - 120;
        return bearer(await sign(claims(role, { iat: past - 600, exp: past }), TEST_SECRET));
      },
    },
    { name: "a bad signature", headers: async (role) => bearer(await sign(claims(role), "another-secret-that-is-long-enough-for-hs256-987654")) },
    { name: "alg: none", headers: async () => bearer(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims("admin"))}.`) },
  ];

  it("refuses each guarded route with 401 for no token, an expired token, a bad signature and alg: none", async () => {
    const cases = guarded();
    expect(cases.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const { route, entry } of cases) {
      for (const c of unauthenticated) {
        const res = await send(route, entry, await c.headers(entry.role));
        const problem = entry.signInPage && c.name === "no token" ? signInProblem(res, route.split(" ")[0]!) : refusalProblem(res, 401, route.split(" ")[0]!);
        if (problem) wrong.push(`${route} with ${c.name}: ${problem}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuses each guarded route with 403 for the role just below the one it needs", async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { route, entry } of guarded()) {
      const lower = lowerRole(entry.role);
      // Reader routes: there is no role below reader, every valid token may read.
      if (!lower) continue;
      const problem = refusalProblem(await send(route, entry, await t.auth(lower)), 403, route.split(" ")[0]!);
      if (problem) wrong.push(`${route} as ${lower}: ${problem}`);
      checked += 1;
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(8);
  });

  it("refuses each scoped route with 403 for a token scoped to another package or environment", async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { route, entry } of guarded()) {
      for (const scope of entry.scopes) {
        const headers = await t.auth(entry.role, scope === "package" ? { packages: OTHER_PACKAGES } : { environments: OTHER_ENVIRONMENTS });
        const res = await send(route, entry, headers);
        const problem = refusalProblem(res, 403, route.split(" ")[0]!);
        // The refusal is the scope's, not some other 403.
        const why = scope === "package" ? /scoped to packages kernel/ : /scoped to environments rawhide/;
        if (problem) wrong.push(`${route} scoped away from its ${scope}: ${problem}`);
        else if (!why.test((res.json() as { detail: string }).detail)) wrong.push(`${route} scoped away from its ${scope}: 403 for another reason: ${res.body}`);
        checked += 1;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(11);
  });

  it("lets each guarded route through for its role with a token scoped to what it touches", async () => {
    const wrong: string[] = [];
    for (const { route, entry } of guarded()) {
      const headers = await t.auth(entry.role, { packages: [`${PACKAGE}*`], environments: [ENVIRONMENT] });
      const res = await send(route, entry, headers);
      if ([401, 403].includes(res.statusCode) || res.statusCode >= 500) wrong.push(`${route} as ${entry.role}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  });
});
