// Property-based fuzzing (fast-check) of the artifact, release and event endpoints through
// inject(): 10,000 generated requests, near-valid and random. Whatever comes in, the answer is
// never a 5xx, every 4xx is problem+json (a 400 names the failing field), and the writer, which
// keeps draining what got through, never puts a file outside the GitOps repo's document folders.
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import type { HTTPMethods, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactInput } from "../../src/domain/artifact.js";
import type { Envelope } from "../../src/domain/envelope.js";
import { MAX_JSON_DEPTH } from "../../src/domain/jsonInput.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { buildCompleteMessage, ciTestMessage, fixtureMessages } from "../support/fedoraMessages.js";
import { git } from "../support/remote.js";

/** Generated requests per endpoint family; they add up to the issue's 10,000. */
const RUNS = {
  pushArtifact: 1600,
  appendResults: 700,
  readArtifacts: 1100,
  release: 700,
  rollbackAndHold: 500,
  readReleases: 900,
  postEvent: 1000,
  readEvents: 700,
  garbage: 2800,
};

// A name a write outside the repo would leave behind; searched for on disk afterwards.
const MARK = "relengd-fuzz-escape";
const ENVIRONMENTS = ["rawhide", "f44-updates-candidate", "f44-updates-testing", "f44-updates", "rawhide-compose"];
// Where documents live (DESIGN.md): koji/tags/<tag>/<package>.yaml, bodhi/<release>/<key>.yaml, composes/<release>/<label>.yaml.
const DOCUMENT_PATH = /^(koji\/tags|bodhi|composes)\/[A-Za-z0-9_][A-Za-z0-9._+-]*\/[A-Za-z0-9_][A-Za-z0-9._+-]*\.yaml$/;

// ---- values that break things -------------------------------------------------------------

const traversal = fc.constantFrom(
  `../../${MARK}`,
  "..",
  ".",
  `../${MARK}`,
  `/tmp/${MARK}`,
  `..%2f..%2f${MARK}`,
  `a/../../${MARK}`,
  `..\\..\\${MARK}`,
  `${MARK}\u0000`,
  `${MARK}\n../x`,
  `\uff0e\uff0e\uff0f${MARK}`,
  "a..b",
  "_..",
  `x-1-1.fc45/../../${MARK}`,
  `~/${MARK}`,
  `$(touch ${MARK})`,
  `--upload-pack=touch ${MARK}`,
  ".git",
  ".git/hooks/post-commit",
  "refs/heads/main",
  "\u202e",
);
const hugeNumber = fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, 2 ** 31, -1, 0, 0.5, -0, 1e-300, Number.MAX_VALUE);
const wrongType = fc.constantFrom<unknown>(null, true, false, [], {}, 0, "", [null], { kind: "koji-build" }, [[[]]]);
const unicode = fc.oneof(fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
const longText = fc.string({ minLength: 250, maxLength: 5000 });
// Half of a surrogate pair alone in otherwise plain text: no UTF-8 form, the store cannot hold it.
const loneSurrogate = fc
  .tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 10 }))
  .map(([before, unit, after]) => before + String.fromCharCode(unit) + after);
// Arrays or objects nested around the limit and far past it (a stack overflow in the shell). Such a value cannot be
// built and stringified here without the stack overflow it tests for, so it travels as a
// placeholder string that `withDeepNesting` replaces in the request's text.
const DEEP_PLACEHOLDER = /"relengd-fuzz-deep-(\d+)-([ao])"/g;
const deepNesting = fc
  .tuple(fc.oneof(fc.integer({ min: 120, max: 136 }), fc.constantFrom(1000, 5000, 20_000)), fc.constantFrom("a", "o"))
  .map(([depth, kind]) => `relengd-fuzz-deep-${depth}-${kind}`);
function withDeepNesting(text: string): string {
  return text.replace(DEEP_PLACEHOLDER, (_, depth: string, kind: string) =>
    kind === "a" ? "[".repeat(Number(depth)) + "]".repeat(Number(depth)) : '{"d":'.repeat(Number(depth)) + "1" + "}".repeat(Number(depth)),
  );
}
const nasty: fc.Arbitrary<unknown> = fc.oneof(traversal, hugeNumber, wrongType, unicode, longText, fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 2 }), loneSurrogate, deepNesting);

