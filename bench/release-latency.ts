// bench/release-latency: an ad-hoc release on an idle server → pushed, seen two ways: (a) as the
// client sees it (POST /api/v1/releases over HTTP, then GET /api/v1/releases/:id every ~2 ms
// until `pushed`), (b) as the remote sees it (its ref file names the new commit). The client runs
// in a worker thread, so its polling does not run on the server's event loop.
// Baseline in the same run: the plainest way to make one commit visible in a remote (a work
// tree: write, git add, git commit, git push).
// BENCH_PROFILE=1 also prints where a release's time goes: every git process the writer runs
// (GIT_TRACE2_EVENT), the store's methods the writer calls, the SQLite log's fdatasync, HTTP.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { FastifyRequest } from "fastify";
import { fileSync } from "../src/store/walSync.js";
import { benchArtifact, git, ms, percentile, startGitopsBench } from "./gitopsFixture.js";
import type { ClientSample, ClientSpec } from "./latencyClient.js";
import { benchLine, table } from "./load.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 2);
const PROFILE = process.env.BENCH_PROFILE === "1";
const P99_TARGET_MS = 250;
const P50_TARGET_VS_PLAIN = 2;

const epoch = () => performance.timeOrigin + performance.now();

/** Something timed while the releases ran: a git process, a store call, an HTTP request. */
interface Span {
  kind: "git" | "store" | "fdatasync" | "http";
  what: string;
  /** Epoch ms. */
  at: number;
  ms: number;
}

