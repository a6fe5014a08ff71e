// Benchmark: the candidate ways from the store to its database (bench/storePaths.ts) on three
// workloads — (a) ingest: a transaction inserting an artifact and 2 builds and reading it back by
// id; (b) list: the newest 50 artifacts of a package; (c) status: a transaction updating one
// release's status by id — on SQLite (a temp file, migrated, opened as the server opens it) and
// on PostgreSQL when BENCH_DATABASE_URL is set (a schema of its own, dropped afterwards).
// Operations run one after another; each cell (workload × path) runs BENCH_SECONDS (default 3)
// in all, split over BENCH_ROUNDS rounds (default 2), every other round in the reverse path
// order, so that a slow spell of the shared machine falls on every path alike. Reported per cell: ops/s, p50 and p99 of every operation's
// time, this process's CPU time per operation (user + system, libuv's threads included; not the
// PostgreSQL server's), and the ratios to path 2 (the SQL runner, today's fast path).
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { openDatabase, parseDatabaseUrl, sqlTimestamp, type Database } from "../src/store/database.js";
import { migrate } from "../src/store/migrator.js";
import { sqlRunnerOf, valuesList, type SqlValue } from "../src/store/sql.js";
import { ms, summarizeLatencies, table } from "./load.js";
import { candidatePaths, LIST_PAGE, type ArtifactInput, type StorePath } from "./storePaths.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be a positive number, not ${process.env.BENCH_SECONDS}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, not ${process.env.BENCH_ROUNDS}`);
const WARMUP_SECONDS = Math.min(1, SECONDS / 4);
const LIST_PACKAGES = 100;
const PER_LIST_PACKAGE = 200;
const RELEASES = 2000;
const BASE_PATH = "2";

type WorkloadKey = "ingest" | "list" | "status";
const WORKLOADS: { key: WorkloadKey; title: string }[] = [
  { key: "ingest", title: "(a) ingest" },
  { key: "list", title: "(b) list" },
  { key: "status", title: "(c) status" },
];

interface Cell {
  samples: Float64Array[];
  wallMs: number;
  cpuMicros: number;
  ops: number;
}

// A ~1.2 KB body, the size of the ingest bench's Fedora-CI artifact; its content does not matter here.
const BODY = JSON.stringify({ apiVersion: "relengd/v1", kind: "Artifact", padding: "x".repeat(1100) });
const BODY_HASH = createHash("sha256").update(BODY).digest("hex");
let sequence = 0;
/** Ingest operations made on the current target, warm-ups included. */
let ingests = 0;

function artifact(pkg: string): ArtifactInput {
  const n = sequence++;
  const nvr = `${pkg}-1.0-${n}.fc44`;
  return {
    id: `sp-${process.pid}-${n}`,
    package: pkg,
    release: "rawhide",
    sourceRepo: `https://src.fedoraproject.org/rpms/${pkg}`,
    sourceSha: createHash("sha1").update(String(n)).digest("hex"),
    sourceBranch: "rawhide",
    sourceEvent: "push",
    createdAt: new Date(),
    bodyHash: BODY_HASH,
    body: BODY,
    builds: [
      { nvr, name: pkg },
      { nvr: `${pkg}-devel-1.0-${n}.fc44`, name: `${pkg}-devel` },
    ],
  };
}

const listPackage = (i: number) => `list-pkg-${i % LIST_PACKAGES}`;
const releaseId = (i: number) => `sp-release-${i % RELEASES}`;
const STATUSES = ["committed", "pushed", "queued"];

/** One operation of a workload on a path; throws when its result is not what the workload asked for. */
async function operation(p: StorePath, workload: WorkloadKey, i: number): Promise<void> {
  switch (workload) {
    case "ingest": {
      const a = artifact(`ingest-pkg-${i % 500}`);
      ingests++;
      const row = await p.ingest(a);
      if (row.id !== a.id || row.body !== a.body) throw new Error(`path ${p.key}: ingest read back ${row.id}, not ${a.id}`);
      return;
    }
    case "list": {
      const rows = await p.list(listPackage(i));
      if (rows.length !== LIST_PAGE) throw new Error(`path ${p.key}: list gave ${rows.length} rows, not ${LIST_PAGE}`);
      return;
    }
    case "status": {
      const changed = await p.setStatus(releaseId(i), STATUSES[i % STATUSES.length] ?? "queued", new Date());
      if (changed !== 1) throw new Error(`path ${p.key}: status update changed ${changed} rows, not 1`);
      return;
    }
  }
}

