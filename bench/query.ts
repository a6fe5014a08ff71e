// Benchmark: listing one package's artifacts among BENCH_ARTIFACTS (default 1,000,000) stored on SQLite, or PostgreSQL with BENCH_DATABASE_URL, against /healthz and GET-by-id in the same run.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { artifactDigest, artifactSchema, digestOfRendered, kojiBuilds, parseNvrName, renderArtifact, type Artifact } from "../src/domain/artifact.js";
import { ArtifactRepository } from "../src/store/artifactRepository.js";
import { parseDatabaseUrl, pgSearchPathOption } from "../src/store/databaseUrl.js";
import { migrate } from "../src/store/migrator.js";
import { observeStatements, openStore, stamp } from "../src/store/store.js";
import { seedArtifact, seedPackageName } from "./fedoraArtifacts.js";
import { benchLine, ms, pause, ratio, runLoad, summarizeLatencies, table, verdict, type LatencySummary, type LoadResult } from "./load.js";
import { benchDatabase, startRelengd, type BenchDatabase, type BenchServer } from "./relengdServer.js";
import { prng } from "./prng.js";

const TOTAL = Number(process.env.BENCH_ARTIFACTS ?? 1_000_000);
if (!Number.isInteger(TOTAL) || TOTAL < 1) throw new Error(`BENCH_ARTIFACTS must be a positive integer, not ${process.env.BENCH_ARTIFACTS}`);
const PER_PACKAGE = 200;
const PACKAGES = Math.max(1, Math.ceil(TOTAL / PER_PACKAGE));
const postgresUrl = process.env.BENCH_DATABASE_URL;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = 2;
const SEED_TX_ROWS = 20_000;
// PostgreSQL: rows per INSERT … SELECT FROM unnest(…) (one round trip each) and per transaction.
const PG_STATEMENT_ROWS = 5_000;
const PG_TX_ROWS = 200_000;
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

/** Artifact number n of the seed; `random` is the seed's one stream, drawn in order of n on both databases. */
function nextSeedArtifact(n: number, random: () => number): Artifact {
  const a = seedArtifact(n, seedPackageName(Math.floor(random() * PACKAGES)), Math.floor(random() * 4));
  // The generator builds the parsed type directly; check a sample against the real schema.
  if (n % 10_000 === 1 && renderArtifact(artifactSchema.parse(a)) !== renderArtifact(a)) throw new Error(`seed artifact ${n} does not survive parsing`);
  return a;
}

function logSeedProgress(last: number, started: number): void {
  if (last % 200_000 !== 0 && last !== TOTAL) return;
  const s = (performance.now() - started) / 1000;
  console.log(`  seeded ${last.toLocaleString("en")} in ${s.toFixed(1)} s (${Math.round(last / s).toLocaleString("en")}/s)`);
}

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
        insertOne(nextSeedArtifact(n, random), n);
      }
    })();
    logSeedProgress(last, started);
  }
  db.pragma("journal_mode = WAL");
  db.close();
}

/** A pg client on the benchmark's PostgreSQL schema. */
async function pgClient(databaseUrl: string): Promise<pg.Client> {
  const target = parseDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
  await client.connect();
  return client;
}

/** The store's rows of artifacts, as column arrays for unnest(). */
interface PgSeedChunk {
  artifacts: (string | null)[][];
  builds: string[][];
}

/**
 * The columns the store writes (ArtifactRepository.insertIn): createdAt is bound as `stamp()`
 * text, which PostgreSQL reads into timestamp(3) ignoring the +00:00, as it does the store's.
 */
function pgSeedChunk(artifacts: readonly { artifact: Artifact; createdAt: Date }[]): PgSeedChunk {
  const columns: (string | null)[][] = Array.from({ length: 10 }, () => []);
  const builds: string[][] = [[], [], []];
  for (const { artifact: a, createdAt } of artifacts) {
    const body = renderArtifact(a);
    const row = [a.id, a.package, a.release, a.source.repo, a.source.sha, a.source.branch ?? null, a.source.event, stamp(createdAt), digestOfRendered(body), body];
    // sourceBranch is the one nullable column: pg writes null as NULL inside an array.
    row.forEach((v, i) => columns[i]?.push(v));
    for (const b of kojiBuilds(a)) [a.id, b.nvr, parseNvrName(b.nvr)].forEach((v, i) => builds[i]?.push(v));
  }
  return { artifacts: columns, builds };
}