// ---- near-valid documents: a valid one with one field set, deleted or added -------------------

type Node = Record<string, unknown> | unknown[];
interface Mutation {
  op: "set" | "delete" | "add";
  at: number;
  key: string;
  value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom("set", "set", "set", "delete", "add"),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom("kind", "__proto__", "constructor", "id", "nvr", "package"), fc.string({ maxLength: 12 })),
  value: nasty,
});

function nodePaths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => nodePaths(v, [...at, i], out));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) nodePaths(v, [...at, k], out);
  return out;
}

/** `doc` with one change at the at-th node (in document order): the smallest step off valid. */
function mutate(doc: unknown, m: Mutation): unknown {
  const copy = structuredClone(doc);
  const paths = nodePaths(copy).filter((p) => p.length > 0);
  const target = paths[m.at % Math.max(paths.length, 1)];
  if (!target) return m.value;
  // Walking a JSON tree by a path this function itself took from it.
  const parent = target.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], copy) as Node;
  const last = target[target.length - 1]!;
  if (m.op === "set") (parent as Record<string | number, unknown>)[last] = m.value;
  else if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[String(last)];
  } else if (Array.isArray(parent)) parent.push(m.value);
  else Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
  return copy;
}

let sequence = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

const packageName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9+_-]{0,20}$/), fc.constantFrom("a..b", "_..", "gtk+", "libsigc++20", "python-requests"));
const version = fc.stringMatching(/^[0-9][0-9a-z.]{0,6}$/);
const composeLabel = fc.oneof(fc.stringMatching(/^[A-Z]{1,3}-[0-9]\.[0-9]$/), fc.constantFrom("RC-1.2", "20261125.n.0", "a..b"));

/** Valid artifacts that the shipped policies release (rawhide, f44) or that a person may (f41, composes). */
const validArtifact = fc
  .record({ pkg: packageName, version, rel: fc.integer({ min: 1, max: 99 }), distro: fc.constantFrom("rawhide", "f44", "f41", "f41"), label: fc.option(composeLabel, { freq: 4 }), failed: fc.boolean() })
  .map(({ pkg, version, rel, distro, label, failed }): ArtifactInput => {
    const dist = distro === "rawhide" ? "fc45" : distro === "f44" ? "fc44" : "fc41";
    return {
      id: nextId("fuzz"),
      package: pkg,
      release: distro,
      source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: distro, event: "build", author: "Packager <p@fedoraproject.org>" },
      items: [
        { kind: "koji-build", nvr: `${pkg}-${version}-${rel}.${dist}`, buildId: 3_000_000 + rel, target: `${distro === "rawhide" ? "f45" : distro}-candidate` },
        { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: failed ? "FAILED" : "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/1" },
        { kind: "link", name: "koji task", url: "https://koji.fedoraproject.org/koji/taskinfo?taskID=1" },
        ...(label ? [{ kind: "compose" as const, composeId: `Fedora-Rawhide-20261125.n.${rel}`, status: "FINISHED" as const, type: "nightly" as const, label }] : []),
      ],
      context: { CI_PIPELINE_ID: String(rel) },
    };
  });

/**
 * Mostly one step off a valid document; one in `validEvery` valid as it is. Valid requests cost
 * a transaction (and, for releasable ones, a commit) each: they are kept to what the writer
 * needs to see traffic, so the 10,000 stay affordable on two loaded cores.
 */
function nearValid<T>(valid: fc.Arbitrary<T>, validEvery = 4): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.option(mutation, { freq: validEvery })).map(([doc, m]) => (m ? mutate(doc, m) : doc));
}

// ---- checking each answer ---------------------------------------------------------------------

const statuses = new Map<number, number>();
/** Requests that carried nesting past the limit, and a lone surrogate: proof the fuzz made them. */
const sent = { deep: 0, loneSurrogate: 0 };
// JSON.stringify writes a lone surrogate as an escape; a pair's halves stay together.
const LONE_SURROGATE_ESCAPE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

function requestText(payload: unknown): string {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const deep = [...text.matchAll(DEEP_PLACEHOLDER)].some((m) => Number(m[1]) > MAX_JSON_DEPTH);
  if (deep) sent.deep++;
  if (LONE_SURROGATE_ESCAPE.test(text)) sent.loneSurrogate++;
  return withDeepNesting(text);
}

