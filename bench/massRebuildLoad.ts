// Load generator of bench/mass-rebuild, run as its own process so that the benchmark's RSS
// figure is the server's alone: POSTs COUNT mass-rebuild artifacts with CONCURRENCY connections.
// node:http with keep-alive rather than fetch: on a 2-core machine the client shares the CPU
// with the server, and fetch spent about 0.8 ms of CPU per request (18-24 s of a run).
import http from "node:http";
import { benchArtifact } from "./gitopsFixture.js";

const [url, token, countText, concurrencyText] = process.argv.slice(2);
if (!url || !token || !countText || !concurrencyText) {
  console.error("usage: massRebuildLoad.ts URL TOKEN COUNT CONCURRENCY");
  process.exit(2);
}
const count = Number(countText);
const concurrency = Number(concurrencyText);
const target = new URL("/api/v1/artifacts", url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

export function rebuildArtifact(n: number) {
  const a = benchArtifact(n);
  return { ...a, items: [{ kind: "koji-build" as const, nvr: `bench-pkg-${n}-1.0-2.fc45`, target: "f45-rebuild", buildId: 4_000_000 + n }] };
}

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      { method: "POST", agent, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let next = 0;
let failures = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const n = next++;
      if ((await post(JSON.stringify(rebuildArtifact(n)))) !== 201) failures++;
    }
  }),
);
agent.destroy();
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ failures, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + "\n");
