// Benchmark: listing one package's artifacts among BENCH_ARTIFACTS (default 1,000,000) stored on SQLite, against /healthz and GET-by-id in the same run.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { artifactDigest, artifactSchema, kojiBuilds, parseNvrName, renderArtifact, type Artifact } from "../src/domain/artifact.js";
import { ArtifactRepository } from "../src/store/artifactRepository.js";
import { migrate } from "../src/store/migrator.js";
import { observeStatements, openStore } from "../src/store/store.js";
import { seedArtifact, seedPackageName } from "./fedoraArtifacts.js";
import { benchLine, ms, pause, ratio, runLoad, summarizeLatencies, table, verdict, type LatencySummary, type LoadResult } from "./load.js";
import { startRelengd, type BenchServer } from "./relengdServer.js";
import { prng } from "./prng.js";

const TOTAL = Number(process.env.BENCH_ARTIFACTS ?? 1_000_000);
if (!Number.isInteger(TOTAL) || TOTAL < 1) throw new Error(`BENCH_ARTIFACTS must be a positive integer, not ${process.env.BENCH_ARTIFACTS}`);
const PER_PACKAGE = 200;
const PACKAGES = Math.max(1, Math.ceil(TOTAL / PER_PACKAGE));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = 2;
const SEED_TX_ROWS = 20_000;
const PAGE = 50;
// Target of the query issue.
const MAX_P95_MS = 10;


type StoredTimestamp = string | number;

// Ways a driver could store a DateTime in SQLite; the probe below finds the one the store uses.
const TIMESTAMP_FORMATS: [string, (d: Date) => StoredTimestamp][] = [
  ["ISO 8601 text with +00:00", (d) => d.toISOString().replace("Z", "+00:00")],
  ["ISO 8601 text with Z", (d) => d.toISOString()],
  ["integer unix milliseconds", (d) => d.getTime()],
  ["SQLite datetime text", (d) => d.toISOString().replace("T", " ").replace("Z", "")],
];

/** Stores one artifact through the store, reads its createdAt column back raw, and returns how to write the same. */
async function probeTimestampFormat(databaseUrl: string, file: string): Promise<[string, (d: Date) => StoredTimestamp]> {
  const db = await openStore(databaseUrl);
  const probe = artifactSchema.parse(seedArtifact(0, "probe", 0));
  const outcome = await new ArtifactRepository(db).ingest(probe);
  await db.close();
  if (outcome.status !== "created") throw new Error(`probe artifact was not created: ${outcome.status}`);
  const raw = new BetterSqlite3(file);
  try {
    const row = raw.prepare(`SELECT createdAt FROM "Artifact" WHERE id = ?`).get(probe.id) as { createdAt: StoredTimestamp };
    const format = TIMESTAMP_FORMATS.find(([, write]) => write(outcome.createdAt) === row.createdAt);
    if (!format) throw new Error(`the store wrote createdAt as ${JSON.stringify(row.createdAt)}, which matches no known format`);
    raw.prepare(`DELETE FROM "ArtifactBuild" WHERE artifactId = ?`).run(probe.id);
    raw.prepare(`DELETE FROM "Artifact" WHERE id = ?`).run(probe.id);
    return format;
  } finally {
    raw.close();
  }
}

const SEED_START = Date.parse("2024-01-01T00:00:00Z");
const seedCreatedAt = (n: number) => new Date(SEED_START + n * 30_000);