function checkAnswer(res: LightMyRequestResponse, what: string): void {
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  if (res.statusCode >= 500) throw new Error(`${what}: ${res.statusCode} ${res.body.slice(0, 500)}`);
  if (res.statusCode < 400) return;
  expect(res.headers["content-type"], what).toContain("application/problem+json");
  const body = res.json() as { status?: unknown; title?: unknown; detail?: unknown; errors?: { path?: unknown; in?: unknown }[] };
  expect(body.status, what).toBe(res.statusCode);
  expect(typeof body.title, what).toBe("string");
  expect(typeof body.detail, what).toBe("string");
  // A request the server could not read names what it could not read.
  if (res.statusCode === 400 || res.statusCode === 415) {
    expect(body.errors?.length, `${what}: ${res.body}`).toBeGreaterThan(0);
    for (const e of body.errors ?? []) {
      expect(e.path, what).toMatch(/^\//);
      expect(["body", "query", "params", "header"], what).toContain(e.in);
    }
  }
}

/** Files of every ref of a bare repository, as the repository's trees say. */
function remoteFiles(remote: string): string[] {
  const refs = git(remote, "for-each-ref", "--format=%(refname)").split("\n").filter(Boolean);
  return refs.flatMap((ref) => git(remote, "ls-tree", "-r", "--name-only", "-z", ref).split("\0").filter(Boolean));
}

/** Paths under `dir` (to `depth` levels) whose name carries the escape mark. */
function marked(dir: string, depth: number): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    const here = e.name.includes(MARK) ? [p] : [];
    return e.isDirectory() && depth > 1 && e.name !== "objects" ? [...here, ...marked(p, depth - 1)] : here;
  });
}

