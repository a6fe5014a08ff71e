// The API contract: the OpenAPI document built from the routes' zod schemas (GET /openapi.json,
// checked in as openapi.yaml) and the interactive page at /docs. Owns the openapi.yaml text.
import { readFileSync } from "node:fs";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchema, RouteOptions } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import type { OpenAPIV3_1 } from "openapi-types";
import YAML from "yaml";
import { z } from "zod";
import { envelopeSchema } from "../../domain/envelope.js";
import { problemResponse } from "../problem.js";

export type OpenApiDocument = OpenAPIV3_1.Document;

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";

/** Every tag a route may use, in the order the page lists them. */
const API_TAGS = [
  { name: "artifacts", description: "Release artifacts pushed by CI, their results and policy decisions" },
  { name: "releases", description: "Releases of an artifact to an environment, retries and rollbacks" },
  { name: "holds", description: "Holds that stop automatic releases of a package to an environment" },
  { name: "environments", description: "Where requests go (policies/environments.yaml)" },
  { name: "requests", description: "Requests by merge request: branches, new packages and side tags proposed on `requests/*` branches of the GitOps repository" },
  { name: "policies", description: "The policy set in force and its reload" },
  { name: "events", description: "Fedora message bus events, also accepted over HTTP" },
  { name: "dashboard", description: "Read-only summaries for the web dashboard" },
  { name: "reports", description: "Broken-dependency reports: repoclosure over a tree's repositories, kept with what changed" },
  { name: "operations", description: "Probes and Prometheus metrics" },
] as const;

// Read at start-up so that the document names the release that serves it.
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

// fastify parses a body for any method but these; a body can then be bad JSON, too large or not JSON.
const BODILESS_METHODS = new Set(["GET", "HEAD"]);

// What the document reads from a route schema besides fastify's own parts.
interface DocumentedSchema extends FastifySchema {
  hide?: boolean;
  description?: string;
  security?: Array<Record<string, string[]>>;
}

/**
 * A JSON success response of a route schema, with the description the document shows for it
 * (a named schema stays a reference; a description on the schema itself would copy it inline).
 */
export function jsonResponse<S extends z.ZodType>(description: string, schema: S) {
  return { description, content: { "application/json": { schema } } };
}

// fastify adds a HEAD route beside each GET with the same schema object: document it once.
const documented = new WeakSet<object>();

/**
 * Errors that do not come from the route itself but from what surrounds it: the auth plugin
 * (401, 403, and 503 when an OIDC issuer's keys cannot be fetched, on a route with
 * `config.role`), the body parser (400, 413, 415) and the request validator (400). Stated
 * here, once, so that every route's documented responses stay true.
 */
function documentSurroundingErrors(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as DocumentedSchema;
  if (schema.hide || documented.has(schema)) return;
  documented.add(schema);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const takesBody = methods.some((m) => !BODILESS_METHODS.has(m));
  const response: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
  const add = (status: number) => {
    if (!(status in response)) response[status] = problemResponse(status);
  };
  if (takesBody || schema.body || schema.querystring || schema.params) add(400);
  const role = route.config?.role;
  if (role) {
    add(401);
    add(403);
    add(503);
    schema.security = [{ bearerAuth: [] }];
    const needs =
      role === "reader"
        ? "Needs a bearer token with role `reader` or above, unless the server allows anonymous reads (RELENGD_ANONYMOUS_READ)."
        : `Needs a bearer token with role \`${role}\` or above.`;
    schema.description = schema.description ? `${schema.description}\n\n${needs}` : needs;
  }
  if (takesBody) {
    add(413);
    add(415);
  }
  // Status keys are integer-like: the document lists them in numeric order whatever the order added.
  schema.response = response;
  route.schema = schema;
}

/**
 * Bus message headers hold any JSON value, a recursive type: as a named component it can refer
 * to itself. Registered once per process (zod's registry refuses an id twice).
 */
function nameRecursiveSchemas(): void {
  const jsonValue = envelopeSchema.shape.headers.unwrap().valueType;
  if (!z.globalRegistry.has(jsonValue)) z.globalRegistry.add(jsonValue, { id: "JsonValue", description: "Any JSON value" });
}

