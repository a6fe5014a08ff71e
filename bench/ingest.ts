// Benchmark: artifacts/s pushed over HTTP (64 connections, SQLite) against a fastify JSON echo measured in the same run.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { artifactLimits } from "../src/domain/artifact.js";
import { migrate } from "../src/store/migrator.js";
import { ingestArtifact } from "./fedoraArtifacts.js";
import { ms, pause, ratio, runLoad, summarizeLatencies, table, verdict, type LoadResult, type LoadSpec } from "./load.js";
import { startRelengd } from "./relengdServer.js";

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const ROUNDS = 2;
const PATH = "/api/v1/artifacts";
// Targets of the ingest issue.
const MIN_THROUGHPUT_RATIO = 0.15;
const MAX_P99_MS = 50;

async function startEcho(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: artifactLimits.bodyBytes });
  app.post(PATH, async (request) => request.body);
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

function describe(r: LoadResult): string[] {
  const lat = summarizeLatencies([r.latenciesMs]);
  return [r.title, (r.responses / r.durationSeconds).toFixed(0), ms(lat.p50), ms(lat.p99), String(r.non2xx), String(r.errors + r.timeouts)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "relengd-bench-ingest-"));
  const echo = await startEcho();
  const databaseUrl = `file:${path.join(dir, "relengd.db")}`;
  await migrate(databaseUrl);
  const relengd = await startRelengd(databaseUrl, "ci");
  const sample = JSON.stringify(ingestArtifact("relengd-bench-r1-100000", 100_000));
  console.log(`ingest benchmark: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds (echo, relengd alternately), body ≈ ${sample.length} B`);
  console.log(`node ${process.version}, ${os.cpus().length} cores, database ${dir}/relengd.db (WAL, synchronous=FULL)\n`);

  const headers = { "content-type": "application/json", authorization: `Bearer ${relengd.token}` };
  const spec = (title: string, url: string, idPrefix: string, seconds: number): LoadSpec => ({
    title,
    url,
    connections: CONNECTIONS,
    durationSeconds: seconds,
    headers,
    requests: { kind: "artifacts", path: PATH, idPrefix },
  });

  const all: LoadResult[] = [];
  const measured = { echo: [] as LoadResult[], relengd: [] as LoadResult[] };
  all.push(await runLoad(spec("warm-up echo", echo.url, "warm-echo-", WARMUP_SECONDS)));
  all.push(await runLoad(spec("warm-up relengd", relengd.url, "warm-relengd-", WARMUP_SECONDS)));
  for (let round = 1; round <= ROUNDS; round++) {
    await relengd.settle();
    await pause(500);
    const e = await runLoad(spec(`echo #${round}`, echo.url, `echo-${round}-`, SECONDS));
    await pause(500);
    const r = await runLoad(spec(`relengd #${round}`, relengd.url, `relengd-${round}-`, SECONDS));
    measured.echo.push(e);
    measured.relengd.push(r);
    all.push(e, r);
  }

  console.log(table([["run", "req/s", "p50", "p99", "non-2xx", "errors"], ...all.map(describe)]));
  for (const r of all) {
    if (r.non2xx > 0) console.log(`  ${r.title}: status counts ${JSON.stringify(r.statusCounts)}`);
  }

  const rate = (runs: LoadResult[]) => runs.reduce((n, r) => n + r.ok2xx, 0) / runs.reduce((s, r) => s + r.durationSeconds, 0);
  const echoRate = rate(measured.echo);
  const relengdRate = rate(measured.relengd);
  const echoLat = summarizeLatencies(measured.echo.map((r) => r.latenciesMs));
  const relengdLat = summarizeLatencies(measured.relengd.map((r) => r.latenciesMs));
  const perRound = measured.relengd.map((r, i) => ratio(r.ok2xx / r.durationSeconds, (measured.echo[i]?.ok2xx ?? 0) / (measured.echo[i]?.durationSeconds ?? 1)));
  console.log(`\nmeasured rounds combined (2xx/s; latency percentiles over every response):`);
  console.log(
    table([
      ["server", "2xx/s", "p50", "p99", "non-2xx"],
      ["echo", echoRate.toFixed(0), ms(echoLat.p50), ms(echoLat.p99), String(measured.echo.reduce((n, r) => n + r.non2xx, 0))],
      ["relengd", relengdRate.toFixed(0), ms(relengdLat.p50), ms(relengdLat.p99), String(measured.relengd.reduce((n, r) => n + r.non2xx, 0))],
    ]),
  );
  const throughputRatio = relengdRate / echoRate;
  console.log(`relengd/echo throughput: ${ratio(relengdRate, echoRate)} (per round: ${perRound.join(", ")}); p99 relengd/echo: ${ratio(relengdLat.p99, echoLat.p99)}`);
  console.log(`${verdict(throughputRatio >= MIN_THROUGHPUT_RATIO)}  throughput ≥ ${MIN_THROUGHPUT_RATIO * 100} % of echo (${(throughputRatio * 100).toFixed(1)} %)`);
  console.log(`${verdict(relengdLat.p99 <= MAX_P99_MS)}  relengd p99 ≤ ${MAX_P99_MS} ms (${ms(relengdLat.p99)})`);

  // Durability: every 201 the client saw is stored, and the store holds exactly what the server
  // acknowledged (runs end by dropping connections, so a few answers never reach the client).
  if (!(await relengd.settle())) console.log("relengd still had requests in flight after 60 s");
  const runsOnRelengd = all.filter((r) => r.title.includes("relengd"));
  const seen201 = runsOnRelengd.reduce((n, r) => n + (r.statusCounts["201"] ?? 0), 0);
  const rows = await relengd.db.prisma.artifact.findMany({ select: { id: true } });
  const stored = new Set(rows.map((r) => r.id));
  const missing = runsOnRelengd.flatMap((r) => r.createdIds).filter((id) => !stored.has(id));
  const sent201 = relengd.created201();
  console.log(
    `\nstored artifacts: ${stored.size}; 201 answers sent by the server: ${sent201}; 201 answers received by the client: ${seen201} ` +
      `(${sent201 - seen201} cut off in flight at the end of a run); acknowledged but missing from the store: ${missing.length}`,
  );
  console.log(`${verdict(stored.size === sent201 && missing.length === 0)}  every accepted artifact is stored (stored = 201 sent, none of the 201 received missing)`);

  await echo.app.close();
  await relengd.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
