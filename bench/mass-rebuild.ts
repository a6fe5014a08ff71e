// bench/mass-rebuild: 25,000 one-build artifacts pushed over HTTP with the shipped policies; the
// mass-rebuild policy fires for each and the writer pushes every document (bulk commits).
//
// The server is a real `relengd serve` process, run the way `npm start` runs it (compiled dist/,
// SQLite file, local bare remote), so its RSS is the server's alone: the peak is the kernel's
// high-water mark (VmHWM), not a sample. The load generator is a third process
// (bench/massRebuildLoad.ts). Beside it, in the same run: a `git fast-import` of the same
// 25,000 files in commits of the writer's batch size. With BENCH_DATABASE_URL the whole run is
// done again on PostgreSQL (a schema of its own, migrated first, dropped afterwards), with its
// own fast-import baseline; BENCH_PROVIDERS=postgresql runs that one alone.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { TokenService } from "../src/auth/tokens.js";
import { ensureBareRepository } from "../src/gitops/repository.js";
import { parseDatabaseUrl, pgSearchPathOption, type Provider } from "../src/store/databaseUrl.js";
import { migrate } from "../src/store/migrator.js";
import { freePort } from "../test/support/serverProcess.js";
import { git } from "./gitopsFixture.js";
import { benchLine } from "./load.js";
import { benchDatabase, onEachProvider } from "./relengdServer.js";

const COUNT = Number(process.env.BENCH_ARTIFACTS ?? 25_000);
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BATCH = Number(process.env.BENCH_WRITER_BATCH ?? 1000); // the writer's batch size (the server's default): one bulk commit each
const root = path.resolve(import.meta.dirname, "..");
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
/** End to end, per database: PostgreSQL's commits are round trips to another process. */
const TARGET_SECONDS: Record<Provider, number> = { sqlite: 60, postgresql: 90 };
const RSS_TARGET_MB = 250;

/**
 * CPU seconds (user + system) a process has used, and those of its children it has reaped (the
 * server's git commands), from /proc: steadier than wall time on a busy machine.
 */