// tsx's loader hooks do not reach a worker's entry module on Node 20 (see load.ts).
const tsxApi = import.meta.resolve("tsx/esm/api");
const clientEntry = new URL("./latencyClient.ts", import.meta.url).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(clientEntry)}); })`;

type ClientAnswer = { ready: true } | { ok: true; sample: ClientSample } | { ok: false; error: string };

class Client {
  private readonly worker: Worker;
  private waiting: ((a: ClientAnswer) => void) | null = null;
  readonly ready: Promise<void>;

  constructor(spec: ClientSpec) {
    this.worker = new Worker(bootstrap, { eval: true, workerData: spec });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once("error", reject);
      this.worker.once("message", () => resolve());
    });
    this.worker.on("message", (a: ClientAnswer) => {
      if ("ready" in a) return;
      this.waiting?.(a);
    });
  }

  async release(artifactId: string): Promise<ClientSample> {
    const answer = await new Promise<ClientAnswer>((resolve) => {
      this.waiting = resolve;
      this.worker.postMessage({ artifactId });
    });
    this.waiting = null;
    if ("ready" in answer) throw new Error("unexpected ready");
    if (!answer.ok) throw new Error(answer.error);
    return answer.sample;
  }

  async stop(): Promise<void> {
    this.worker.postMessage({ stop: true });
    await this.worker.terminate();
  }
}

/** Times every method of a repository instance (the bench's instance only; the class is untouched). */
function timeMethods(target: object, spans: Span[], skip: readonly string[]): void {
  const methods = target as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    const original = methods[name];
    if (name === "constructor" || skip.includes(name) || typeof original !== "function") continue;
    methods[name] = async (...args: unknown[]) => {
      const at = epoch();
      const t = performance.now();
      try {
        return (await (original as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
      } finally {
        spans.push({ kind: "store", what: name, at, ms: performance.now() - t });
      }
    };
  }
}

/** One git process per session id of a GIT_TRACE2_EVENT file: its command (hierarchy: `push/receive-pack`), start and run time. */
function gitProcesses(file: string): Span[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const bySid = new Map<string, { at?: number; name?: string; ms?: number }>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line) as { event: string; sid: string; time?: string; hierarchy?: string; name?: string; t_abs?: number };
    const p = bySid.get(e.sid) ?? {};
    bySid.set(e.sid, p);
    if (e.event === "start" && e.time) {
      // The trace's times are UTC with microseconds; Date.parse keeps milliseconds.
      const micros = /\.\d{3}(\d*)Z$/.exec(e.time)?.[1] ?? "";
      p.at = Date.parse(e.time) + (micros ? Number(`0.${micros}`) : 0);
    } else if (e.event === "cmd_name") p.name = e.hierarchy ?? e.name ?? "(unnamed)";
    else if (e.event === "atexit" && e.t_abs !== undefined) p.ms = e.t_abs * 1000;
  }
  const out: Span[] = [];
  for (const p of bySid.values()) if (p.at !== undefined && p.ms !== undefined) out.push({ kind: "git", what: p.name ?? "(unnamed)", at: p.at, ms: p.ms });
  return out;
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");

async function main(): Promise<void> {
  const spans: Span[] = [];
  const profileDir = mkdtempSync(path.join(tmpdir(), "relengd-latency-profile-"));
  const traceFile = path.join(profileDir, "trace2.json");
  // Read by the writer's git (workspace.ts gitEnv passes GIT_TRACE2_* on); the baselines' git strips it.
  if (PROFILE) process.env.GIT_TRACE2_EVENT = traceFile;
  const started = new WeakMap<FastifyRequest, number>();
  const b = await startGitopsBench({
    ...(PROFILE
      ? {
          storeOptions: {
            syncWal: (wal) => {
              const sync = fileSync(wal);
              return async () => {
                const at = epoch();
                const t = performance.now();
                await sync();
                spans.push({ kind: "fdatasync", what: "fdatasync (SQLite log)", at, ms: performance.now() - t });
              };
            },
          },
        }
      : {}),
    onApp: (app) => {
      // From the request's first byte parsed to the reply written (fastify's own span).
      app.addHook("onRequest", async (request) => {
        started.set(request, performance.now());
      });
      app.addHook("onResponse", async (request) => {
        const t = started.get(request);
        if (t !== undefined) spans.push({ kind: "http", what: `${request.method} ${request.routeOptions.url ?? request.url}`, at: performance.timeOrigin + t, ms: performance.now() - t });
      });
    },
  });
  const dbName = b.database.provider === "postgresql" ? "PostgreSQL" : "SQLite";
  let client: Client | undefined;
  try {
    if (PROFILE) {
      timeMethods(b.releases, spans, ["enqueueBatch", "enqueueIn", "markWritten"]);
      timeMethods(b.artifacts, spans, []);
    }
    for (let i = 0; i < RUNS; i++) {
      const res = await b.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: benchArtifact(i), headers: { authorization: `Bearer ${b.ci}` } });
      if (res.statusCode !== 201) throw new Error(`artifact push: ${res.statusCode} ${res.body}`);
    }
    const url = await b.app.listen({ host: "127.0.0.1", port: 0 });
    client = new Client({ url, token: b.releaser, environment: "rawhide", remoteRef: path.join(b.remote, "refs/heads/main"), pollMs: POLL_MS });
    await client.ready;

    const samples: (ClientSample & { endedAt: number })[] = [];
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const sample = await client.release(`bench-${i}`);
      await b.writer.idle();
      samples.push({ ...sample, endedAt: epoch() });
    }
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;

    // Baseline: the same number of one-file commits made visible with plain git.
    const work = path.join(b.dir, "plain");
    git(b.dir, "clone", "--quiet", b.remote, "plain");
    git(work, "config", "user.name", "bench");
    git(work, "config", "user.email", "bench@localhost");
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      writeFileSync(path.join(work, `plain-${i}.yaml`), `n: ${i}\n`);
      git(work, "add", `plain-${i}.yaml`);
      git(work, "commit", "--quiet", "-m", `plain ${i}`);
      git(work, "push", "--quiet", "origin", "HEAD:main");
      plain.push(performance.now() - t0);
    }

    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const clientMs = sorted(samples.map((s) => s.clientMs));
    const remoteMs = sorted(samples.map((s) => s.remoteMs));
    const plainMs = sorted(plain);
    const [c50, c99, r50, r99, p50, p99] = [percentile(clientMs, 50), percentile(clientMs, 99), percentile(remoteMs, 50), percentile(remoteMs, 99), percentile(plainMs, 50), percentile(plainMs, 99)];
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    console.log(`release → pushed, ${RUNS} sequential releases on an idle server (${dbName}, file:// remote; client in a worker thread, HTTP keep-alive, GET every ${POLL_MS} ms)`);
    console.log(`  client view  p50 ${ms(c50)}  p99 ${ms(c99)}   (POST sent → a GET answers pushed)`);
    console.log(`  remote view  p50 ${ms(r50)}  p99 ${ms(r99)}   (POST sent → the remote's ref file names the commit)`);
    console.log(`  plain git    p50 ${ms(p50)}  p99 ${ms(p99)}   (write + add + commit + push in a work tree)`);
    console.log(`  ratio to plain git p50: client ${(c50 / p50).toFixed(2)}×  remote ${(r50 / p50).toFixed(2)}×`);
    console.log(`  client: p50 ≤ ${P50_TARGET_VS_PLAIN}× plain git: ${verdict(c50 <= P50_TARGET_VS_PLAIN * p50)};  p99 ≤ ${P99_TARGET_MS} ms: ${verdict(c99 <= P99_TARGET_MS)}`);
    console.log(`  remote: p50 ≤ ${P50_TARGET_VS_PLAIN}× plain git: ${verdict(r50 <= P50_TARGET_VS_PLAIN * p50)};  p99 ≤ ${P99_TARGET_MS} ms: ${verdict(r99 <= P99_TARGET_MS)}`);

    // What the client's polling costs the server: its event loop's time in GET handling.
    const inWindow = (s: Span) => samples.findIndex((w) => s.at >= w.startedAt && s.at <= w.endedAt);
    const perRelease = samples.map(() => [] as Span[]);
    for (const s of [...spans, ...(PROFILE ? gitProcesses(traceFile) : [])]) {
      const i = inWindow(s);
      if (i >= 0) perRelease[i]?.push(s);
    }
    const gets = perRelease.map((list) => list.filter((s) => s.kind === "http" && s.what.startsWith("GET ")));
    const getServerMs = gets.map((g) => sum(g.map((s) => s.ms)));
    const polls = samples.map((s) => s.polls);
    console.log(
      `  polling: ${f1(median(polls))} GETs per release (p50), server ${f2(median(gets.flat().map((s) => s.ms)))} ms per GET (p50), ` +
        `${f1(median(getServerMs))} ms of the server's event loop per release (p50) = ${((sum(getServerMs) / sum(samples.map((s) => s.clientMs))) * 100).toFixed(1)} % of the releases' time; ` +
        `process CPU ${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(0)} % of one core over the releases (server, writer and client thread)`,
    );
    const name = `release-latency${b.nameSuffix}`;
    benchLine(name, "p50-ms", r50, "lower");
    benchLine(name, "p99-ms", r99, "lower");
    benchLine(name, "p50-vs-plain-git", r50 / p50, "lower");
    benchLine(name, "client-p50-ms", c50, "lower");
    benchLine(name, "client-p99-ms", c99, "lower");
    benchLine(name, "client-p50-vs-plain-git", c50 / p50, "lower");

    if (PROFILE) printProfile(samples, perRelease);
  } finally {
    await client?.stop();
    await b.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
}