// WITH ORDINALITY … ORDER BY: seq (the keyset) follows the seed's order, as on SQLite.
const PG_INSERT_ARTIFACTS = `INSERT INTO "Artifact" ("id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body")
  SELECT id, package, release, "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", body
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamp(3)[], $9::text[], $10::text[])
    WITH ORDINALITY AS r(id, package, release, "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", body, n)
  ORDER BY n`;
const PG_INSERT_BUILDS = `INSERT INTO "ArtifactBuild" ("artifactId", "nvr", "name")
  SELECT "artifactId", nvr, name FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS r("artifactId", nvr, name, n) ORDER BY n`;

async function pgInsert(client: pg.Client, chunk: PgSeedChunk): Promise<void> {
  await client.query(PG_INSERT_ARTIFACTS, chunk.artifacts);
  await client.query(PG_INSERT_BUILDS, chunk.builds);
}

/** The rows of one artifact as PostgreSQL holds them (seq and the builds' ids left out), to compare two writes of it. */
async function pgStoredRows(client: pg.Client, id: string): Promise<string> {
  const artifact = await client.query(
    `SELECT "id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt"::text AS "createdAt", "bodyHash", "body" FROM "Artifact" WHERE "id" = $1`,
    [id],
  );
  const builds = await client.query(`SELECT "artifactId", "nvr", "name" FROM "ArtifactBuild" WHERE "artifactId" = $1 ORDER BY "id"`, [id]);
  // Two empty answers would compare equal.
  if (artifact.rows.length !== 1 || builds.rows.length === 0) throw new Error(`artifact ${id}: ${artifact.rows.length} rows, ${builds.rows.length} builds stored`);
  return JSON.stringify({ artifact: artifact.rows, builds: builds.rows });
}

/**
 * Stores one artifact through the store and the same through the seed's statements, and
 * fails unless PostgreSQL holds the same rows for both (body, bodyHash, createdAt included).
 */
async function probePostgresSeed(databaseUrl: string): Promise<void> {
  const db = await openStore(databaseUrl);
  const probe = artifactSchema.parse(seedArtifact(0, "probe", 0));
  const outcome = await new ArtifactRepository(db).ingest(probe);
  await db.close();
  if (outcome.status !== "created") throw new Error(`probe artifact was not created: ${outcome.status}`);
  const client = await pgClient(databaseUrl);
  try {
    const byStore = await pgStoredRows(client, probe.id);
    await client.query(`DELETE FROM "Artifact" WHERE "id" = $1`, [probe.id]);
    await pgInsert(client, pgSeedChunk([{ artifact: probe, createdAt: outcome.createdAt }]));
    const bySeed = await pgStoredRows(client, probe.id);
    await client.query(`DELETE FROM "Artifact" WHERE "id" = $1`, [probe.id]);
    if (bySeed !== byStore) throw new Error(`the seed writes other rows than the store:\n  store ${byStore}\n  seed  ${bySeed}`);
  } finally {
    await client.end();
  }
}

/**
 * Inserts TOTAL artifacts with multi-row INSERT … SELECT FROM unnest(…), PG_TX_ROWS to a
 * transaction; the next statement's rows are rendered while PostgreSQL inserts the last ones.
 */
