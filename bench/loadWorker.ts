// Worker-thread entry of bench/load.ts: runs one autocannon measurement and posts the raw figures back.
import { parentPort, workerData } from "node:worker_threads";
import autocannon from "autocannon";
import { ingestArtifact, rawhideArtifact } from "./fedoraArtifacts.js";
import type { LoadRequests, LoadSpec, WorkerResult } from "./load.js";

const spec = workerData as LoadSpec;

function requestsOf(source: LoadRequests, createdIds: string[]): autocannon.Request[] {
  if (source.kind === "paths") return source.paths.map((path) => ({ method: "GET", path }));
  let counter = 0;
  const make = source.shape === "rawhide" ? (n: number) => rawhideArtifact(`${source.idPrefix}${n}`, n, source.idPrefix) : (n: number) => ingestArtifact(`${source.idPrefix}${n}`, n);
  return [
    {
      method: "POST",
      path: source.path,
      // One counter shared by every connection of this run: each request carries a new id.
      setupRequest: (request) => {
        counter += 1;
        return { ...request, body: JSON.stringify(make(counter)) };
      },
      onResponse: (status, body) => {
        if (status === 201) createdIds.push((JSON.parse(body) as { id: string }).id);
      },
    },
  ];
}

function run(): Promise<WorkerResult> {
  const createdIds: string[] = [];
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        headers: spec.headers,
        requests: requestsOf(spec.requests, createdIds),
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
      },
      (err: unknown, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        resolve({
          title: spec.title,
          durationSeconds: result.duration,
          responses: latencies.length,
          statusCounts: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0])),
          errors: result.errors,
          timeouts: result.timeouts,
          latenciesMs: Float64Array.from(latencies),
          createdIds,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
  });
}

const result = await run();
parentPort?.postMessage(result, [result.latenciesMs.buffer]);
