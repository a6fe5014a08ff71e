// The API contract: openapi.yaml is what the routes produce, every operation is documented with
// its errors, and /docs serves the interactive page from relengd itself.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Fastify, { type HTTPMethods } from "fastify";
import { z } from "zod";
import { errorsPlugin } from "../../src/api/plugins/errors.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_PATH, OPENAPI_PATH, parseOpenApiYaml, type OpenApiDocument } from "../../src/api/plugins/openapi.js";
import { responseSerializerCompiler } from "../../src/api/response.js";
import { artifactJsonSchema } from "../../src/domain/artifact.js";
import { startTestApp, type TestApp } from "../support/app.js";

const SPEC_FILE = fileURLToPath(new URL("../../openapi.yaml", import.meta.url));
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
const PROBLEM_REF = "#/components/schemas/Problem";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Operation = { [key: string]: Json } & {
  summary?: string;
  operationId?: string;
  tags?: string[];
  security?: Json[];
  requestBody?: { content: Record<string, { schema: Json }> };
  parameters?: Array<{ in: string; name: string }>;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
};

const pointerPart = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** JSON pointers at which two documents differ (a key on one side only, or a different value). */
function differences(a: Json | undefined, b: Json | undefined, at = ""): string[] {
  if (a === b) return [];
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null;
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) return [at || "/"];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const diff: string[] = [];
  for (const key of keys) {
    const left = (a as Record<string, Json>)[key];
    const right = (b as Record<string, Json>)[key];
    diff.push(...differences(left, right, `${at}/${pointerPart(key)}`));
  }
  return diff;
}

function operations(doc: OpenApiDocument): Array<{ path: string; method: (typeof METHODS)[number]; op: Operation }> {
  const found = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, unknown> | undefined)?.[method];
      if (op) found.push({ path, method, op: op as Operation });
    }
  }
  return found;
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") found.push(v);
      else refsIn(v, found);
    }
  }
  return found;
}

let t: TestApp;
let served: OpenApiDocument;

beforeAll(async () => {
  t = await startTestApp("sqlite", { requests: {} });
  const res = await t.app.inject({ method: "GET", url: OPENAPI_PATH });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toContain("application/json");
  served = res.json();
});

afterAll(async () => {
  await t?.close();
});

describe("openapi.yaml", () => {
  it("is the document the routes produce (GET /openapi.json)", () => {
    let text: string;
    try {
      text = readFileSync(SPEC_FILE, "utf8");
    } catch (err) {
      expect.fail(`cannot read ${SPEC_FILE} (${(err as Error).message}); generate it with \`npm run openapi\``);
    }
    const drift = differences(parseOpenApiYaml(text) as unknown as Json, served as unknown as Json);
    if (drift.length > 0) {
      expect.fail(
        `openapi.yaml differs from what the routes produce at ${drift.length} place(s):\n  ${drift.slice(0, 25).join("\n  ")}\n` +
          "Regenerate it with `npm run openapi` and commit the result.",
      );
    }
  });

  it("drift is found where a route's documentation changed (the comparison above can fail)", () => {
    const changed = structuredClone(served) as unknown as { paths: Record<string, Record<string, { summary: string }>> };
    const push = changed.paths["/api/v1/artifacts"]?.post;
    expect(push).toBeDefined();
    if (push) push.summary = "something else";
    delete changed.paths["/api/v1/holds/{id}"];
    expect(differences(served as unknown as Json, changed as unknown as Json)).toEqual(["/paths/~1api~1v1~1artifacts/post/summary", "/paths/~1api~1v1~1holds~1{id}"]);
  });
});

describe("every operation in the document", () => {
  it("has an operationId, a summary and tags the document declares", () => {
    const declared = new Set((served.tags ?? []).map((tag) => tag.name));
    const ids = new Set<string>();
    for (const { path, method, op } of operations(served)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.summary, `${where} has no summary`).toMatch(/\S/);
      expect(op.operationId, `${where} has no operationId`).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(ids.has(op.operationId as string), `${where}: operationId ${op.operationId} is used twice`).toBe(false);
      ids.add(op.operationId as string);
      expect(op.tags?.length, `${where} has no tags`).toBeGreaterThan(0);
      for (const tag of op.tags ?? []) expect(declared.has(tag), `${where}: tag ${tag} is not in the document's tags`).toBe(true);
    }
    expect(ids.size).toBeGreaterThanOrEqual(22);
  });

  it("documents a success with a schema and at least one 4xx, every error as a problem+json Problem", () => {
    for (const { path, method, op } of operations(served)) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries(op.responses ?? {});
      const successes = responses.filter(([status]) => /^2\d\d$/.test(status));
      expect(successes.length, `${where} documents no 2xx`).toBeGreaterThan(0);
      for (const [status, r] of successes) expect(Object.keys(r.content ?? {}).length, `${where} ${status} has no content schema`).toBeGreaterThan(0);
      const errors = responses.filter(([status]) => /^[45]\d\d$/.test(status));
      expect(
        errors.some(([status]) => status.startsWith("4")),
        `${where} documents no 4xx`,
      ).toBe(true);
      for (const [status, r] of errors) {
        expect(r.description, `${where} ${status} has no description`).toMatch(/\S/);
        expect(Object.keys(r.content ?? {}), `${where} ${status}`).toEqual(["application/problem+json"]);
        expect(r.content?.["application/problem+json"]?.schema?.$ref, `${where} ${status}`).toBe(PROBLEM_REF);
      }
    }
  });

  it("states the errors of what surrounds the route: 401/403 where a token is needed, 400/413/415 where a body is read", () => {
    for (const { path, method, op } of operations(served)) {
      const where = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses ?? {});
      if (op.security) expect(statuses, where).toEqual(expect.arrayContaining(["401", "403"]));
      if (method === "post" || method === "put" || method === "patch" || method === "delete") {
        expect(statuses, where).toEqual(expect.arrayContaining(["400", "413", "415"]));
      }
      if (op.requestBody || (op.parameters ?? []).length > 0) expect(statuses, where).toContain("400");
      for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
        const param = (op.parameters ?? []).find((p) => p.in === "path" && `{${p.name}}` === name);
        expect(param, `${where} does not describe its path parameter ${name}`).toBeDefined();
      }
    }
  });

  it("is a route the app answers, and the contract's own pages are not operations", () => {
    for (const { path, method } of operations(served)) {
      const url = path.replace(/\{([^}]+)\}/g, ":$1");
      expect(t.app.hasRoute({ method: method.toUpperCase() as HTTPMethods, url }), `${method.toUpperCase()} ${path} is not a route`).toBe(true);
    }
    const paths = Object.keys(served.paths ?? {});
    expect(paths).not.toContain(OPENAPI_PATH);
    expect(paths.filter((p) => p === DOCS_PATH || p.startsWith(`${DOCS_PATH}/`))).toEqual([]);
    for (const route of ["/api/v1/artifacts", "/api/v1/releases", "/api/v1/policies", "/api/v1/events", "/api/v1/holds", "/healthz", "/readyz", "/metrics"]) {
      expect(paths).toContain(route);
    }
  });
});