describe("fuzzing the artifact, release and event endpoints (SQLite, writer running)", () => {
  let t: TestApp;
  let admin: Record<string, string>;
  /** Ids of artifacts that exist: results, releases and rollbacks aim at them. */
  const created: string[] = [];
  const fixtures = fixtureMessages().map((m) => m.json);

  const inject = async (what: string, opts: { method: HTTPMethods; url: string; payload?: unknown; query?: Record<string, string>; headers?: Record<string, string> }) => {
    const res = await t.app.inject({
      method: opts.method,
      url: opts.url,
      headers: { ...admin, ...(opts.payload !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
      ...(opts.query ? { query: opts.query } : {}),
      // A string payload is sent as it is: malformed JSON included.
      ...(opts.payload !== undefined ? { payload: requestText(opts.payload) } : {}),
    });
    checkAnswer(res, `${what} ${opts.method} ${opts.url}`);
    return res;
  };

  const pick = (i: number) => created[i % created.length] ?? "no-artifact";

  beforeAll(async () => {
    t = await startTestApp("sqlite");
    admin = await t.auth("admin");
    // Artifacts for results and releases to aim at, whatever the generated ones turn out to be.
    for (const a of fc.sample(validArtifact, { numRuns: 20, seed: 6 })) {
      const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: admin });
      expect(res.statusCode, res.body).toBe(201);
      created.push(a.id);
    }
  });
  afterAll(async () => t?.close());

  it("adds up to 10,000 generated requests", () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it("POST /api/v1/artifacts", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(nearValid(validArtifact, 10), async (body) => {
        const res = await inject("push", { method: "POST", url: "/api/v1/artifacts", payload: body });
        if (res.statusCode === 201) created.push((res.json() as { id: string }).id);
      }),
      { numRuns: RUNS.pushArtifact },
    );
  });

  it("POST /api/v1/artifacts/:id/results", { timeout: 60_000 }, async () => {
    const result = fc.record({
      kind: fc.constant("ci-result"),
      testcase: fc.constantFrom("fedora-ci.koji-build.tier0.functional", "fedora-ci.koji-build.tier1.functional", "dist.rpmdeplint"),
      outcome: fc.constantFrom("PASSED", "FAILED", "INFO", "ERROR"),
      refUrl: fc.constant("https://artifacts.dev.testing-farm.io/2"),
    });
    const id = fc.oneof({ arbitrary: fc.nat().map(pick), weight: 4 }, { arbitrary: traversal.map((s) => encodeURIComponent(s)), weight: 1 }, { arbitrary: unicode.map(encodeURIComponent), weight: 1 });
    await fc.assert(
      fc.asyncProperty(id, nearValid(fc.record({ results: fc.array(result, { minLength: 1, maxLength: 3 }) })), async (artifactId, body) => {
        await inject("results", { method: "POST", url: `/api/v1/artifacts/${artifactId}/results`, payload: body });
      }),
      { numRuns: RUNS.appendResults },
    );
  });

  it("GET /api/v1/artifacts and /api/v1/artifacts/:id", { timeout: 60_000 }, async () => {
    const query = fc.dictionary(fc.constantFrom("package", "release", "nvr", "sha", "branch", "event", "since", "until", "limit", "cursor", "x"), fc.oneof(traversal, unicode, hugeNumber.map(String)), { maxKeys: 3 });
    const id = fc.oneof(fc.nat().map(pick), traversal, unicode);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), query, id, async (list, q, artifactId) => {
        if (list) await inject("list", { method: "GET", url: "/api/v1/artifacts", query: q });
        else await inject("show", { method: "GET", url: `/api/v1/artifacts/${encodeURIComponent(artifactId)}${q.x ? "/decisions" : ""}` });
      }),
      { numRuns: RUNS.readArtifacts },
    );
  });

  it("POST /api/v1/releases and /api/v1/releases/:id/retry", { timeout: 60_000 }, async () => {
    const release = fc.record(
      { artifactId: fc.nat().map(pick), environment: fc.constantFrom(...ENVIRONMENTS), force: fc.boolean(), reason: fc.constantFrom("fuzz", " ", `../${MARK}`) },
      { requiredKeys: ["artifactId", "environment"] },
    );
    await fc.assert(
      fc.asyncProperty(nearValid(release), fc.option(fc.oneof(fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/), traversal), { freq: 8 }), async (body, retryId) => {
        if (retryId !== null) await inject("retry", { method: "POST", url: `/api/v1/releases/${encodeURIComponent(retryId)}/retry` });
        else await inject("release", { method: "POST", url: "/api/v1/releases", payload: body });
      }),
      { numRuns: RUNS.release },
    );
  });

  it("POST /api/v1/rollbacks, POST /api/v1/holds and DELETE /api/v1/holds/:id", { timeout: 60_000 }, async () => {
    const target = fc.record({ environment: fc.constantFrom(...ENVIRONMENTS), package: packageName, reason: fc.constantFrom("fuzz", "x".repeat(501), `../${MARK}`) });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("rollback", "hold", "lift"), nearValid(target), fc.nat(), async (verb, body, n) => {
        if (verb === "rollback") {
          const withArtifact = n % 2 === 0 && body && typeof body === "object" ? { ...body, artifactId: pick(n) } : body;
          await inject("rollback", { method: "POST", url: "/api/v1/rollbacks", payload: withArtifact });
        } else if (verb === "hold") {
          await inject("hold", { method: "POST", url: "/api/v1/holds", payload: body });
        } else {
          const holds = (await inject("holds", { method: "GET", url: "/api/v1/holds" })).json() as { items: { id: string }[] };
          const id = holds.items[n % Math.max(holds.items.length, 1)]?.id ?? `../${MARK}`;
          await inject("lift", { method: "DELETE", url: `/api/v1/holds/${encodeURIComponent(n % 5 === 0 ? `${id}/../x` : id)}` });
        }
      }),
      { numRuns: RUNS.rollbackAndHold },
    );
  });

  it("GET /api/v1/releases, /api/v1/releases/:id and /api/v1/holds", { timeout: 60_000 }, async () => {
    const query = fc.dictionary(fc.constantFrom("environment", "package", "status", "artifactId", "limit", "cursor", "x"), fc.oneof(traversal, unicode, hugeNumber.map(String), fc.constantFrom(...ENVIRONMENTS)), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("list", "show", "holds"), query, fc.oneof(traversal, unicode, fc.stringMatching(/^[0-9A-Z]{26}$/)), async (verb, q, id) => {
        if (verb === "list") await inject("releases", { method: "GET", url: "/api/v1/releases", query: q });
        else if (verb === "holds") await inject("holds", { method: "GET", url: "/api/v1/holds", query: q });
        else await inject("release", { method: "GET", url: `/api/v1/releases/${encodeURIComponent(id)}` });
      }),
      { numRuns: RUNS.readReleases },
    );
  });

  it("POST /api/v1/events", { timeout: 120_000 }, async () => {
    // Recorded bus messages and made-up builds and CI results, each under a fresh id (a repeated id is a duplicate, not a test).
    const build = fc.record({ name: packageName, version, rel: fc.integer({ min: 1, max: 99 }) }).map(({ name, version, rel }): Envelope =>
      buildCompleteMessage({ id: "x", buildId: 4_000_000 + rel, name, version, release: `${rel}.fc45` }),
    );
    const ciResult = fc.record({ name: packageName, version, result: fc.constantFrom("passed", "failed", "error") }).map(({ name, version, result }): Envelope =>
      ciTestMessage({ id: "x", nvr: `${name}-${version}-1.fc45`, result }),
    );
    const envelope = fc.oneof({ arbitrary: fc.constantFrom(...fixtures), weight: 3 }, { arbitrary: build, weight: 1 }, { arbitrary: ciResult, weight: 1 });
    await fc.assert(
      fc.asyncProperty(nearValid(envelope, 6), fc.boolean(), async (message, freshId) => {
        const body = freshId && message && typeof message === "object" && !Array.isArray(message) ? { ...message, id: nextId("msg") } : message;
        await inject("event", { method: "POST", url: "/api/v1/events", payload: body });
      }),
      { numRuns: RUNS.postEvent },
    );
  });

  it("GET /api/v1/events and /api/v1/events/:id", { timeout: 60_000 }, async () => {
    const query = fc.dictionary(fc.constantFrom("status", "topic", "limit", "cursor", "x"), fc.oneof(traversal, unicode, hugeNumber.map(String)), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), query, fc.oneof(traversal, unicode), async (list, q, id) => {
        if (list) await inject("events", { method: "GET", url: "/api/v1/events", query: q });
        else await inject("event", { method: "GET", url: `/api/v1/events/${encodeURIComponent(id)}` });
      }),
      { numRuns: RUNS.readEvents },
    );
  });

  it("random JSON, broken JSON and other media types on every writing endpoint", { timeout: 60_000 }, async () => {
    const endpoint = fc.constantFrom(
      "/api/v1/artifacts",
      `/api/v1/artifacts/${encodeURIComponent("fuzz-seed")}/results`,
      "/api/v1/releases",
      "/api/v1/rollbacks",
      "/api/v1/holds",
      "/api/v1/events",
    );
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom("{", "[1,", '{"id":', "\u0000", "null", '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"reason":"x\\ud83dy"}', '["\\udc00"]'),
      deepNesting.map((placeholder) => JSON.stringify({ id: placeholder })),
      loneSurrogate.map((text) => JSON.stringify({ environment: "rawhide", package: "lspkg", reason: text })),
    );
    const contentType = fc.constantFrom("application/json", "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "text/plain", "application/x-www-form-urlencoded", "application/yaml");
    await fc.assert(
      fc.asyncProperty(endpoint, body, contentType, async (url, payload, type) => {
        await inject("garbage", { method: "POST", url: url.replace("fuzz-seed", created[0] ?? "x"), payload, headers: { "content-type": type } });
      }),
      { numRuns: RUNS.garbage },
    );
    // Prototype pollution through a parsed body would show up on every object.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("wrote documents only under koji/tags/, bodhi/ and composes/, and no file outside the repository", { timeout: 120_000 }, async () => {
    await t.writer.idle();
    const files = remoteFiles(t.remote);
    // The fuzz reached the writer: releases of generated packages became documents.
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      expect(file, file).toMatch(DOCUMENT_PATH);
      expect(file.split("/"), file).not.toContain("..");
    }
    // Nothing carrying the mark next to the repository, in the temp folder or the working directory.
    expect([...marked(path.dirname(t.remote), 6), ...marked(tmpdir(), 2), ...marked(process.cwd(), 2)]).toEqual([]);
    // The generators reached the server with both kinds of input (lone surrogates, deep nesting), and none got a 5xx.
    expect(sent.deep).toBeGreaterThan(50);
    expect(sent.loneSurrogate).toBeGreaterThan(50);
    console.log(`fuzz: deep ${sent.deep}, lone surrogates ${sent.loneSurrogate}; ${[...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ")}; ${files.length} documents in the remote`);
  });
});