/** Per release: where its time went, from POST sent to the writer idle again. */
function printProfile(samples: (ClientSample & { endedAt: number })[], perRelease: Span[][]): void {
  const n = samples.length;
  const rows: string[][] = [["kind", "what", "calls/release", "mean ms/call", "p50 ms/release", "p99 ms/release"]];
  const keys = new Map<string, { kind: Span["kind"]; what: string }>();
  for (const list of perRelease) for (const s of list) keys.set(`${s.kind}\0${s.what}`, { kind: s.kind, what: s.what });
  const lines = [...keys.values()].map(({ kind, what }) => {
    const per = perRelease.map((list) => list.filter((s) => s.kind === kind && s.what === what));
    const totals = per.map((l) => sum(l.map((s) => s.ms))).sort((a, b) => a - b);
    const calls = sum(per.map((l) => l.length));
    return { kind, what, calls, mean: sum(totals) / Math.max(1, calls), p50: percentile(totals, 50), p99: percentile(totals, 99), total: sum(totals) };
  });
  lines.sort((a, b) => (a.kind === b.kind ? b.total - a.total : a.kind.localeCompare(b.kind)));
  for (const l of lines) rows.push([l.kind, l.what, f2(l.calls / n), f2(l.mean), f2(l.p50), f2(l.p99)]);
  console.log(`\nprofile: ${n} releases; a span belongs to the release during whose window (POST sent → writer idle) it started`);
  console.log(table(rows));

  // Per release: the remote view split into what was timed.
  const gitTop = (s: Span) => s.kind === "git" && !s.what.includes("/");
  const part = (pick: (s: Span) => boolean) => perRelease.map((list) => sum(list.filter(pick).map((s) => s.ms)));
  const writerStore = (s: Span) => s.kind === "store" && s.what !== "get" && s.what !== "enqueue";
  const post = samples.map((s) => s.postMs);
  const git = part(gitTop);
  const store = part(writerStore);
  const rest = samples.map((s, i) => s.remoteMs - (post[i] ?? 0) - (git[i] ?? 0) - (store[i] ?? 0));
  const gap = samples.map((s) => s.clientMs - s.remoteMs);
  const fetches = perRelease.map((list) => list.filter((s) => s.kind === "git" && s.what === "fetch").length);
  console.log(`\nper release, p50 (ms): remote view ${f1(median(samples.map((s) => s.remoteMs)))} = POST round trip ${f1(median(post))} + writer's git processes ${f1(median(git))} + writer's store calls ${f1(median(store))} + the rest ${f1(median(rest))} (spawning processes, rendering, the event loop; p50s do not add up exactly)`);
  console.log(`client's POST round trip p50 ${f1(median(samples.map((s) => s.postMs)))}; gap remote ref → client sees pushed: p50 ${f1(median(gap))}, p99 ${f1(percentile([...gap].sort((a, b) => a - b), 99))}`);
  console.log(`fetches: ${sum(fetches)} in ${n} releases (${fetches.slice(1).filter((x) => x > 0).length} after the first release)`);

  // The release with the median remote view, step by step (GET polls left out).
  const byRemote = samples.map((s, i) => ({ s, i })).sort((a, b) => a.s.remoteMs - b.s.remoteMs);
  const mid = byRemote[Math.floor(byRemote.length / 2)];
  if (!mid) return;
  const steps = (perRelease[mid.i] ?? []).filter((s) => !(s.kind === "http" && s.what.startsWith("GET ")) && s.what !== "get").sort((a, b) => a.at - b.at);
  console.log(`\ntimeline of the median release (remote view ${f1(mid.s.remoteMs)} ms, client view ${f1(mid.s.clientMs)} ms; ms from POST sent):`);
  const events = [
    ...steps.map((s) => ({ at: s.at - mid.s.startedAt, text: `${s.kind} ${s.what} ${f2(s.ms)} ms (until ${f1(s.at - mid.s.startedAt + s.ms)})` })),
    { at: mid.s.postMs, text: "client: POST answered 202" },
    { at: mid.s.remoteMs, text: "remote: ref file names the commit" },
    { at: mid.s.clientMs, text: "client: a GET answered pushed" },
  ].sort((a, b) => a.at - b.at);
  for (const e of events) console.log(`  ${f1(e.at).padStart(7)}  ${e.text}`);
}

await main();