export const openapiPlugin = fp(async (app: FastifyInstance) => {
  nameRecursiveSchemas();
  app.addHook("onRoute", documentSurroundingErrors);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "relengd",
        version: PACKAGE_VERSION,
        description:
          "Release-artifact server for distribution packaging done the GitOps way. Errors are `application/problem+json` (RFC 9457); a 400 names each failing field in `errors` (`path` is a JSON pointer, `in` says which part of the request); a 409 or 422 refusal carries a machine-readable `code`. JSON bodies are UTF-8 (another charset is 415), nest at most 128 levels of arrays and objects, hold no `__proto__` or `constructor` key and only well-formed Unicode text (no lone UTF-16 surrogate); request targets are at most 8 KiB (414), headers 16 KiB (431).",
        license: { name: "MIT", identifier: "MIT" },
      },
      tags: API_TAGS.map((t) => ({ ...t })),
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "A relengd token (`relengd token issue`), sent as `Authorization: Bearer <token>`",
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => tidyDocument(jsonSchemaTransformObject(document) as OpenApiDocument),
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PATH });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function mapJson(value: Json, visit: (node: { [key: string]: Json }) => { [key: string]: Json }): Json {
  if (Array.isArray(value)) return value.map((v) => mapJson(v, visit));
  if (value === null || typeof value !== "object") return value;
  return visit(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapJson(v, visit)])));
}

const SCHEMA_REF = "#/components/schemas/";

function refsIn(value: Json, found = new Set<string>()): Set<string> {
  mapJson(value, (node) => {
    if (typeof node.$ref === "string" && node.$ref.startsWith(SCHEMA_REF)) found.add(node.$ref.slice(SCHEMA_REF.length));
    return node;
  });
  return found;
}

/**
 * What the zod-to-OpenAPI conversion leaves for a reader to wade through: every named schema
 * twice (input and output, used or not), and zod's long RFC 3339 regex beside `format:
 * date-time`. Keeps the components that are referenced, names a request-only one without its
 * `Input` suffix, and lets `format` speak for timestamps.
 */
const WWW_AUTHENTICATE_HEADER: Json = {
  description: 'RFC 6750: `Bearer realm="relengd"`, with `error="invalid_token"` and an `error_description` when the token sent does not verify',
  schema: { type: "string" },
};

function tidyDocument(document: OpenApiDocument): OpenApiDocument {
  // The document is plain JSON: it is served as such.
  let doc = mapJson(document as unknown as Json, (node) => {
    if (node.format === "date-time" && typeof node.pattern === "string") {
      const { pattern: _pattern, ...rest } = node;
      return rest;
    }
    return node;
  }) as { [key: string]: Json };
  const components = (doc.components ?? {}) as { [key: string]: Json };
  const schemas = (components.schemas ?? {}) as { [key: string]: Json };
  const { components: _components, ...rest } = doc;
  // Referenced from the paths, then from what those reference, until nothing new turns up.
  const used = refsIn(rest);
  const queue = [...used];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const ref of refsIn(schemas[name] ?? null)) {
      if (used.has(ref)) continue;
      used.add(ref);
      queue.push(ref);
    }
  }
  const renames = new Map<string, string>();
  for (const name of used) {
    const bare = name.replace(/Input$/, "");
    if (bare !== name && !used.has(bare)) renames.set(name, bare);
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)).map(([name, s]) => [renames.get(name) ?? name, s]));
  doc = { ...doc, components: { ...components, schemas: kept } };
  // The zod transform keeps a response's description and content only; a 401's header is added here.
  for (const operations of Object.values((doc.paths ?? {}) as { [path: string]: { [method: string]: { responses?: { [status: string]: { [key: string]: Json } } } } })) {
    for (const operation of Object.values(operations)) {
      const unauthorized = operation.responses?.["401"];
      if (unauthorized) unauthorized.headers = { "WWW-Authenticate": WWW_AUTHENTICATE_HEADER };
    }
  }
  return mapJson(doc, (node) => {
    if (typeof node.$ref !== "string" || !node.$ref.startsWith(SCHEMA_REF)) return node;
    const renamed = renames.get(node.$ref.slice(SCHEMA_REF.length));
    return renamed ? { ...node, $ref: SCHEMA_REF + renamed } : node;
  }) as unknown as OpenApiDocument;
}

/** openapi.yaml's text: the document as YAML, keys in the document's order, no anchors. */
export function renderOpenApiYaml(document: unknown): string {
  return YAML.stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}

export function parseOpenApiYaml(text: string): OpenApiDocument {
  return YAML.parse(text) as OpenApiDocument;
}
