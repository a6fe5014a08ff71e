// Benchmark: artifacts/s pushed over HTTP (64 connections) and p99 at a fixed offered rate, on two paths (no policy fires; Rawhide, where rawhide-auto fires and the writer commits meanwhile), each against a fastify JSON echo of the same bodies in the same run. SQLite, or PostgreSQL with BENCH_DATABASE_URL.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { artifactLimits } from "../src/domain/artifact.js";
import { migrate } from "../src/store/migrator.js";
import { ingestArtifact, rawhideArtifact } from "./fedoraArtifacts.js";
import { benchLine, ms, pause, ratio, runLoad, summarizeLatencies, table, verdict, type ArtifactShape, type LatencySummary, type LoadResult, type LoadSpec } from "./load.js";
import { benchDatabase, startRelengd, type BenchServer } from "./relengdServer.js";

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
// How long to wait for the release queue to empty after a run before going on.
const DRAIN_CAP_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 60);
const PATH = "/api/v1/artifacts";
const postgresUrl = process.env.BENCH_DATABASE_URL;
const provider = postgresUrl ? "postgresql" : "sqlite";
// Targets of the ingest issues, per database: throughput against echo, p99 at the offered rate.
const TARGETS = {
  sqlite: { minThroughputRatio: 0.15, rate: 500, maxP99Ms: 50 },
  postgresql: { minThroughputRatio: 0.1, rate: 300, maxP99Ms: 100 },
}[provider];
const RATE = Number(process.env.BENCH_RATE ?? TARGETS.rate);

type PathKey = "no-policy" | "rawhide";
interface IngestPath {
  key: PathKey;
  label: string;
  shape: ArtifactShape;
  shippedPolicies: boolean;
}
const PATHS: IngestPath[] = [
  { key: "no-policy", label: "no policy fires: release f41, no environments, 16 packages", shape: "f41", shippedPolicies: false },
  {
    key: "rawhide",
    label: "Rawhide: a package per artifact, tier-0 PASSED in the push, rawhide-auto fires, shipped policies, writer committing to a bare file remote",
    shape: "rawhide",
    shippedPolicies: true,
  },
];
const selected = (process.env.BENCH_PATHS ?? PATHS.map((p) => p.key).join(",")).split(",");

type Mode = "warm-up" | "saturation" | "rate";
interface Run extends LoadResult {
  server: "echo" | "relengd";
  mode: Mode;
  /** Releases queued or committed, not yet pushed, when the load stopped (relengd only). */
  queuedAtEnd?: number;
  /** Seconds from the load's end until the queue was empty; NaN if not within the cap. */
  drainSeconds?: number;
  /**
   * How late the server's event loop ran during the load (the server shares this process's
   * main thread; the load generator has a thread of its own): a request waits at least that long.
   */
  loopDelay?: { p99: number; max: number };
}

interface PathResult {
  path: IngestPath;
  runs: Run[];
  echoRate: number;
  relengdRate: number;
  echoAtRate: LatencySummary;
  relengdAtRate: LatencySummary;
  non2xx: number;
  maxDrainSeconds: number;
  maxQueuedAtEnd: number;
  /** Seconds from the end of the offered-rate load until the queue was empty (NaN: not within the cap). */
  rateDrainSeconds: number;
  durable: boolean;
}

async function startEcho(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: artifactLimits.bodyBytes });
  app.post(PATH, async (request) => request.body);
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

function describe(r: Run): string[] {
  const lat = summarizeLatencies([r.latenciesMs]);
  const drain = r.drainSeconds === undefined ? "" : Number.isNaN(r.drainSeconds) ? `> ${DRAIN_CAP_SECONDS} s` : `${r.drainSeconds.toFixed(1)} s`;
  const loop = r.loopDelay ? `${ms(r.loopDelay.p99)} / ${ms(r.loopDelay.max)}` : "";
  return [r.title, (r.responses / r.durationSeconds).toFixed(0), ms(lat.p50), ms(lat.p99), String(r.non2xx), String(r.errors + r.timeouts), r.queuedAtEnd === undefined ? "" : String(r.queuedAtEnd), drain, loop];
}

