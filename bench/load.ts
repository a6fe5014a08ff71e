// Runs autocannon in a worker thread (so the load generator does not share the server's event loop) and summarises latencies.
import { Worker } from "node:worker_threads";

/**
 * What the worker sends: generated artifacts with unique ids, or a fixed list of GET paths.
 * Artifacts are shaped as `f41` (no shipped policy matches) unless `shape` says `rawhide`
 * (a distinct package per artifact, gated, so `rawhide-auto` fires; see fedoraArtifacts.ts).
 */
export type LoadRequests =
  | { kind: "artifacts"; path: string; idPrefix: string; shape?: ArtifactShape }
  | { kind: "paths"; paths: string[] };

export type ArtifactShape = "f41" | "rawhide";

export interface LoadSpec {
  title: string;
  /** Base URL; only 127.0.0.1 is accepted. */
  url: string;
  connections: number;
  durationSeconds: number;
  headers: Record<string, string>;
  requests: LoadRequests;
  /** Requests per second over all connections (autocannon's overallRate); saturation when absent. */
  overallRate?: number;
}

/** What the worker posts back (structured-cloned). */
export interface WorkerResult {
  title: string;
  durationSeconds: number;
  responses: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Response times in ms, float precision (autocannon's own histogram rounds to whole ms). */
  latenciesMs: Float64Array<ArrayBuffer>;
  /** Artifact ids the server answered 201 for (kind "artifacts" only). */
  createdIds: string[];
}

export interface LoadResult extends WorkerResult {
  ok2xx: number;
  non2xx: number;
}

// tsx's loader hooks do not reach a worker's entry module on Node 20, so the worker first
// registers tsx through its API and then imports the TypeScript entry.
const tsxApi = import.meta.resolve("tsx/esm/api");
const workerEntry = new URL("./loadWorker.ts", import.meta.url).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerEntry)}); })`;

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (new URL(spec.url).hostname !== "127.0.0.1") throw new Error(`benchmarks only send traffic to 127.0.0.1, not ${spec.url}`);
  return new Promise((resolve, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData: spec });
    let settled = false;
    worker.once("message", (result: WorkerResult) => {
      settled = true;
      void worker.terminate();
      const ok2xx = Object.entries(result.statusCounts).reduce((n, [code, count]) => (code.startsWith("2") ? n + count : n), 0);
      resolve({ ...result, ok2xx, non2xx: result.responses - ok2xx });
    });
    worker.once("error", (err) => {
      settled = true;
      reject(err);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`load worker for ${spec.title} exited with code ${code} before reporting`));
    });
  });
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles over all samples of one or more runs. */
export function summarizeLatencies(samples: Float64Array[]): LatencySummary {
  const total = samples.reduce((n, s) => n + s.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const s of samples) {
    all.set(s, offset);
    offset += s.length;
  }
  all.sort();
  const at = (p: number) => (total === 0 ? Number.NaN : (all[Math.min(total - 1, Math.max(0, Math.ceil((p / 100) * total) - 1))] ?? Number.NaN));
  return { count: total, p50: at(50), p95: at(95), p99: at(99), max: total === 0 ? Number.NaN : (all[total - 1] ?? Number.NaN) };
}

export function ms(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

export function ratio(value: number, base: number): string {
  return base > 0 && Number.isFinite(value) ? `${(value / base).toFixed(2)}×` : "n/a";
}

export function verdict(pass: boolean): string {
  return pass ? "PASS" : "FAIL";
}

/** Pads cells into aligned columns for the console. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")).join("\n");
}

/**
 * One machine-readable line per key figure, for bench/guard.sh to compare two trees:
 * `BENCH <name> <metric> <value> <higher|lower>-is-better`. Names and metrics are single words.
 */
export function benchLine(name: string, metric: string, value: number, better: "higher" | "lower"): void {
  console.log(`BENCH ${name} ${metric} ${Number.isFinite(value) ? Number(value.toPrecision(6)) : "nan"} ${better}-is-better`);
}

export const pause = (msDelay: number) => new Promise<void>((r) => setTimeout(r, msDelay));