/** Inserts TOTAL artifacts straight into the store's tables, in big transactions. */
function seed(file: string, writeTimestamp: (d: Date) => StoredTimestamp): void {
  const db = new BetterSqlite3(file);
  // Bulk-load settings for this throwaway file only; relengd opens it in WAL mode afterwards.
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -1000000");
  const insertArtifact = db.prepare(
    `INSERT INTO "Artifact" (id, package, release, sourceRepo, sourceSha, sourceBranch, sourceEvent, createdAt, bodyHash, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertBuild = db.prepare(`INSERT INTO "ArtifactBuild" (artifactId, nvr, name) VALUES (?, ?, ?)`);
  const insertOne = (a: Artifact, n: number) => {
    insertArtifact.run(a.id, a.package, a.release, a.source.repo, a.source.sha, a.source.branch ?? null, a.source.event, writeTimestamp(seedCreatedAt(n)), artifactDigest(a), renderArtifact(a));
    for (const b of kojiBuilds(a)) insertBuild.run(a.id, b.nvr, parseNvrName(b.nvr));
  };
  const random = prng(41);
  const started = performance.now();
  for (let first = 1; first <= TOTAL; first += SEED_TX_ROWS) {
    const last = Math.min(TOTAL, first + SEED_TX_ROWS - 1);
    db.transaction(() => {
      for (let n = first; n <= last; n++) {
        const a = seedArtifact(n, seedPackageName(Math.floor(random() * PACKAGES)), Math.floor(random() * 4));
        // The generator builds the parsed type directly; check a sample against the real schema.
        if (n % 10_000 === 1 && renderArtifact(artifactSchema.parse(a)) !== renderArtifact(a)) throw new Error(`seed artifact ${n} does not survive parsing`);
        insertOne(a, n);
      }
    })();
    if (last % 200_000 === 0 || last === TOTAL) {
      const s = (performance.now() - started) / 1000;
      console.log(`  seeded ${last.toLocaleString("en")} in ${s.toFixed(1)} s (${Math.round(last / s).toLocaleString("en")}/s)`);
    }
  }
  db.pragma("journal_mode = WAL");
  db.close();
}

type EndpointKey = "healthz" | "byId" | "package" | "cursor" | "nvr";

interface Endpoint {
  key: EndpointKey;
  name: string;
  paths: string[];
}

interface Samples {
  pkg: string;
  /** A second-page cursor of `pkg`; absent when no package has more than one page. */
  cursor?: string;
  nvr: string;
}

/** The endpoints with their sample paths: random packages, ids and NVRs that exist, second-page cursors. */
async function endpoints(file: string, server: BenchServer): Promise<{ list: Endpoint[]; samples: Samples }> {
  const random = prng(7);
  const pick = (count: number, max: number) => Array.from({ length: count }, () => 1 + Math.floor(random() * max));
  const packages = pick(500, PACKAGES).map((i) => seedPackageName(i - 1));
  const db = new BetterSqlite3(file, { readonly: true });
  const byId = db.prepare(`SELECT a.id AS id, b.nvr AS nvr FROM "Artifact" a JOIN "ArtifactBuild" b ON b.artifactId = a.id WHERE a.id = ?`);
  const rows = pick(500, TOTAL).map((n) => byId.get(`fedora-ci-${n}`) as { id: string; nvr: string });
  db.close();

  const listPath = (pkg: string) => `/api/v1/artifacts?package=${encodeURIComponent(pkg)}&limit=${PAGE}`;
  // Second pages as a client reaches them: by following the first page's nextCursor.
  const cursors: { pkg: string; cursor: string }[] = [];
  for (const pkg of packages.slice(0, 100)) {
    const res = await fetch(`${server.url}${listPath(pkg)}`, { headers: { authorization: `Bearer ${server.token}` } });
    const page = (await res.json()) as { nextCursor: string | null };
    if (page.nextCursor) cursors.push({ pkg, cursor: page.nextCursor });
  }
  const list: Endpoint[] = [
    { key: "healthz", name: "GET /healthz (baseline)", paths: ["/healthz"] },
    { key: "byId", name: "GET /api/v1/artifacts/:id", paths: rows.map((r) => `/api/v1/artifacts/${encodeURIComponent(r.id)}`) },
    { key: "package", name: `GET ?package=X&limit=${PAGE}`, paths: packages.map(listPath) },
    { key: "cursor", name: `GET ?package=X&limit=${PAGE}&cursor=…`, paths: cursors.map((c) => `${listPath(c.pkg)}&cursor=${encodeURIComponent(c.cursor)}`) },
    { key: "nvr", name: "GET ?nvr=…", paths: rows.map((r) => `/api/v1/artifacts?nvr=${encodeURIComponent(r.nvr)}`) },
  ];
  if (cursors.length === 0) console.log("no package has a second page at this size: the cursor query is left out");
  const first = cursors[0];
  return {
    list: list.filter((e) => e.paths.length > 0),
    samples: { pkg: first?.pkg ?? packages[0] ?? "", ...(first ? { cursor: first.cursor } : {}), nvr: rows[0]?.nvr ?? "" },
  };
}

/** Captures the SQL the store sends for the list queries and shows SQLite's plan and raw time for each. */
async function explain(databaseUrl: string, file: string, samples: Samples): Promise<void> {
  const store = await openStore(databaseUrl);
  const queries: { sql: string; params: unknown[] }[] = [];
  const stopObserving = observeStatements((sql, _binds, params) => queries.push({ sql, params: [...params] }));
  const repo = new ArtifactRepository(store);
  const db = new BetterSqlite3(file, { readonly: true });
  const { cursor } = samples;
  const cases: [string, () => Promise<unknown>][] = [
    ["package list", () => repo.list({ package: samples.pkg, limit: PAGE })],
    ...(cursor ? [["package list, page 2", () => repo.list({ package: samples.pkg, limit: PAGE, cursor })] as [string, () => Promise<unknown>]] : []),
    ["nvr list", () => repo.list({ nvr: samples.nvr, limit: PAGE })],
  ];
  try {
    for (const [name, run] of cases) {
      queries.length = 0;
      await run();
      console.log(`\n${name}:`);
      for (const q of queries) {
        const stmt = db.prepare(q.sql);
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as { detail: string }[];
        console.log(`  SQL: ${shortSql(q.sql)}`);
        console.log(`  params: ${JSON.stringify(q.params).slice(0, 120)}`);
        console.log(`  plan: ${plan.map((p) => p.detail).join(" | ")}`);
        console.log(`  raw better-sqlite3 time: median ${ms(medianMs(() => stmt.all(...q.params), 15))}`);
      }
    }
  } finally {
    db.close();
    stopObserving();
    await store.close();
  }
}

/** The SQL with its column lists and long IN lists folded, so that the WHERE clause shows. */
function shortSql(sql: string): string {
  return sql
    .replace(/`main`\./g, "")
    .replace(/^SELECT .*? FROM/, "SELECT … FROM")
    .replace(/\((\?,){3,}\?\)/g, (m) => `(?×${m.split("?").length - 1})`);
}

/** Median time of up to `times` runs, stopping early after two seconds (a full scan takes long at a million rows). */
function medianMs(run: () => unknown, times: number): number {
  const samples: number[] = [];
  const deadline = performance.now() + 2_000;
  for (let i = 0; i < times && (i < 3 || performance.now() < deadline); i++) {
    const t = performance.now();
    run();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "relengd-bench-query-"));
  const file = path.join(dir, "relengd.db");
  const databaseUrl = `file:${file}`;
  console.log(`query benchmark: ${TOTAL.toLocaleString("en")} artifacts over ${PACKAGES.toLocaleString("en")} packages, node ${process.version}, ${os.cpus().length} cores`);
  console.log(`database ${file}`);

  await migrate(databaseUrl);
  const [formatName, writeTimestamp] = await probeTimestampFormat(databaseUrl, file);
  console.log(`the store writes DateTime as ${formatName}; seeding with the same`);
  const seedStarted = performance.now();
  seed(file, writeTimestamp);
  console.log(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s, file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);

  const server = await startRelengd(databaseUrl, "reader");
  try {
    const check = await server.artifacts.get("fedora-ci-1");
    if (!check || check.createdAt.getTime() !== seedCreatedAt(1).getTime()) throw new Error("a seeded artifact does not read back through the store with its createdAt");
    console.log("a seeded artifact reads back through the store with its createdAt: ok\n");

    const { list, samples } = await endpoints(file, server);
    const headers = { authorization: `Bearer ${server.token}` };
    const measure = async (e: Endpoint, seconds: number, round: number): Promise<LoadResult> => {
      const result = await runLoad({ title: `${e.name} #${round}`, url: server.url, connections: 1, durationSeconds: seconds, headers, requests: { kind: "paths", paths: e.paths } });
      if (!(await server.settle())) console.log(`  ${e.name}: server still busy after 60 s`);
      return result;
    };
    for (const e of list) await measure(e, 1, 0);
    const results = new Map<string, LoadResult[]>(list.map((e) => [e.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const e of list) {
        results.get(e.name)?.push(await measure(e, SECONDS, round));
        await pause(200);
      }
    }

    const summaries = new Map<EndpointKey, LatencySummary>(list.map((e) => [e.key, summarizeLatencies((results.get(e.name) ?? []).map((r) => r.latenciesMs))]));
    const base = summaries.get("healthz");
    const byId = summaries.get("byId");
    const target = summaries.get("package");
    if (!base || !byId || !target) throw new Error("baseline or package-list measurements are missing");
    console.log(`sequential requests over HTTP keep-alive (autocannon, 1 connection, load generator in a worker thread), ${ROUNDS} × ${SECONDS} s each:`);
    const rows = list.map((e) => {
      const s = summaries.get(e.key) ?? base;
      const runs = results.get(e.name) ?? [];
      const non2xx = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      return [e.name, String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ratio(s.p50, base.p50), ratio(s.p95, base.p95), ratio(s.p95, byId.p95), String(non2xx)];
    });
    console.log(table([["endpoint", "requests", "p50", "p95", "p99", "p50/healthz", "p95/healthz", "p95/by-id", "non-2xx"], ...rows]));
    console.log(`\n${verdict(target.p95 <= MAX_P95_MS)}  package list p95 ≤ ${MAX_P95_MS} ms (${ms(target.p95)})`);
    for (const e of list) benchLine(`query-${e.key}`, "p95-ms", summaries.get(e.key)?.p95 ?? Number.NaN, "lower");
    benchLine("query-package", "p95-vs-by-id", target.p95 / byId.p95, "lower");

    await explain(databaseUrl, file, samples);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
