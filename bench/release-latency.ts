// bench/release-latency: an ad-hoc release on an idle server → its commit visible in the remote.
// Baseline in the same run: the plainest way to make one commit visible in a remote (a work
// tree: write, git add, git commit, git push).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { benchArtifact, git, ms, percentile, startGitopsBench } from "./gitopsFixture.js";
import { benchLine } from "./load.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

async function main(): Promise<void> {
  const b = await startGitopsBench();
  try {
    for (let i = 0; i < RUNS; i++) {
      const res = await b.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: benchArtifact(i), headers: { authorization: `Bearer ${b.ci}` } });
      if (res.statusCode !== 201) throw new Error(`artifact push: ${res.statusCode} ${res.body}`);
    }
    const relengd: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const before = b.remoteHead();
      const t0 = performance.now();
      const res = await b.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: `bench-${i}`, environment: "rawhide" }, headers: { authorization: `Bearer ${b.releaser}` } });
      if (res.statusCode !== 202) throw new Error(`release: ${res.statusCode} ${res.body}`);
      while (b.remoteHead() === before) {
        if (performance.now() - t0 > 10_000) throw new Error("release not visible in the remote after 10 s");
        await sleep(1);
      }
      relengd.push(performance.now() - t0);
      await b.writer.idle();
    }

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

    relengd.sort((x, y) => x - y);
    plain.sort((x, y) => x - y);
    const [r50, r99, p50, p99] = [percentile(relengd, 50), percentile(relengd, 99), percentile(plain, 50), percentile(plain, 99)];
    console.log(`release → commit visible in the remote, ${RUNS} sequential releases on an idle server (SQLite, file:// remote)`);
    console.log(`  relengd     p50 ${ms(r50)}  p99 ${ms(r99)}`);
    console.log(`  plain git   p50 ${ms(p50)}  p99 ${ms(p99)}   (write + add + commit + push in a work tree)`);
    console.log(`  ratio relengd/plain git: p50 ${(r50 / p50).toFixed(2)}×  p99 ${(r99 / p99).toFixed(2)}×`);
    console.log(`  target p50 ≤ 150 ms: ${r50 <= 150 ? "PASS" : "FAIL"};  target p99 ≤ 500 ms: ${r99 <= 500 ? "PASS" : "FAIL"}`);
    benchLine("release-latency", "p50-ms", r50, "lower");
    benchLine("release-latency", "p99-ms", r99, "lower");
    benchLine("release-latency", "p50-vs-plain-git", r50 / p50, "lower");
  } finally {
    await b.close();
  }
}

await main();
