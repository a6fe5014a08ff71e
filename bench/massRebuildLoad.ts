// Load generator of bench/mass-rebuild, run as its own process so that the benchmark's RSS
// figure is the server's alone: POSTs COUNT mass-rebuild artifacts with CONCURRENCY connections.
import { benchArtifact } from "./gitopsFixture.js";

const [url, token, countText, concurrencyText] = process.argv.slice(2);
if (!url || !token || !countText || !concurrencyText) {
  console.error("usage: massRebuildLoad.ts URL TOKEN COUNT CONCURRENCY");
  process.exit(2);
}
const count = Number(countText);
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

export function rebuildArtifact(n: number) {
  const a = benchArtifact(n);
  return { ...a, items: [{ kind: "koji-build" as const, nvr: `bench-pkg-${n}-1.0-2.fc45`, target: "f45-rebuild", buildId: 4_000_000 + n }] };
}

let next = 0;
let failures = 0;
await Promise.all(
  Array.from({ length: Number(concurrencyText) }, async () => {
    while (next < count) {
      const n = next++;
      const res = await fetch(`${url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(rebuildArtifact(n)) });
      await res.arrayBuffer();
      if (res.status !== 201) failures++;
    }
  }),
);
process.stdout.write(JSON.stringify({ failures }) + "\n");