async function seedPostgres(databaseUrl: string): Promise<void> {
  const client = await pgClient(databaseUrl);
  try {
    const random = prng(41);
    const started = performance.now();
    const chunkOf = (first: number, last: number): PgSeedChunk => {
      const rows: { artifact: Artifact; createdAt: Date }[] = [];
      for (let n = first; n <= last; n++) rows.push({ artifact: nextSeedArtifact(n, random), createdAt: seedCreatedAt(n) });
      return pgSeedChunk(rows);
    };
    for (let txFirst = 1; txFirst <= TOTAL; txFirst += PG_TX_ROWS) {
      const txLast = Math.min(TOTAL, txFirst + PG_TX_ROWS - 1);
      await client.query("BEGIN");
      let inserting: Promise<void> = Promise.resolve();
      for (let first = txFirst; first <= txLast; first += PG_STATEMENT_ROWS) {
        const chunk = chunkOf(first, Math.min(txLast, first + PG_STATEMENT_ROWS - 1));
        await inserting;
        inserting = pgInsert(client, chunk);
      }
      await inserting;
      await client.query("COMMIT");
      logSeedProgress(txLast, started);
    }
    // VACUUM too: it sets the rows' hint bits and the visibility map, as autovacuum does soon
    // after a live table's inserts. Without it the measured requests are the first to read each
    // row since the load, and dirty every page they touch (a cost production does not see, and
    // the test servers here run with autovacuum off).
    const analyzeStarted = performance.now();
    await client.query(`VACUUM (ANALYZE) "Artifact", "ArtifactBuild", "ArtifactResult"`);
    const size = await client.query<{ size: string }>(`SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`);
    // Against the server's page cache: a package list reads one heap page per row.
    const buffers = await client.query<{ shared_buffers: string }>("SHOW shared_buffers");
    console.log(`  VACUUM (ANALYZE) in ${((performance.now() - analyzeStarted) / 1000).toFixed(1)} s; schema's tables with indexes and TOAST: ${size.rows[0]?.size ?? "?"}; shared_buffers ${buffers.rows[0]?.shared_buffers ?? "?"}`);
  } finally {
    await client.end();
  }
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
  /** Two packages no measured request asked for, when there are (their rows are not in any cache the runs warmed). */
  unasked?: [string, string];
}

/** The endpoints with their sample paths: random packages, ids and NVRs that exist, second-page cursors. */
async function endpoints(database: BenchDatabase, server: BenchServer): Promise<{ list: Endpoint[]; samples: Samples }> {
  const random = prng(7);
  const pick = (count: number, max: number) => Array.from({ length: count }, () => 1 + Math.floor(random() * max));
  const packages = pick(500, PACKAGES).map((i) => seedPackageName(i - 1));
  const rows = await seededBuilds(database, pick(500, TOTAL).map((n) => `fedora-ci-${n}`));

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
    samples: { pkg: first?.pkg ?? packages[0] ?? "", ...(first ? { cursor: first.cursor } : {}), nvr: rows[0]?.nvr ?? "", ...unaskedPackages(packages) },
  };
}

function unaskedPackages(asked: readonly string[]): { unasked?: [string, string] } {
  const set = new Set(asked);
  const unasked: string[] = [];
  for (let i = 0; i < PACKAGES && unasked.length < 2; i++) if (!set.has(seedPackageName(i))) unasked.push(seedPackageName(i));
  const [a, b] = unasked;
  return a !== undefined && b !== undefined ? { unasked: [a, b] } : {};
}

/** Captures the SQL the store sends for the list queries and shows SQLite's plan and raw time for each. */
async function explain(database: BenchDatabase, samples: Samples): Promise<void> {
  const store = await openStore(database.url);
  const queries: { sql: string; params: unknown[] }[] = [];
  const stopObserving = observeStatements((sql, _binds, params) => queries.push({ sql, params: [...params] }));
  const repo = new ArtifactRepository(store);
  const explainer = database.provider === "sqlite" ? sqliteExplainer(parseDatabaseUrl(database.url).location) : await postgresExplainer(database.url);
  const { cursor, unasked } = samples;
  type Case = [name: string, run: () => Promise<unknown>, explainWith?: (params: unknown[]) => unknown[]];
  const cases: Case[] = [
    ["package list", () => repo.list({ package: samples.pkg, limit: PAGE })],
    ...(cursor ? [["package list, page 2", () => repo.list({ package: samples.pkg, limit: PAGE, cursor })] as Case] : []),
    // Capturing the statement reads the package's rows, so another unasked package is explained.
    ...(unasked
      ? [[`package list of a package no measured request asked for (${unasked[1]})`, () => repo.list({ package: unasked[0], limit: PAGE }), (params) => params.map((p) => (p === unasked[0] ? unasked[1] : p))] as Case]
      : []),
    ["nvr list", () => repo.list({ nvr: samples.nvr, limit: PAGE })],
  ];
  try {
    for (const [name, run, explainWith] of cases) {
      queries.length = 0;
      await run();
      console.log(`\n${name}:`);
      // The unasked package's first statement alone: the results query names the other package's ids.
      for (const q of explainWith ? queries.slice(0, 1) : queries) {
        const params = explainWith ? explainWith(q.params) : q.params;
        console.log(`  SQL: ${shortSql(q.sql)}`);
        console.log(`  params: ${JSON.stringify(params).slice(0, 120)}`);
        await explainer.show(q.sql, params);
      }
    }
  } finally {
    await explainer.close();
    stopObserving();
    await store.close();
  }
}