/** Runs operations for `seconds`, at least 20 of them (JIT, statement caches, Prisma's plan cache). */
async function warmUp(p: StorePath, workload: WorkloadKey, seconds: number): Promise<void> {
  const started = performance.now();
  for (let n = 0; n < 20 || performance.now() - started < seconds * 1000; n++) await operation(p, workload, n);
}

/** Runs operations for `seconds` (at least 20), timing each. */
async function measure(p: StorePath, workload: WorkloadKey, seconds: number, into: Cell): Promise<void> {
  const times: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  for (let i = 0; i < 20 || performance.now() < until; i++) {
    const t = performance.now();
    await operation(p, workload, i);
    times.push(performance.now() - t);
  }
  into.wallMs += performance.now() - started;
  const used = process.cpuUsage(cpu);
  into.cpuMicros += used.user + used.system;
  into.ops += times.length;
  into.samples.push(Float64Array.from(times));
}

/** Seeds the list workload's artifacts and the status workload's releases through the SQL runner. */
async function seed(db: Database): Promise<void> {
  const provider = db.target.provider;
  const runner = sqlRunnerOf(db.prisma);
  const columns = 10;
  const perStatement = Math.floor(999 / columns);
  const all: ArtifactInput[] = [];
  for (let n = 0; n < PER_LIST_PACKAGE; n++) for (let p = 0; p < LIST_PACKAGES; p++) all.push(artifact(listPackage(p)));
  const holder = artifact("release-holder");
  all.push(holder);
  const chunks: ArtifactInput[][] = [];
  for (let i = 0; i < all.length; i += perStatement) chunks.push(all.slice(i, i + perStatement));
  for (let i = 0; i < chunks.length; i += 20) {
    await runner.transaction(async (tx) => {
      for (const chunk of chunks.slice(i, i + 20)) {
        await tx.run(
          `INSERT INTO "Artifact" ("id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body") VALUES ${valuesList(chunk.length, columns)}`,
          chunk.flatMap((a): SqlValue[] => [a.id, a.package, a.release, a.sourceRepo, a.sourceSha, a.sourceBranch, a.sourceEvent, sqlTimestamp(provider, a.createdAt), a.bodyHash, a.body]),
        );
      }
    });
  }
  const now = sqlTimestamp(provider, new Date());
  const releaseColumns = 11;
  const perRelease = Math.floor(999 / releaseColumns);
  await runner.transaction(async (tx) => {
    for (let i = 0; i < RELEASES; i += perRelease) {
      const ids = Array.from({ length: Math.min(perRelease, RELEASES - i) }, (_, j) => releaseId(i + j));
      await tx.run(
        `INSERT INTO "Release" ("id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "status", "createdAt", "updatedAt") VALUES ${valuesList(ids.length, releaseColumns)}`,
        ids.flatMap((id): SqlValue[] => [id, holder.id, "rawhide", "file:///bench/gitops", "main", holder.package, "policy/bench", "bench", "queued", now, now]),
      );
    }
  });
}

interface Target {
  label: string;
  url: string;
  cleanup(): Promise<void>;
  describe(): Promise<string>;
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(path.join(os.tmpdir(), "relengd-store-paths-"));
  const file = path.join(dir, "store.db");
  return {
    label: "SQLite",
    url: `file:${file}`,
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    describe: () => {
      const conn = new BetterSqlite3(":memory:");
      try {
        const { v } = conn.prepare("SELECT sqlite_version() AS v").get() as { v: string };
        return Promise.resolve(`SQLite ${v} (better-sqlite3), temp file in ${os.tmpdir()}`);
      } finally {
        conn.close();
      }
    },
  };
}

function postgresTarget(base: string): Target {
  const schema = `bench_store_paths_${process.pid}`;
  const u = new URL(base);
  u.searchParams.set("schema", schema);
  const location = parseDatabaseUrl(u.toString()).location;
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: location });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    label: "PostgreSQL",
    url: u.toString(),
    cleanup: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined)),
    describe: () => admin(async (c) => `${(await c.query<{ v: string }>("SELECT version() AS v")).rows[0]?.v.split(" on ")[0] ?? "PostgreSQL"}, 127.0.0.1, schema ${schema}`),
  };
}

interface Result {
  workload: string;
  path: StorePath;
  cell: Cell;
}