/** Polls the release queue from the load's end until it is empty or the cap is reached. */
async function drain(server: BenchServer): Promise<{ queuedAtEnd: number; drainSeconds: number }> {
  const t0 = performance.now();
  const queuedAtEnd = await server.queueDepth();
  // Requests cut off at the run's end are still being answered and may queue releases too.
  await server.settle();
  let depth = await server.queueDepth();
  while (depth > 0 && performance.now() - t0 < DRAIN_CAP_SECONDS * 1000) {
    // Not more often: counting a queue of 30,000 takes the server ~6 ms each time.
    await pause(200);
    depth = await server.queueDepth();
  }
  return { queuedAtEnd, drainSeconds: depth === 0 ? (performance.now() - t0) / 1000 : Number.NaN };
}

async function runPath(p: IngestPath, dir: string, echo: { url: string }): Promise<PathResult> {
  const database = benchDatabase(dir, p.key, postgresUrl);
  await migrate(database.url);
  const relengd = await startRelengd(database.url, "ci", { shippedPolicies: p.shippedPolicies });
  const headers = { "content-type": "application/json", authorization: `Bearer ${relengd.token}` };
  const body = p.shape === "rawhide" ? rawhideArtifact("rh-relengd-1-100000", 100_000, "rh-relengd-1-") : ingestArtifact("relengd-bench-r1-100000", 100_000);
  console.log(`\n== ${p.key}: ${p.label}`);
  console.log(`database ${database.where}; body ≈ ${JSON.stringify(body).length} B\n`);

  const runs: Run[] = [];
  const run = async (server: "echo" | "relengd", mode: Mode, title: string, idPrefix: string, seconds: number, overallRate?: number): Promise<Run> => {
    const spec: LoadSpec = {
      title,
      url: server === "echo" ? echo.url : relengd.url,
      connections: CONNECTIONS,
      durationSeconds: seconds,
      headers,
      requests: { kind: "artifacts", path: PATH, idPrefix, shape: p.shape },
      ...(overallRate ? { overallRate } : {}),
    };
    const loop = monitorEventLoopDelay({ resolution: 1 });
    if (server === "relengd") loop.enable();
    const result: Run = { ...(await runLoad(spec)), server, mode };
    loop.disable();
    if (server === "relengd") result.loopDelay = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    if (server === "relengd" && p.shippedPolicies) Object.assign(result, await drain(relengd));
    runs.push(result);
    return result;
  };

  // Id prefixes also name the Rawhide packages (rawhidePackageName): letters, digits and dashes,
  // different in every run so that no package is pushed twice.
  await run("echo", "warm-up", "warm-up echo", "warm-echo-", WARMUP_SECONDS);
  await run("relengd", "warm-up", "warm-up relengd", "warm-relengd-", WARMUP_SECONDS);
  for (let round = 1; round <= ROUNDS; round++) {
    await pause(500);
    await run("echo", "saturation", `echo #${round}`, `echo-${round}-`, SECONDS);
    await pause(500);
    await run("relengd", "saturation", `relengd #${round}`, `relengd-${round}-`, SECONDS);
  }
  await pause(500);
  const echoRated = await run("echo", "rate", `echo @${RATE}/s`, "echo-rate-", SECONDS, RATE);
  await pause(500);
  const relengdRated = await run("relengd", "rate", `relengd @${RATE}/s`, "relengd-rate-", SECONDS, RATE);

  console.log(table([["run", "req/s", "p50", "p99", "non-2xx", "errors", "queued at end", "queue empty after", "loop delay p99 / max"], ...runs.map(describe)]));
  for (const r of runs) {
    if (r.non2xx > 0) console.log(`  ${r.title}: status counts ${JSON.stringify(r.statusCounts)}`);
  }

  const saturated = (server: Run["server"]) => runs.filter((r) => r.mode === "saturation" && r.server === server);
  const rate = (list: Run[]) => list.reduce((n, r) => n + r.ok2xx, 0) / list.reduce((s, r) => s + r.durationSeconds, 0);
  const echoRuns = saturated("echo");
  const relengdRuns = saturated("relengd");
  const echoRate = rate(echoRuns);
  const relengdRate = rate(relengdRuns);
  const echoLat = summarizeLatencies(echoRuns.map((r) => r.latenciesMs));
  const relengdLat = summarizeLatencies(relengdRuns.map((r) => r.latenciesMs));
  const perRound = relengdRuns.map((r, i) => ratio(r.ok2xx / r.durationSeconds, (echoRuns[i]?.ok2xx ?? 0) / (echoRuns[i]?.durationSeconds ?? 1)));
  console.log(`\nmeasured rounds combined (2xx/s; latency percentiles over every response):`);
  console.log(
    table([
      ["server", "2xx/s", "p50", "p99", "non-2xx"],
      ["echo", echoRate.toFixed(0), ms(echoLat.p50), ms(echoLat.p99), String(echoRuns.reduce((n, r) => n + r.non2xx, 0))],
      ["relengd", relengdRate.toFixed(0), ms(relengdLat.p50), ms(relengdLat.p99), String(relengdRuns.reduce((n, r) => n + r.non2xx, 0))],
    ]),
  );
  const throughputRatio = relengdRate / echoRate;
  console.log(`relengd/echo throughput: ${ratio(relengdRate, echoRate)} (per round: ${perRound.join(", ")}); p99 relengd/echo: ${ratio(relengdLat.p99, echoLat.p99)}`);

  const echoAtRate = summarizeLatencies([echoRated.latenciesMs]);
  const relengdAtRate = summarizeLatencies([relengdRated.latenciesMs]);
  console.log(`\nat ${RATE} artifacts/s offered (autocannon overallRate over ${CONNECTIONS} connections; percentiles over every response):`);
  console.log(
    table([
      ["server", "2xx/s", "p50", "p95", "p99", "max", "non-2xx"],
      ...[
        ["echo", echoRated, echoAtRate] as const,
        ["relengd", relengdRated, relengdAtRate] as const,
      ].map(([name, r, lat]) => [name, (r.ok2xx / r.durationSeconds).toFixed(0), ms(lat.p50), ms(lat.p95), ms(lat.p99), ms(lat.max), String(r.non2xx)]),
    ]),
  );
  console.log(`p99 relengd/echo at ${RATE}/s: ${ratio(relengdAtRate.p99, echoAtRate.p99)}`);
  for (const r of [echoRated, relengdRated]) {
    const answered = r.ok2xx / r.durationSeconds;
    if (answered < 0.95 * RATE) console.log(`  ${r.title} answered ${answered.toFixed(0)}/s, below the offered ${RATE}/s: its latencies are those of a saturated server`);
  }

  const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
  const relengdMeasured = runs.filter((r) => r.server === "relengd" && r.mode !== "warm-up");
  const drains = relengdMeasured.map((r) => r.drainSeconds ?? 0);
  const maxDrainSeconds = drains.some(Number.isNaN) ? Number.NaN : Math.max(...drains);
  const maxQueuedAtEnd = p.shippedPolicies ? Math.max(...relengdMeasured.map((r) => r.queuedAtEnd ?? 0)) : Number.NaN;
  if (ROUNDS > 0) console.log(`${verdict(throughputRatio >= TARGETS.minThroughputRatio)}  throughput ≥ ${TARGETS.minThroughputRatio * 100} % of echo (${(throughputRatio * 100).toFixed(1)} %)`);
  else console.log("(no saturation rounds: BENCH_ROUNDS=0)");
  console.log(`${verdict(relengdAtRate.p99 <= TARGETS.maxP99Ms)}  relengd p99 ≤ ${TARGETS.maxP99Ms} ms at ${RATE}/s offered (${ms(relengdAtRate.p99)})`);
  console.log(`${verdict(non2xx === 0)}  every answer 2xx (${non2xx} not)`);
  if (p.shippedPolicies) {
    const drained = Number.isNaN(maxDrainSeconds) ? `not within ${DRAIN_CAP_SECONDS} s` : `at most ${maxDrainSeconds.toFixed(1)} s after a load's end`;
    console.log(`(report)  releases queued at a load's end: at most ${maxQueuedAtEnd}; queue empty ${drained}`);
    // The writer keeps up: measured with BENCH_RATE=1000 BENCH_SECONDS=30 (the issue's figure).
    const afterRate = relengdRated.drainSeconds ?? Number.NaN;
    console.log(
      `${verdict(afterRate <= 5)}  the writer keeps up: queue empty within 5 s of the end of the ${RATE}/s load of ${SECONDS} s (${Number.isNaN(afterRate) ? `not within ${DRAIN_CAP_SECONDS} s` : `${afterRate.toFixed(1)} s`}, ${relengdRated.queuedAtEnd ?? 0} queued at its end)`,
    );
  }

  // Durability: every 201 the client saw is stored, and the store holds exactly what the server
  // acknowledged (runs end by dropping connections, so a few answers never reach the client).
  if (!(await relengd.settle())) console.log("relengd still had requests in flight after 60 s");
  const runsOnRelengd = runs.filter((r) => r.server === "relengd");
  const seen201 = runsOnRelengd.reduce((n, r) => n + (r.statusCounts["201"] ?? 0), 0);
  const rows = await relengd.db.read((tx) => tx.selectFrom("Artifact").select("id").execute());
  const stored = new Set(rows.map((r) => r.id));
  const missing = runsOnRelengd.flatMap((r) => r.createdIds).filter((id) => !stored.has(id));
  const sent201 = relengd.created201();
  console.log(
    `\nstored artifacts: ${stored.size}; 201 answers sent by the server: ${sent201}; 201 answers received by the client: ${seen201} ` +
      `(${sent201 - seen201} cut off in flight at the end of a run); acknowledged but missing from the store: ${missing.length}`,
  );
  const durable = stored.size === sent201 && missing.length === 0;
  console.log(`${verdict(durable)}  every accepted artifact is stored (stored = 201 sent, none of the 201 received missing)`);
  if (p.shippedPolicies) {
    const releases = await relengd.db.read((tx) => tx.selectFrom("Release").select((e) => ["status", e.fn.countAll<number>().as("n")]).groupBy("status").execute());
    const commits = relengd.remote ? execFileSync("git", ["-C", relengd.remote, "rev-list", "--count", "main"], { encoding: "utf8" }).trim() : "?";
    console.log(`releases by status: ${releases.map((r) => `${r.status} ${r.n}`).join(", ") || "none"}; ${commits} commits in the remote`);
  }

  await relengd.close();
  await database.drop();
  return { path: p, runs, echoRate, relengdRate, echoAtRate, relengdAtRate, non2xx, maxDrainSeconds, maxQueuedAtEnd, rateDrainSeconds: relengdRated.drainSeconds ?? Number.NaN, durable };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "relengd-bench-ingest-"));
  const echo = await startEcho();
  console.log(
    `ingest benchmark: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, ${SECONDS} s per run, ${ROUNDS} rounds at saturation (echo, relengd alternately), ` +
      `then ${SECONDS} s each at ${RATE} artifacts/s offered; paths: ${selected.join(", ")}`,
  );
  console.log(`node ${process.version}, ${os.cpus().length} cores, database ${provider}`);

  const results: PathResult[] = [];
  for (const p of PATHS.filter((x) => selected.includes(x.key))) results.push(await runPath(p, dir, echo));

  console.log(`\nboth paths, each against echo of its own bodies in the same run (${provider}):`);
  console.log(
    table([
      ["path", "echo 2xx/s", "relengd 2xx/s", "÷ echo", `echo p99 @${RATE}/s`, `relengd p99 @${RATE}/s`, "÷ echo", "non-2xx", "max queued at end", "queue empty after"],
      ...results.map((r) => [
        r.path.key,
        r.echoRate.toFixed(0),
        r.relengdRate.toFixed(0),
        ratio(r.relengdRate, r.echoRate),
        ms(r.echoAtRate.p99),
        ms(r.relengdAtRate.p99),
        ratio(r.relengdAtRate.p99, r.echoAtRate.p99),
        String(r.non2xx),
        r.path.shippedPolicies ? String(r.maxQueuedAtEnd) : "(no writer)",
        !r.path.shippedPolicies ? "" : Number.isNaN(r.maxDrainSeconds) ? `> ${DRAIN_CAP_SECONDS} s` : `${r.maxDrainSeconds.toFixed(1)} s`,
      ]),
    ]),
  );
  const noPolicy = results.find((r) => r.path.key === "no-policy");
  const rawhide = results.find((r) => r.path.key === "rawhide");
  if (noPolicy && rawhide) {
    console.log(`rawhide/no-policy: throughput ${ratio(rawhide.relengdRate, noPolicy.relengdRate)}, p99 @${RATE}/s ${ratio(rawhide.relengdAtRate.p99, noPolicy.relengdAtRate.p99)}`);
  }
  console.log("");
  for (const r of results) {
    const name = `ingest-${r.path.key}${provider === "sqlite" ? "" : `-${provider}`}`;
    benchLine(name, "throughput", r.relengdRate, "higher");
    benchLine(name, "throughput-vs-echo", r.relengdRate / r.echoRate, "higher");
    benchLine(name, `p99-ms-at-${RATE}`, r.relengdAtRate.p99, "lower");
    if (r.path.shippedPolicies) benchLine(name, "queue-empty-s", r.maxDrainSeconds, "lower");
    if (r.path.shippedPolicies) benchLine(name, `queue-empty-s-after-${RATE}`, r.rateDrainSeconds, "lower");
  }

  await echo.app.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
