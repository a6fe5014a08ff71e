// bench/mass-rebuild: 25,000 one-build artifacts pushed over HTTP with the shipped policies; the
// mass-rebuild policy fires for each and the writer pushes every document (bulk commits).
// Reports end-to-end time and the server's peak RSS (the load generator is a separate process,
// bench/massRebuildLoad.ts), beside a `git fast-import` of the same 25,000 files in commits of
// the same size, in the same run.
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { git, startGitopsBench } from "./gitopsFixture.js";

const COUNT = Number(process.env.BENCH_ARTIFACTS ?? 25_000);
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BATCH = 200; // the writer's batch size: one bulk commit each
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

async function main(): Promise<void> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const b = await startGitopsBench({ shippedPolicies: true });
  try {
    const url = await b.app.listen({ host: "127.0.0.1", port: 0 });
    const startRss = process.memoryUsage().rss;
    const t0 = performance.now();
    const load = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "massRebuildLoad.ts"), url, b.ci, String(COUNT), String(CONCURRENCY)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let loadOut = "";
    load.stdout.on("data", (d: Buffer) => (loadOut += d.toString()));
    const code = await new Promise<number | null>((resolve) => load.on("close", resolve));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    const failures = (JSON.parse(loadOut) as { failures: number }).failures;
    const ingestMs = performance.now() - t0;
    for (;;) {
      const pushed = await b.db.prisma.release.count({ where: { status: "pushed" } });
      if (pushed >= COUNT) break;
      if (performance.now() - t0 > 900_000) throw new Error(`only ${pushed} of ${COUNT} pushed after 15 min`);
      await sleep(100);
    }
    const totalMs = performance.now() - t0;
    clearInterval(sampler);
    const files = Number(git(b.remote, "ls-tree", "-r", "--name-only", "main").trim().split("\n").filter((l) => l.startsWith("koji/tags/f45/bench-pkg-")).length);
    const commits = Number(git(b.remote, "rev-list", "--count", "main").trim());

    // Baseline: the same files through one git fast-import, commits of BATCH files.
    const bare = path.join(b.dir, "fast-import.git");
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
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`))));
      child.stdin.end(chunks.join(""));
    });
    const fastImportMs = performance.now() - t1;

    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    console.log(`mass rebuild: ${COUNT} one-build artifacts over HTTP (${CONCURRENCY} connections), shipped policies, SQLite, file:// remote`);
    console.log(`  ingest (all ${COUNT} answered)      ${(ingestMs / 1000).toFixed(1)} s  (${((COUNT / ingestMs) * 1000).toFixed(0)} artifacts/s, ${failures} non-201)`);
    console.log(`  end to end (all releases pushed)   ${(totalMs / 1000).toFixed(1)} s   target ≤ 60 s: ${totalMs <= 60_000 ? "PASS" : "FAIL"}`);
    console.log(`  server RSS: ${mb(startRss)} ready, ${mb(peakRss)} peak   target ≤ 250 MB: ${peakRss <= 250 * 1024 * 1024 ? "PASS" : "FAIL"}`);
    console.log(`  remote: ${files} documents in ${commits} commits`);
    console.log(`  git fast-import of the same files  ${(fastImportMs / 1000).toFixed(2)} s  (relengd end to end is ${(totalMs / fastImportMs).toFixed(0)}× that)`);
  } finally {
    clearInterval(sampler);
    await b.close();
  }
}

await main();
