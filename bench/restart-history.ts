// Restart over a long history: a real `relengd serve` process (compiled dist/, SQLite, file://
// remote) started on a store, remote and workspace holding BENCH_HISTORY (30,000) pushed releases,
// each its own commit (BENCH_PACKAGES packages, 1,000, each tagged many times); then one release is queued. Measured: from the process's spawn to that release's
// `pushed`, and the server's RSS then (VmRSS, VmHWM). Baseline in the same run: the same start
// on an empty store and remote. Targets: ≤ 5 s to pushed, RSS ≤ +10 % of the baseline.
// With BENCH_DATABASE_URL all of it again on PostgreSQL (each store a schema of its own, migrated
// first, dropped afterwards); BENCH_PROVIDERS=postgresql runs that one alone.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { TokenService } from "../src/auth/tokens.js";
import { parseArtifact, type Artifact, type ArtifactInput } from "../src/domain/artifact.js";
import { renderRelease } from "../src/domain/release.js";
import { ensureBareRepository } from "../src/gitops/repository.js";
import { Workspace } from "../src/gitops/workspace.js";
import { loadEnvironments } from "../src/policy/environments.js";
import { ArtifactRepository } from "../src/store/artifactRepository.js";
import { parseDatabaseUrl, pgSearchPathOption, type Provider } from "../src/store/databaseUrl.js";
import { newId } from "../src/store/ids.js";
import { openStore } from "../src/store/store.js";
import { migrate } from "../src/store/migrator.js";
import { ReleaseRepository } from "../src/store/releaseRepository.js";
import { freePort } from "../test/support/serverProcess.js";
import { git } from "./gitopsFixture.js";
import { benchLine } from "./load.js";
import { insertPostgresRows } from "./historyRows.js";
import { benchDatabase, onEachProvider, type BenchDatabase } from "./relengdServer.js";

const HISTORY = Number(process.env.BENCH_HISTORY ?? 30_000);
const root = path.resolve(import.meta.dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Packages of the history: each released BENCH_HISTORY / PACKAGES times, a newer build each time. */
const PACKAGES = Number(process.env.BENCH_PACKAGES ?? 1000);

/** Release number n of the history: build n / PACKAGES of package n % PACKAGES, for the rawhide tag. */
function historyArtifact(n: number): ArtifactInput {
  const pkg = `restart-${n % PACKAGES}`;
  const version = `1.${Math.floor(n / PACKAGES)}`;
  return {
    id: `restart-history-${n}`,
    package: pkg,
    release: "rawhide",
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: "rawhide", event: "build" },
    items: [{ kind: "koji-build", nvr: `${pkg}-${version}-1.fc45`, buildId: 3_000_000 + n, taskId: 130_000_000 + n, target: "rawhide" }],
  };
}

function parsed(input: unknown): Artifact {
  const p = parseArtifact(input);
  if (!p.ok) throw new Error(`bench artifact does not parse: ${JSON.stringify(p)}`);
  return p.value;
}

interface Setup {
  dir: string;
  remote: string;
  database: BenchDatabase;
}

/** What a run made, to remove afterwards whatever happened. */
interface Made {
  dirs: string[];
  databases: BenchDatabase[];
}

type RenderEnvironment = Parameters<typeof renderRelease>[2];

/**
 * A store and remote with `n` releases to rawhide pushed, one commit each (fast-import, not the
 * writer). SQLite through the store's repositories; PostgreSQL by multi-row INSERTs of the same
 * rows (insertPostgresRows). The store is a new database from `benchDatabase`, migrated here;
 * the caller drops it.
 */