describe("the document's schemas", () => {
  it("refer only to components the document has", () => {
    const components = new Set(Object.keys(served.components?.schemas ?? {}).map((name) => `#/components/schemas/${name}`));
    const refs = refsIn(served);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(components.has(ref), `dangling $ref ${ref}`).toBe(true);
    // Nothing left over: each component is referred to from somewhere.
    for (const component of components) expect(refs, `unused component ${component}`).toContain(component);
  });

  it("take the pushed artifact from the domain's schema: the same fields, the same required ones", () => {
    const body = (served.paths?.["/api/v1/artifacts"]?.post as Operation | undefined)?.requestBody?.content["application/json"]?.schema as { $ref?: string } | undefined;
    const name = body?.$ref?.replace("#/components/schemas/", "");
    const documented = (name ? served.components?.schemas?.[name] : body) as { properties?: object; required?: string[] } | undefined;
    const domain = artifactJsonSchema() as { properties?: object; required?: string[] };
    expect(Object.keys(documented?.properties ?? {})).toEqual(Object.keys(domain.properties ?? {}));
    expect(documented?.required).toEqual(domain.required);
  });
});

describe("GET /docs", () => {
  it("answers the interactive page, whose scripts and styles relengd serves itself", async () => {
    const res = await t.app.inject({ method: "GET", url: DOCS_PATH });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain('id="swagger-ui"');
    const assets = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      // Nothing from the internet: the page must work where only relengd is reachable.
      expect(asset, "an asset from elsewhere").not.toMatch(/^(https?:)?\/\//);
      const url = new URL(asset, `http://relengd${DOCS_PATH}/`).pathname;
      const got = await t.app.inject({ method: "GET", url });
      expect(got.statusCode, url).toBe(200);
    }
  });

  it("loads the same document as /openapi.json", async () => {
    const init = await t.app.inject({ method: "GET", url: `${DOCS_PATH}/static/swagger-initializer.js` });
    expect(init.statusCode).toBe(200);
    const url = /url: resolveUrl\('([^']+)'\)/.exec(init.body)?.[1];
    expect(url).toBeDefined();
    const doc = await t.app.inject({ method: "GET", url: new URL(url as string, `http://relengd${DOCS_PATH}/`).pathname });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toEqual(served);
  });
});

describe("responses against their documented schemas", () => {
  async function appAnswering(check: boolean, body: unknown) {
    const app = Fastify({ logger: false });
    app.setSerializerCompiler(responseSerializerCompiler(check));
    // No database behind this app: nothing it throws is the database's.
    await app.register(errorsPlugin, { isDatabaseUnavailable: () => false });
    app.get("/thing", { schema: { response: { 200: z.strictObject({ name: z.string(), count: z.number().int() }) } } }, async () => body);
    return app;
  }

  it("are checked in this suite: buildApp checks them when NODE_ENV is test, which vitest sets", () => {
    expect(process.env.NODE_ENV).toBe("test");
  });

  it("fail as a 500 naming the field when checked, and go out byte for byte otherwise", async () => {
    const wrong = { count: 1.5, name: "x" };
    const checked = await appAnswering(true, wrong);
    const res = await checked.inject({ method: "GET", url: "/thing" });
    expect(res.statusCode).toBe(500);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ type: "https://relengd.dev/problems/response-contract" });
    expect(res.json().detail).toContain("/count");
    const right = { count: 2, name: "x" };
    const fine = await (await appAnswering(true, right)).inject({ method: "GET", url: "/thing" });
    const unchecked = await (await appAnswering(false, wrong)).inject({ method: "GET", url: "/thing" });
    expect(fine.body).toBe(JSON.stringify(right));
    expect(unchecked.statusCode).toBe(200);
    expect(unchecked.body).toBe(JSON.stringify(wrong));
  });
});
