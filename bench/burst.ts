// bench/burst: 2,000 queued releases → all pushed. Baseline in the same run: a plain git loop
// making the same 2,000 one-file commits in a work tree and pushing once.
import type { Store } from "../src/store/store.js";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { benchArtifact, git, startGitopsBench } from "./gitopsFixture.js";
import { benchLine } from "./load.js";

const COUNT = Number(process.env.BENCH_RELEASES ?? 2000);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

async function main(): Promise<void> {
  // No polling: the writer starts when told, after the whole burst is queued.
  const b = await startGitopsBench({ writerPollMs: 3_600_000 });
  try {
    const auth = { authorization: `Bearer ${b.ci}` };
    for (let i = 0; i < COUNT; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, COUNT - i) }, (_, k) =>
          b.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: benchArtifact(i + k), headers: auth }),
        ),
      );
    }
    // Queue every release first (the writer is told only once), as a mass release would.
    for (let i = 0; i < COUNT; i += 100) {
      const outs = await Promise.all(
        Array.from({ length: Math.min(100, COUNT - i) }, (_, k) =>
          b.releases.enqueue({ artifactId: `bench-${i + k}`, environment: "rawhide", repository: "gitops", branch: "main", package: `bench-pkg-${i + k}`, trigger: "user:bench", createdBy: "bench", force: false }),
        ),
      );
      for (const out of outs) if (out.status !== "queued") throw new Error(out.status);
    }
    if ((await countPushed(b.db)) !== 0) throw new Error("the writer started before the burst was queued");
    const t0 = performance.now();
    b.writer.notify("gitops");
    for (;;) {
      const pushed = await countPushed(b.db);
      if (pushed === COUNT) break;
      if (performance.now() - t0 > 600_000) throw new Error(`only ${pushed} of ${COUNT} pushed after 10 min`);
      await sleep(20);
    }
    const relengdMs = performance.now() - t0;
    const commits = Number(git(b.remote, "rev-list", "--count", "main").trim());

    const work = path.join(b.dir, "plain");
    mkdirSync(work);
    git(work, "init", "--quiet", "--initial-branch=main");
    git(work, "config", "user.name", "bench");
    git(work, "config", "user.email", "bench@localhost");
    git(b.dir, "init", "--quiet", "--bare", "--initial-branch=main", "plain-remote.git");
    const t1 = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const file = `koji/tags/f45/bench-pkg-${i}.yaml`;
      mkdirSync(path.join(work, path.dirname(file)), { recursive: true });
      writeFileSync(path.join(work, file), `nvr: bench-pkg-${i}-1.0-${i}.fc45\n`);
      git(work, "add", file);
      git(work, "commit", "--quiet", "-m", `koji-tag: bench-pkg-${i}`);
    }
    git(work, "push", "--quiet", path.join(b.dir, "plain-remote.git"), "HEAD:main");
    const plainMs = performance.now() - t1;

    const rate = (COUNT / relengdMs) * 1000;
    const plainRate = (COUNT / plainMs) * 1000;
    console.log(`burst: ${COUNT} queued releases → all pushed (${b.database.provider === "postgresql" ? "PostgreSQL" : "SQLite"}, file:// remote, KojiTag documents)`);
    console.log(`  relengd     ${(relengdMs / 1000).toFixed(2)} s  ${rate.toFixed(0)} releases/s  (${commits} commits in the remote)`);
    console.log(`  plain git   ${(plainMs / 1000).toFixed(2)} s  ${plainRate.toFixed(0)} commits/s  (write + add + commit per file, one push)`);
    console.log(`  ratio relengd/plain git throughput: ${(rate / plainRate).toFixed(2)}×`);
    if (commits !== COUNT) console.log(`  WARNING: expected ${COUNT} commits`);
    benchLine(`burst${b.nameSuffix}`, "releases-per-s", rate, "higher");
    benchLine(`burst${b.nameSuffix}`, "vs-plain-git", rate / plainRate, "higher");
  } finally {
    await b.close();
  }
}

await main();

async function countPushed(store: Store): Promise<number> {
  const row = await store.read((tx) =>
    tx
      .selectFrom("Release")
      .select((e) => e.fn.countAll<number | string>().as("n"))
      .where("status", "=", "pushed")
      .executeTakeFirstOrThrow(),
  );
  // PostgreSQL's count(*) is a bigint, which pg hands over as text.
  return Number(row.n);
}