async function seed(n: number, label: string, provider: Provider, postgresUrl: string | undefined, made: Made): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), `relengd-restart-${provider}-${label}-`));
  made.dirs.push(dir);
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  const database = benchDatabase(dir, `restart_${label}`, provider === "postgresql" ? postgresUrl : undefined);
  made.databases.push(database);
  const setup = { dir, remote, database };
  await migrate(database.url);
  if (n === 0) return setup;
  const env = loadEnvironments(path.join(root, "policies"), remote).environments.get("rawhide");
  if (!env) throw new Error("the shipped environments have no rawhide");
  // The server's own workspace, as a restart finds it (a first start would clone the remote).
  const ws = new Workspace(path.join(dir, "workspaces", "gitops.git"), remote, "main");
  await ws.open();
  await ws.fetch();
  let head: string | null = null;
  /** Commits and pushes a slice's documents, one commit each; their commit ids in order. */
  const commitAll = async (rendered: { out: ReturnType<typeof renderRelease> }[]): Promise<string[]> => {
    const shas = await ws.commit(
      head,
      rendered.map((r) => ({ files: [{ path: r.out.path, content: r.out.content }], message: r.out.commitMessage })),
      { name: "relengd", email: "relengd@localhost" },
    );
    head = shas.at(-1) ?? head;
    await ws.push(head as string);
    return shas;
  };
  const slices = function* () {
    for (let from = 0; from < n; from += 5000) yield Array.from({ length: Math.min(5000, n - from) }, (_, i) => parsed(historyArtifact(from + i)));
  };
  if (provider === "sqlite") await seedThroughStore(database.url, env, slices(), commitAll);
  else {
    const target = parseDatabaseUrl(database.url);
    const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
    await client.connect();
    try {
      for (const slice of slices()) {
        const ingestedAt = new Date();
        // As enqueue makes them: a new id and its time each (a monotonic ULID: ids sort in commit order).
        const releases = slice.map((artifact) => ({ id: newId(), artifact, createdAt: new Date() }));
        const shas = await commitAll(releases.map((r) => ({ out: renderRelease({ id: r.id, artifactId: r.artifact.id, environment: "rawhide", trigger: "user:bench", createdAt: r.createdAt }, r.artifact, env) })));
        await insertPostgresRows(
          client,
          releases.map((r, i) => ({ ...r, commitSha: shas[i] as string })),
          ingestedAt,
          new Date(),
        );
      }
    } finally {
      await client.end();
    }
  }
  return setup;
}

async function seedThroughStore(
  databaseUrl: string,
  env: RenderEnvironment,
  slices: Iterable<Artifact[]>,
  commitAll: (rendered: { out: ReturnType<typeof renderRelease> }[]) => Promise<string[]>,
): Promise<void> {
  const db = await openStore(databaseUrl);
  try {
    const artifacts = new ArtifactRepository(db, { maxBatch: 1000 });
    const releases = new ReleaseRepository(db);
    for (const slice of slices) {
      await Promise.all(slice.map((a) => artifacts.ingest(a)));
      const queued = await Promise.all(
        slice.map((a) => releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: a.package, trigger: "user:bench", createdBy: "bench", force: false })),
      );
      const rendered = queued.map((o, i) => {
        if (o.status !== "queued") throw new Error(`not queued: ${o.status}`);
        const r = o.release;
        return { id: r.id, out: renderRelease({ id: r.id, artifactId: r.artifactId, environment: "rawhide", trigger: r.trigger, createdAt: r.createdAt }, slice[i] as Artifact, env) };
      });
      const shas = await commitAll(rendered);
      await releases.markPushed(rendered.map((r, i) => ({ id: r.id, commitSha: shas[i] as string })));
    }
  } finally {
    await db.close();
  }
}

/** Starts the server on `setup`, queues one release, and measures until it is pushed. */
let restarts = 0;