/** The SQL with its column lists and long IN lists folded, so that the WHERE clause shows. */
function shortSql(sql: string): string {
  return sql
    .replace(/`main`\./g, "")
    .replace(/^SELECT .*? FROM/, "SELECT … FROM")
    .replace(/\((\?,){3,}\?\)/g, (m) => `(?×${m.split("?").length - 1})`)
    .replace(/\((\$\d+, ){3,}\$\d+\)/g, (m) => `($…×${m.split("$").length - 1})`);
}

interface Explainer {
  /** Prints the database's plan of one statement and how long it takes run directly. */
  show(sql: string, params: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteExplainer(file: string): Explainer {
  const db = new BetterSqlite3(file, { readonly: true });
  return {
    async show(sql, params) {
      const stmt = db.prepare(sql);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      console.log(`  plan: ${plan.map((p) => p.detail).join(" | ")}`);
      console.log(`  raw better-sqlite3 time: median ${ms(medianMs(() => stmt.all(...params), 15))}`);
    },
    async close() {
      db.close();
    },
  };
}

async function postgresExplainer(databaseUrl: string): Promise<Explainer> {
  const client = await pgClient(databaseUrl);
  return {
    async show(sql, params) {
      const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [...params]);
      console.log(`  plan (EXPLAIN (ANALYZE, BUFFERS)):`);
      // The results query's filter lists all 50 ids: cut so that the plan's shape shows.
      for (const row of plan.rows) console.log(`    ${row["QUERY PLAN"].length > 200 ? `${row["QUERY PLAN"].slice(0, 200)}…` : row["QUERY PLAN"]}`);
      const samples: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        await client.query(sql, [...params]);
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      console.log(`  raw pg time (one round trip): median ${ms(samples[Math.floor(samples.length / 2)] ?? Number.NaN)}`);
    },
    close: () => client.end(),
  };
}

/** The id and NVR of each of these seeded artifacts, read straight from the database. */
async function seededBuilds(database: BenchDatabase, ids: readonly string[]): Promise<{ id: string; nvr: string }[]> {
  const sql = `SELECT a."id" AS id, b."nvr" AS nvr FROM "Artifact" a JOIN "ArtifactBuild" b ON b."artifactId" = a."id" WHERE a."id" = `;
  const found: ({ id: string; nvr: string } | undefined)[] = [];
  if (database.provider === "sqlite") {
    const db = new BetterSqlite3(parseDatabaseUrl(database.url).location, { readonly: true });
    try {
      const byId = db.prepare(`${sql}?`);
      for (const id of ids) found.push(byId.get(id) as { id: string; nvr: string } | undefined);
    } finally {
      db.close();
    }
  } else {
    const client = await pgClient(database.url);
    try {
      for (const id of ids) found.push((await client.query<{ id: string; nvr: string }>(`${sql}$1`, [id])).rows[0]);
    } finally {
      await client.end();
    }
  }
  return found.map((row, i) => {
    if (!row) throw new Error(`seeded artifact ${ids[i] ?? "?"} is not in the database`);
    return row;
  });
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
  const database = benchDatabase(dir, "query", postgresUrl);
  const suffix = database.provider === "postgresql" ? "-postgresql" : "";
  console.log(`query benchmark: ${TOTAL.toLocaleString("en")} artifacts over ${PACKAGES.toLocaleString("en")} packages, node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`database ${database.where}`);
  const stopDroppingOnSignal = dropOnSignal(database, () => rmSync(dir, { recursive: true, force: true }));
  try {
    await migrate(database.url);
    const seedStarted = performance.now();
    if (database.provider === "sqlite") {
      const file = parseDatabaseUrl(database.url).location;
      const [formatName, writeTimestamp] = await probeTimestampFormat(database.url, file);
      console.log(`the store writes DateTime as ${formatName}; seeding with the same`);
      seed(file, writeTimestamp);
      console.log(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s, file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
    } else {
      await probePostgresSeed(database.url);
      console.log("an artifact stored by the seed's statements has the same rows as one stored by the store: ok; seeding");
      await seedPostgres(database.url);
      console.log(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    }
    await measure(database, suffix);
  } finally {
    stopDroppingOnSignal();
    // An interrupted run's database is dropped by the signal's handler (this run's connections
    // ended under it, which is how the work above came to fail).
    if (!interruption) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Every pg connection of this run (the store's pool, the seed's client) carries this name, so
// that an interrupted run can end them: their open transaction would hold DROP SCHEMA back.
const PG_APPLICATION_NAME = `relengd-bench-query-${process.pid}`;
process.env.PGAPPNAME = PG_APPLICATION_NAME;

/**
 * On Ctrl-C or SIGTERM, drops the database before exiting (a million-artifact schema is a few
 * GB): first ends this run's other PostgreSQL connections, which may be inside a transaction.
 */
let interruption: Promise<void> | undefined;

function dropOnSignal(database: BenchDatabase, removeTempDir: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`\n${signal}: dropping ${database.where}`);
    const endOthers = async () => {
      if (database.provider !== "postgresql") return;
      const client = await pgClient(database.url);
      await client
        .query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, [PG_APPLICATION_NAME])
        .finally(() => client.end());
    };
    interruption = endOthers()
      .then(() => database.drop())
      .then(removeTempDir)
      .catch((err: unknown) => console.error(`could not drop ${database.where}:`, err))
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** Serves relengd on the seeded database and measures every endpoint; then explains the list queries. */
async function measure(database: BenchDatabase, suffix: string): Promise<void> {
  const server = await startRelengd(database.url, "reader");
  try {
    const check = await server.artifacts.get("fedora-ci-1");
    if (!check || check.createdAt.getTime() !== seedCreatedAt(1).getTime()) throw new Error("a seeded artifact does not read back through the store with its createdAt");
    console.log("a seeded artifact reads back through the store with its createdAt: ok\n");

    const { list, samples } = await endpoints(database, server);
    const headers = { authorization: `Bearer ${server.token}` };
    const run = async (e: Endpoint, seconds: number, round: number): Promise<LoadResult> => {
      const result = await runLoad({ title: `${e.name} #${round}`, url: server.url, connections: 1, durationSeconds: seconds, headers, requests: { kind: "paths", paths: e.paths } });
      if (!(await server.settle())) console.log(`  ${e.name}: server still busy after 60 s`);
      return result;
    };
    for (const e of list) await run(e, 1, 0);
    const results = new Map<string, LoadResult[]>(list.map((e) => [e.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const e of list) {
        results.get(e.name)?.push(await run(e, SECONDS, round));
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
    console.log(`\n${verdict(target.p95 <= MAX_P95_MS)}  package list p95 ≤ ${MAX_P95_MS} ms on ${database.provider} (${ms(target.p95)}), load average now ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    for (const e of list) benchLine(`query-${e.key}${suffix}`, "p95-ms", summaries.get(e.key)?.p95 ?? Number.NaN, "lower");
    benchLine(`query-package${suffix}`, "p95-vs-by-id", target.p95 / byId.p95, "lower");

    await explain(database, samples);
  } finally {
    await server.close();
  }
}

try {
  await main();
} catch (err) {
  // Interrupted: the handler exits once the database is dropped; its error is not this run's.
  if (interruption) await new Promise<never>(() => undefined);
  throw err;
}