async function benchTarget(target: Target): Promise<Result[]> {
  console.log(`\n== ${target.label}: ${await target.describe()}`);
  ingests = 0;
  try {
    await migrate(target.url);
    const db = await openDatabase(target.url);
    const paths = candidatePaths(db);
    try {
      let t = performance.now();
      await seed(db);
      console.log(`seeded ${LIST_PACKAGES * PER_LIST_PACKAGE} artifacts (${LIST_PACKAGES} packages) and ${RELEASES} releases in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      t = performance.now();
      for (const w of WORKLOADS) for (const p of paths) await warmUp(p, w.key, WARMUP_SECONDS);
      console.log(`rows read back (seq, createdAt): ${(await shapes(paths)).join("; ")}`);
      console.log(`warmed up every cell (${WARMUP_SECONDS} s each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const cells = new Map<string, Cell>();
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? paths : [...paths].reverse();
        for (const w of WORKLOADS) {
          for (const p of order) {
            const id = `${w.key}/${p.key}`;
            let cell = cells.get(id);
            if (!cell) cells.set(id, (cell = { samples: [], wallMs: 0, cpuMicros: 0, ops: 0 }));
            await measure(p, w.key, SECONDS / ROUNDS, cell);
          }
        }
        console.log(`round ${round + 1} done (load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})`);
      }
      await verify(db);
      return WORKLOADS.flatMap((w) => paths.map((p) => ({ workload: w.key, path: p, cell: cells.get(`${w.key}/${p.key}`) as Cell })));
    } finally {
      for (const p of paths) await p.close();
      await db.close();
    }
  } finally {
    await target.cleanup();
  }
}

/** What each path hands back for an Integer and a DateTime column: the typed paths' types say `number` and `Date | string`. */
async function shapes(paths: StorePath[]): Promise<string[]> {
  const kind = (v: unknown) => (v instanceof Date ? "Date" : typeof v);
  const out: string[] = [];
  for (const p of paths) {
    const a = artifact("ingest-pkg-shape");
    ingests++;
    const row = await p.ingest(a);
    out.push(`(${p.key}) ${kind(row.seq)}, ${kind(row.createdAt)}${typeof row.createdAt === "string" ? ` "${row.createdAt}"` : ""}`);
  }
  return out;
}

/** Every ingest, whichever path made it, left one artifact with its two builds. */
async function verify(db: Database): Promise<void> {
  const artifacts = await db.prisma.artifact.count({ where: { package: { startsWith: "ingest-pkg-" } } });
  const builds = await db.prisma.artifactBuild.count({ where: { artifact: { package: { startsWith: "ingest-pkg-" } } } });
  if (artifacts !== ingests || builds !== artifacts * 2) throw new Error(`after the run: ${artifacts} ingested artifacts, ${builds} builds (${ingests} ingests made)`);
  console.log(`verified: ${artifacts} ingested artifacts, ${builds} builds`);
}

function report(label: string, results: Result[]): string[][] {
  const rows: string[][] = [];
  for (const w of WORKLOADS) {
    const cells = results.filter((r) => r.workload === w.key);
    const base = cells.find((r) => r.path.key === BASE_PATH)?.cell;
    const rate = (c: Cell) => c.ops / (c.wallMs / 1000);
    const cpu = (c: Cell) => c.cpuMicros / c.ops;
    for (const r of cells) {
      const lat = summarizeLatencies(r.cell.samples);
      rows.push([
        label,
        w.title,
        `(${r.path.key}) ${r.path.title}`,
        String(r.cell.ops),
        rate(r.cell).toFixed(0),
        base ? `${(rate(r.cell) / rate(base)).toFixed(2)}×` : "n/a",
        ms(lat.p50),
        ms(lat.p99),
        `${cpu(r.cell).toFixed(0)} µs`,
        base ? `${(cpu(r.cell) / cpu(base)).toFixed(2)}×` : "n/a",
        `${((r.cell.cpuMicros / 1000 / r.cell.wallMs) * 100).toFixed(0)} %`,
      ]);
    }
  }
  return rows;
}

const HEADER = ["db", "workload", "path", "ops", "ops/s", "ops/s ÷ (2)", "p50", "p99", "CPU/op", "CPU ÷ (2)", "CPU/wall"];

async function main(): Promise<void> {
  const started = new Date();
  console.log(`store paths bench: ${started.toISOString()}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`${SECONDS} s per cell over ${ROUNDS} rounds (every other one in reverse path order), warm-up ${WARMUP_SECONDS} s per cell`);
  const targets = [sqliteTarget()];
  const pgUrl = process.env.BENCH_DATABASE_URL;
  if (pgUrl) targets.push(postgresTarget(pgUrl));
  else console.log("PostgreSQL skipped: set BENCH_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)");
  const rows: string[][] = [];
  for (const target of targets) rows.push(...report(target.label, await benchTarget(target)));
  console.log(`\n${table([HEADER, ...rows])}`);
  console.log(`\n| ${HEADER.join(" | ")} |\n|${HEADER.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`\nfinished ${new Date().toISOString()} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
}

await main();