function cpuSecondsOf(pid: number): { own: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  // After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based),
  // in clock ticks of 1/100 s.
  return { own: (Number(fields[11]) + Number(fields[12])) / 100, children: (Number(fields[13]) + Number(fields[14])) / 100 };
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/**
 * Releases recorded pushed, read beside the server: on SQLite from the file (read-only
 * connection), on PostgreSQL through a connection of its own to the bench's schema.
 */
async function pushedCounter(databaseUrl: string): Promise<{ count(): Promise<number>; close(): Promise<void> }> {
  const target = parseDatabaseUrl(databaseUrl);
  const sql = `SELECT count(*) AS n FROM "Release" WHERE "status" = 'pushed'`;
  if (target.provider === "sqlite") {
    const db = new Database(target.location, { readonly: true });
    const statement = db.prepare<[], { n: number }>(sql);
    return { count: async () => statement.get()?.n ?? 0, close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
  await client.connect();
  return {
    count: async () => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0),
    close: () => client.end(),
  };
}

async function run(provider: Provider, postgresUrl?: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `relengd-mass-rebuild-${provider}-`));
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  const database = benchDatabase(dir, "mass_rebuild", provider === "postgresql" ? postgresUrl : undefined);
  const suffix = provider === "postgresql" ? "-postgresql" : "";
  const targetSeconds = TARGET_SECONDS[provider];
  const secret = randomBytes(32).toString("hex");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RELENGD_PORT: String(port),
    RELENGD_DATA_DIR: dir,
    RELENGD_DATABASE_URL: database.url,
    RELENGD_GITOPS_REPO: remote,
    RELENGD_POLICIES_DIR: path.join(root, "policies"),
    RELENGD_TOKEN_SECRET: secret,
    RELENGD_WRITER_BATCH_SIZE: String(BATCH),
    RELENGD_LOG_LEVEL: process.env.BENCH_LOG ?? "warn",
    // GIT_TRACE2_PERF=/path times every git command the server runs.
    ...(process.env.GIT_TRACE2_PERF ? { GIT_TRACE2_PERF: process.env.GIT_TRACE2_PERF } : {}),
    ...(process.env.GIT_TRACE2_EVENT ? { GIT_TRACE2_EVENT: process.env.GIT_TRACE2_EVENT } : {}),
  };
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --trace-gc", looks inside the server during a run.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  let server: ChildProcess | undefined;
  let pushedCount: Awaited<ReturnType<typeof pushedCounter>> | undefined;
  try {
    // Migrated before the server starts (it would migrate too), so its start is the same on both.
    await migrate(database.url);
    // The node flags npm start runs the server with, then the bench's own (later ones win).
    server = spawn(process.execPath, ["--max-semi-space-size=8", ...nodeArgs, path.join(root, "bin/relengd.js"), "serve"], { cwd: dir, env, stdio: ["ignore", process.env.BENCH_SERVER_NODE_ARGS ? "inherit" : "ignore", "inherit"] });
    const pid = server.pid;
    if (pid === undefined) throw new Error("relengd serve did not start");
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (server.exitCode !== null) throw new Error(`relengd serve exited with ${server.exitCode}`);
      if (i > 300) throw new Error("relengd serve did not answer /healthz within 30 s");
      await sleep(100);
    }
    const ready = memoryOf(pid);
    const cpuAtReady = cpuSecondsOf(pid);
    const ci = (await new TokenService(secret).issue({ subject: "bench-ci", role: "ci", ttlSeconds: 3600 })).token;
    pushedCount = await pushedCounter(database.url);

    const t0 = performance.now();
    const load = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "massRebuildLoad.ts"), url, ci, String(COUNT), String(CONCURRENCY)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let loadOut = "";
    load.stdout.on("data", (d: Buffer) => (loadOut += d.toString()));
    const code = await new Promise<number | null>((resolve) => load.on("close", resolve));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    const { failures, cpuSeconds: loadCpu } = JSON.parse(loadOut) as { failures: number; cpuSeconds: number };
    const ingestMs = performance.now() - t0;
    const afterIngest = memoryOf(pid);
    for (;;) {
      const pushed = await pushedCount.count();
      if (pushed >= COUNT) break;
      if (server.exitCode !== null || server.signalCode !== null) throw new Error(`relengd serve exited (${server.exitCode ?? server.signalCode}) with ${pushed} of ${COUNT} pushed`);
      if (performance.now() - t0 > 900_000) throw new Error(`only ${pushed} of ${COUNT} pushed after 15 min`);
      await sleep(100);
    }
    const totalMs = performance.now() - t0;
    const end = memoryOf(pid);
    const cpuAtEnd = cpuSecondsOf(pid);
    const serverCpu = cpuAtEnd.own - cpuAtReady.own;
    const gitCpu = cpuAtEnd.children - cpuAtReady.children;
    const files = git(remote, "ls-tree", "-r", "--name-only", "main").trim().split("\n").filter((l) => l.startsWith("koji/tags/f45/bench-pkg-")).length;
    const commits = Number(git(remote, "rev-list", "--count", "main").trim());

    // Baseline: the same files through one git fast-import, commits of BATCH files.
    const bare = path.join(dir, "fast-import.git");
    execFileSync("git", ["init", "--quiet", "--bare", bare]);
    const chunks: string[] = [];
    for (let i = 0; i < COUNT; i += BATCH) {
      const msg = `bulk: ${Math.min(BATCH, COUNT - i)} releases`;
      chunks.push(`commit refs/heads/main\ncommitter bench <bench@localhost> 1764000000 +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`);
      for (let k = i; k < Math.min(COUNT, i + BATCH); k++) {
        const doc = `apiVersion: relengd/v1\nkind: KojiTag\nspec:\n  tag: f45\n  package: bench-pkg-${k}\n  nvr: bench-pkg-${k}-1.0-2.fc45\n`;
        chunks.push(`M 100644 inline koji/tags/f45/bench-pkg-${k}.yaml\ndata ${Buffer.byteLength(doc)}\n${doc}\n`);
      }
    }
    const t1 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn("git", ["-C", bare, "fast-import", "--quiet"], { stdio: ["pipe", "ignore", "inherit"] });
      child.on("close", (c) => (c === 0 ? resolve() : reject(new Error(`fast-import exited ${c}`))));
      child.stdin.end(chunks.join(""));
    });
    const fastImportMs = performance.now() - t1;

    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    console.log(`mass rebuild on ${provider}: ${COUNT} one-build artifacts over HTTP (${CONCURRENCY} connections), shipped policies, \`relengd serve\` (dist/, ${database.where}, log ${env.RELENGD_LOG_LEVEL}), file:// remote, writer batch ${BATCH}`);
    console.log(`  ingest (all ${COUNT} answered)      ${(ingestMs / 1000).toFixed(1)} s  (${((COUNT / ingestMs) * 1000).toFixed(0)} artifacts/s, ${failures} non-201)`);
    console.log(`  end to end (all releases pushed)   ${(totalMs / 1000).toFixed(1)} s   target ≤ ${targetSeconds} s: ${totalMs <= targetSeconds * 1000 ? "PASS" : "FAIL"}`);
    console.log(`  server RSS: ${mb(ready.rss)} ready, ${mb(afterIngest.rss)} after ingest, ${mb(end.rss)} at the end; peak (VmHWM) ${mb(end.peak)}   target ≤ ${RSS_TARGET_MB} MB: ${end.peak <= RSS_TARGET_MB * 1024 * 1024 ? "PASS" : "FAIL"}`);
    console.log(`  CPU (user + system) during the run: server ${serverCpu.toFixed(1)} s, its git commands ${gitCpu.toFixed(1)} s, load generator ${loadCpu.toFixed(1)} s (2 cores: ${((totalMs / 1000) * 2).toFixed(0)} s available)`);
    console.log(`  remote: ${files} documents in ${commits} commits`);
    console.log(`  git fast-import of the same files  ${(fastImportMs / 1000).toFixed(2)} s  (relengd end to end is ${(totalMs / fastImportMs).toFixed(0)}× that)`);
    benchLine(`mass-rebuild${suffix}`, "end-to-end-s", totalMs / 1000, "lower");
    benchLine(`mass-rebuild${suffix}`, "ingest-per-s", (COUNT / ingestMs) * 1000, "higher");
    benchLine(`mass-rebuild${suffix}`, "peak-rss-mb", end.peak / 1024 / 1024, "lower");
    benchLine(`mass-rebuild${suffix}`, "server-cpu-s", serverCpu, "lower");
    benchLine(`mass-rebuild${suffix}`, "vs-fast-import", totalMs / fastImportMs, "lower");
  } finally {
    await pushedCount?.close();
    if (server && server.exitCode === null && server.signalCode === null) {
      const running = server;
      const exited = new Promise((r) => running.once("exit", r));
      running.kill("SIGTERM");
      await exited;
    }
    // After the server: its connections are gone before the schema is.
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_SKIP_BUILD !== "1") execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
await onEachProvider("mass rebuild", run);
