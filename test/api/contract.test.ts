import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/domain/jsonInput.js";
import { REFUSAL_CODES } from "../../src/domain/refusal.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { buildCompleteMessage } from "../support/fedoraMessages.js";

const PROBLEM = /^application\/problem\+json/;

// The edges of the HTTP contract: every error relengd answers is problem+json, JSON
// input is bounded and well-formed, 401s say how to authenticate, refusals carry a code.
describe.each(testProviders)("the HTTP contract's edges on %s", (provider) => {
  let t: TestApp;
  let admin: { authorization: string };
  let ci: { authorization: string };
  let releaser: { authorization: string };
  let reader: { authorization: string };

  beforeAll(async () => {
    t = await startTestApp(provider);
    admin = await t.auth("admin");
    ci = await t.auth("ci");
    releaser = await t.auth("releaser");
    reader = await t.auth("reader");
  });
  afterAll(async () => t?.close());

  const post = (url: string, payload: string | Buffer, headers: Record<string, string>, contentType = "application/json") =>
    t.app.inject({ method: "POST", url, payload, headers: { ...headers, "content-type": contentType } });

  describe("deeply nested JSON", () => {
    it("answers 400 naming the path where an event nested 5,000 arrays deep passed the limit, not 500", async () => {
      const message = buildCompleteMessage({ id: "deep-5000", buildId: 9_100_001, name: "deep", version: "1", release: "1.fc45" });
      const text = JSON.stringify(message).replace('"attribute":"state"', `"attribute":${"[".repeat(5000)}${"]".repeat(5000)}`);
      const res = await post("/api/v1/events", text, admin);
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      const path = `/body/attribute${"/0".repeat(MAX_JSON_DEPTH - 2)}`;
      expect(res.json().errors).toEqual([{ path, message: `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`, in: "body" }]);
    });

    it("answers 400 for an artifact nested past the limit in its context, naming /context/<key>/…", async () => {
      const text = JSON.stringify(sampleArtifact()).replace('"context":{', `"context":{"deep":${"{\"a\":".repeat(200)}1${"}".repeat(200)},`);
      const res = await post("/api/v1/artifacts", text, ci);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0]).toMatchObject({ path: `/context/deep${"/a".repeat(MAX_JSON_DEPTH - 2)}`, in: "body" });
    });

    it(`accepts nesting up to ${MAX_JSON_DEPTH} levels (the limit is not off by one)`, async () => {
      // The envelope is level 1, its body level 2: MAX_JSON_DEPTH - 2 arrays inside the body reach the limit exactly.
      const message = buildCompleteMessage({ id: `deep-ok-${provider}`, buildId: 9_100_002, name: "deepok", version: "1", release: "1.fc45" });
      const inner = MAX_JSON_DEPTH - 2;
      const text = JSON.stringify(message).replace('"attribute":"state"', `"attribute":"state","extra":${"[".repeat(inner)}${"]".repeat(inner)}`);
      expect((await post("/api/v1/events", text, admin)).statusCode).toBe(201);
      const over = text.replace(`"extra":${"[".repeat(inner)}${"]".repeat(inner)}`, `"extra":${"[".repeat(inner + 1)}${"]".repeat(inner + 1)}`).replace(`deep-ok-${provider}`, `deep-over-${provider}`);
      const refused = await post("/api/v1/events", over, admin);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().errors[0]).toMatchObject({ path: `/body/extra${"/0".repeat(inner)}`, message: expect.stringContaining("nests deeper") });
    });
  });

  describe("lone UTF-16 surrogates", () => {
    it("answers 400 naming /reason for a hold whose reason holds a lone surrogate, not 500", async () => {
      const res = await post("/api/v1/holds", '{"environment":"rawhide","package":"lspkg","reason":"x\\ud83dy"}', releaser);
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      expect(res.json().errors).toEqual([{ path: "/reason", message: expect.stringContaining("lone UTF-16 surrogate"), in: "body" }]);
      expect((await t.app.inject({ method: "GET", url: "/api/v1/holds?package=lspkg", headers: reader })).json().items).toEqual([]);
    });

    it("answers 400 naming /results/0/note for an appended result with note \\ud800", async () => {
      const a = sampleArtifact();
      expect((await post("/api/v1/artifacts", JSON.stringify(a), ci)).statusCode).toBe(201);
      const body = '{"results":[{"kind":"ci-result","testcase":"fedora-ci.koji-build.tier0.functional","outcome":"PASSED","note":"\\ud800"}]}';
      const res = await post(`/api/v1/artifacts/${a.id}/results`, body, ci);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([{ path: "/results/0/note", message: expect.stringContaining("lone UTF-16 surrogate"), in: "body" }]);
    });

    it("keeps a well-formed pair (an emoji) as sent", async () => {
      const res = await post("/api/v1/holds", '{"environment":"rawhide","package":"emojipkg","reason":"x\\ud83d\\ude00y"}', releaser);
      expect(res.statusCode).toBe(201);
      expect(res.json().reason).toBe("x\u{1F600}y");
    });
  });

  describe("what a JSON body may be", () => {
    it.each(["__proto__", "constructor"])("refuses a %s key with a message that says so", async (key) => {
      const text = JSON.stringify(sampleArtifact()).replace('"context":{', `"context":{"${key}":{"polluted":"yes"},`);
      const res = await post("/api/v1/artifacts", text, ci);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([{ path: `/context/${key}`, message: expect.stringContaining("prototype"), in: "body" }]);
    });

    it("answers 415 to a body declared in a charset other than utf-8, and stores nothing", async () => {
      const a = sampleArtifact({ source: { ...sampleArtifact().source, author: "Zoë Packager <z@example.org>" } });
      const res = await post("/api/v1/artifacts", Buffer.from(JSON.stringify(a), "latin1"), ci, "application/json; charset=latin1");
      expect(res.statusCode).toBe(415);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      expect(res.json().errors).toEqual([{ path: "/content-type", message: expect.stringContaining("utf-8"), in: "header" }]);
      expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: reader })).statusCode).toBe(404);
      // The same body declared utf-8 (in any spelling) is taken, "é" intact.
      const ok = await post("/api/v1/artifacts", JSON.stringify(a), ci, 'application/json; charset="UTF-8"');
      expect(ok.statusCode).toBe(201);
      expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: reader })).json().source.author).toBe("Zoë Packager <z@example.org>");
    });

    it("answers 400 to bytes that are not UTF-8 instead of storing U+FFFD", async () => {
      const a = sampleArtifact({ source: { ...sampleArtifact().source, author: "Zoë Packager <z@example.org>" } });
      const res = await post("/api/v1/artifacts", Buffer.from(JSON.stringify(a), "latin1"), ci);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ detail: expect.stringContaining("not valid UTF-8"), errors: [{ path: "/", in: "body" }] });
      expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: reader })).statusCode).toBe(404);
    });

    it("answers 400 to broken JSON and to an empty body, 413 past the size limit, 415 to text/plain", async () => {
      for (const payload of ['{"id": ', ""]) {
        const res = await post("/api/v1/artifacts", payload, ci);
        expect(res.statusCode, payload).toBe(400);
        expect(res.headers["content-type"]).toMatch(PROBLEM);
      }
      const big = await post("/api/v1/artifacts", JSON.stringify({ ...sampleArtifact(), context: { big: "x".repeat(300 * 1024) } }), ci);
      expect(big.statusCode).toBe(413);
      expect(big.headers["content-type"]).toMatch(PROBLEM);
      const plain = await post("/api/v1/artifacts", "{}", ci, "text/plain");
      expect(plain.statusCode).toBe(415);
      expect(plain.headers["content-type"]).toMatch(PROBLEM);
    });
  });

  describe("errors fastify and node answer themselves", () => {
    it("answers a path with bad percent-encoding (FST_ERR_BAD_URL) with 400 problem+json", async () => {
      const res = await t.app.inject({ method: "GET", url: "/api/v1/artifacts/%ff", headers: reader });
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({ status: 400, type: expect.stringContaining("bad-url") });
    });

    it("answers a request target longer than 8 KiB with 414 problem+json", async () => {
      const res = await t.app.inject({ method: "GET", url: `/api/v1/artifacts?package=${"a".repeat(9000)}`, headers: reader });
      expect(res.statusCode).toBe(414);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      const unknown = await t.app.inject({ method: "GET", url: `/api/v1/${"b".repeat(9000)}`, headers: reader });
      expect(unknown.statusCode).toBe(414);
    });

    it("finds an artifact whose id is 200 characters long (longer than fastify's default parameter length)", async () => {
      const a = sampleArtifact({ id: `a${"b".repeat(199)}` });
      expect((await post("/api/v1/artifacts", JSON.stringify(a), ci)).statusCode).toBe(201);
      const res = await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: reader });
      expect(res.statusCode).toBe(200);
    });

    it("answers an unknown route and a method a route lacks with 404 problem+json", async () => {
      for (const [method, url] of [["GET", "/api/v1/nothing"], ["DELETE", "/api/v1/artifacts"], ["PUT", "/api/v1/releases"]] as const) {
        const res = await t.app.inject({ method, url, headers: reader });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(res.headers["content-type"]).toMatch(PROBLEM);
      }
    });

    it("answers headers larger than node's limit with 431 problem+json on the socket", async () => {
      await t.app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/healthz", headers: { "x-huge": "h".repeat(20_000) } }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
        });
        req.on("error", reject);
        req.end();
      });
      expect(answer.status).toBe(431);
      expect(answer.type).toMatch(PROBLEM);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 431, title: "Request header fields too large" });
    });
  });

  describe("401 and WWW-Authenticate", () => {
    it("names the Bearer scheme when no token is sent", async () => {
      const res = await t.app.inject({ method: "GET", url: "/api/v1/artifacts" });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="relengd"');
    });

    it('says error="invalid_token" for a token that does not verify', async () => {
      const res = await t.app.inject({ method: "GET", url: "/api/v1/artifacts", headers: { authorization: "Bearer not.a.token" } });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="relengd", error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]+"$/);
    });
  });

  describe("refusals carry a machine-readable code", () => {
    it("says nothing-to-roll-back-to, unknown-artifact and held beside the sentence", async () => {
      const rollback = await post("/api/v1/rollbacks", JSON.stringify({ environment: "rawhide", package: "never-pushed" }), releaser);
      expect(rollback.statusCode).toBe(422);
      expect(rollback.json()).toMatchObject({ code: "nothing-to-roll-back-to", detail: expect.stringContaining("never-pushed") });
      const unknown = await post("/api/v1/releases", JSON.stringify({ artifactId: "no-such-artifact", environment: "rawhide" }), releaser);
      expect(unknown.statusCode).toBe(422);
      expect(unknown.json()).toMatchObject({ code: "unknown-artifact" });
      const a = sampleArtifact({ package: "heldpkg", release: "rawhide", items: [{ kind: "koji-build", nvr: "heldpkg-1.0-1.fc45" }] });
      expect((await post("/api/v1/artifacts", JSON.stringify(a), ci)).statusCode).toBe(201);
      expect((await post("/api/v1/holds", JSON.stringify({ environment: "rawhide", package: "heldpkg", reason: "mass rebuild" }), releaser)).statusCode).toBe(201);
      const held = await post("/api/v1/releases", JSON.stringify({ artifactId: a.id, environment: "rawhide" }), releaser);
      expect(held.statusCode).toBe(409);
      expect(held.json()).toMatchObject({ code: "held" });
      for (const res of [rollback, unknown, held]) expect(Object.keys(REFUSAL_CODES)).toContain(res.json().code);
    });
  });
});