async function restart(setup: Setup): Promise<{ seconds: number; rss: number; peak: number }> {
  const secret = randomBytes(32).toString("hex");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RELENGD_PORT: String(port),
    RELENGD_DATA_DIR: setup.dir,
    RELENGD_DATABASE_URL: setup.database.url,
    RELENGD_GITOPS_REPO: setup.remote,
    RELENGD_POLICIES_DIR: path.join(root, "policies"),
    RELENGD_TOKEN_SECRET: secret,
    RELENGD_LOG_LEVEL: process.env.BENCH_LOG ?? "warn",
  };
  const tokens = new TokenService(secret);
  const ci = { authorization: `Bearer ${(await tokens.issue({ subject: "bench-ci", role: "ci", ttlSeconds: 3600 })).token}`, "content-type": "application/json" };
  const releaser = { authorization: `Bearer ${(await tokens.issue({ subject: "bench-releaser", role: "releaser", ttlSeconds: 3600 })).token}`, "content-type": "application/json" };
  const started = performance.now();
  const server = spawn(process.execPath, ["--max-semi-space-size=8", path.join(root, "bin/relengd.js"), "serve"], { cwd: setup.dir, env, stdio: ["ignore", "ignore", "inherit"] });
  const pid = server.pid;
  if (pid === undefined) throw new Error("relengd serve did not start");
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (server.exitCode !== null) throw new Error(`relengd serve exited with ${server.exitCode}`);
      if (i > 3000) throw new Error("relengd serve did not answer /healthz within 30 s");
      await sleep(10);
    }
    // The next build after the restart, released ad hoc (or by a shipped policy first: then the
    // answer names the release it queued).
    const artifact = historyArtifact(HISTORY + 1 + restarts++);
    const pushed = await fetch(`${url}/api/v1/artifacts`, { method: "POST", headers: ci, body: JSON.stringify(artifact) });
    if (pushed.status !== 201) throw new Error(`artifact: ${pushed.status} ${await pushed.text()}`);
    const queued = await fetch(`${url}/api/v1/releases`, { method: "POST", headers: releaser, body: JSON.stringify({ artifactId: artifact.id, environment: "rawhide" }) });
    const body = (await queued.json()) as { id?: string; existingRelease?: string };
    const id = body.id ?? body.existingRelease;
    if (!id) throw new Error(`release: ${queued.status} ${JSON.stringify(body)}`);
    for (let i = 0; ; i++) {
      const r = (await (await fetch(`${url}/api/v1/releases/${id}`, { headers: releaser })).json()) as { status: string; error?: string | null };
      if (r.status === "pushed") break;
      if (r.status !== "queued" && r.status !== "committed") throw new Error(`release ended ${r.status}: ${r.error ?? ""}`);
      if (i > 6000) throw new Error(`release not pushed within 60 s (${r.status}, ${r.error ?? ""})`);
      await sleep(10);
    }
    const seconds = (performance.now() - started) / 1000;
    return { seconds, ...memoryOf(pid) };
  } finally {
    // A server that already exited (a failed start) sends no second 'exit': waiting for one hung
    // the bench before it could drop its databases.
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
  }
}

async function run(provider: Provider, postgresUrl?: string): Promise<void> {
  const suffix = provider === "postgresql" ? "-postgresql" : "";
  const made: Made = { dirs: [], databases: [] };
  try {
    const t0 = performance.now();
    const empty = await seed(0, "empty", provider, postgresUrl, made);
    const long = await seed(HISTORY, "history", provider, postgresUrl, made);
    console.log(`restart over history on ${provider} (${long.database.where}): seeded ${HISTORY} pushed releases (one commit each) in ${((performance.now() - t0) / 1000).toFixed(1)} s; remote has ${git(long.remote, "rev-list", "--count", "main").trim()} commits`);
    // Alternated, twice each: the machine's noise falls on both.
    const runs: { label: string; seconds: number; rss: number; peak: number }[] = [];
    for (let round = 0; round < 2; round++) {
      for (const [label, setup] of [["empty", empty], ["history", long]] as const) runs.push({ label, ...(await restart(setup)) });
    }
    const best = (label: string) => {
      const mine = runs.filter((r) => r.label === label);
      return { seconds: Math.min(...mine.map((r) => r.seconds)), rss: Math.min(...mine.map((r) => r.rss)), peak: Math.min(...mine.map((r) => r.peak)) };
    };
    for (const r of runs) console.log(`  ${r.label.padEnd(8)} spawn → pushed ${r.seconds.toFixed(2)} s, RSS ${mb(r.rss)}, peak ${mb(r.peak)}`);
    const e = best("empty");
    const h = best("history");
    console.log(`  best of 2: empty ${e.seconds.toFixed(2)} s / ${mb(e.peak)} peak; ${HISTORY} in history ${h.seconds.toFixed(2)} s / ${mb(h.peak)} peak`);
    console.log(`  time to pushed with history: ${h.seconds.toFixed(2)} s   target ≤ 5 s: ${h.seconds <= 5 ? "PASS" : "FAIL"}   (×${(h.seconds / e.seconds).toFixed(2)} of empty)`);
    const ratio = h.peak / e.peak;
    console.log(`  RSS peak with history: ×${ratio.toFixed(3)} of empty (RSS ×${(h.rss / e.rss).toFixed(3)})   target ≤ +10 %: ${ratio <= 1.1 ? "PASS" : "FAIL"}`);
    benchLine(`restart-history${suffix}`, "history-s", h.seconds, "lower");
    benchLine(`restart-history${suffix}`, "history-vs-empty", h.seconds / e.seconds, "lower");
    benchLine(`restart-history${suffix}`, "peak-rss-mb", h.peak / 1024 / 1024, "lower");
    benchLine(`restart-history${suffix}`, "peak-rss-vs-empty", ratio, "lower");
  } finally {
    for (const database of made.databases) await database.drop();
    for (const dir of made.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_SKIP_BUILD !== "1") execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
await onEachProvider("restart over history", run);
