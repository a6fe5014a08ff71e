// 2,000 releases (BENCH_RELEASES) POSTed to a real `relengd serve` process (compiled dist/,
// file:// remote) that is killed with SIGKILL 5 times (BENCH_KILLS) while it writes, and started
// again on the same data dir each time; on SQLite, and on PostgreSQL when BENCH_DATABASE_URL (or
// TEST_DATABASE_URL) is set. Reported: acknowledged releases (202, or 409 naming one), lost
// (acknowledged, not in the store), duplicated (in more than one commit), stuck (not pushed at the
// end), and the time from the last restart until every release is pushed. Targets: 0, 0, 0, every
// acknowledged release pushed. The kill takes the server's whole process group, git children
// mid-write included, as a crashed container goes (BENCH_KILL_SCOPE=process: the server alone).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { TokenService } from "../src/auth/tokens.js";
import { ensureBareRepository } from "../src/gitops/repository.js";
import { parseDatabaseUrl } from "../src/store/databaseUrl.js";
import { freePort } from "../test/support/serverProcess.js";
import { git } from "./gitopsFixture.js";
import { benchLine } from "./load.js";

const RELEASES = Number(process.env.BENCH_RELEASES ?? 2000);
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
const SCOPE = process.env.BENCH_KILL_SCOPE === "process" ? "process" : "group";
const root = path.resolve(import.meta.dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function remoteCount(remote: string): number {
  try {
    return Number(git(remote, "rev-list", "--count", "refs/heads/main").trim());
  } catch {
    return 0;
  }
}

function artifact(n: number) {
  const pkg = `kill-burst-${n}`;
  return {
    id: `kill-burst-${n}`,
    package: pkg,
    release: "rawhide",
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: "rawhide", event: "build" },
    items: [{ kind: "koji-build", nvr: `${pkg}-1.0-1.fc45`, buildId: 4_000_000 + n, taskId: 140_000_000 + n, target: "rawhide" }],
  };
}

async function run(provider: "sqlite" | "postgresql", postgresUrl?: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `relengd-kill-burst-${provider}-`));
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  const policies = path.join(dir, "policies");
  mkdirSync(policies);
  // The shipped environments without policies: every release is one the benchmark asked for.
  copyFileSync(path.join(root, "policies/environments.yaml"), path.join(policies, "environments.yaml"));
  mkdirSync(path.join(dir, "data"));
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const databaseUrl = provider === "sqlite" ? `file:${path.join(dir, "data", "relengd.db")}` : `${postgresUrl}${postgresUrl?.includes("?") ? "&" : "?"}schema=${schema}`;
  const secret = randomBytes(32).toString("hex");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RELENGD_PORT: String(port),
    RELENGD_HOST: "127.0.0.1",
    RELENGD_DATA_DIR: path.join(dir, "data"),
    RELENGD_DATABASE_URL: databaseUrl,
    RELENGD_GITOPS_REPO: remote,
    RELENGD_POLICIES_DIR: policies,
    RELENGD_TOKEN_SECRET: secret,
    RELENGD_LOG_LEVEL: process.env.BENCH_LOG ?? "error",
    // Many pushes, so that each kill lands between two of them.
    RELENGD_WRITER_BATCH_SIZE: process.env.BENCH_WRITER_BATCH ?? "25",
  };
  const token = (await new TokenService(secret).issue({ subject: "bench", role: "releaser", ttlSeconds: 3600 })).token;
  const ci = (await new TokenService(secret).issue({ subject: "bench-ci", role: "ci", ttlSeconds: 3600 })).token;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  let server: ChildProcess;
  const startServer = async () => {
    server = spawn(process.execPath, [path.join(root, "bin/relengd.js"), "serve"], { cwd: dir, env, stdio: ["ignore", "ignore", "inherit"], detached: true });
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return;
      if (server.exitCode !== null) throw new Error(`relengd serve exited with ${server.exitCode}`);
      if (i > 3000) throw new Error("relengd serve did not answer /healthz within 30 s");
      await sleep(10);
    }
  };
  const kill = async () => {
    const pid = server.pid as number;
    const exited = new Promise((r) => server.once("exit", r));
    process.kill(SCOPE === "group" ? -pid : pid, "SIGKILL");
    await exited;
  };

  try {
    await startServer();
    const all = Array.from({ length: RELEASES }, (_, n) => artifact(n));
    for (let i = 0; i < all.length; i += 50) {
      await Promise.all(
        all.slice(i, i + 50).map(async (a) => {
          const res = await fetch(`${url}/api/v1/artifacts`, { method: "POST", headers: { ...headers, authorization: `Bearer ${ci}` }, body: JSON.stringify(a) });
          if (res.status !== 201) throw new Error(`artifact ${a.id}: ${res.status} ${await res.text()}`);
        }),
      );
    }
    const acknowledged = new Map<string, string>();
    const burst = async (alive: () => boolean) => {
      const todo = all.filter((a) => !acknowledged.has(a.id));
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (alive() && next < todo.length) {
            const a = todo[next++];
            if (!a) continue;
            try {
              const res = await fetch(`${url}/api/v1/releases`, { method: "POST", headers, body: JSON.stringify({ artifactId: a.id, environment: "rawhide" }) });
              const body = (await res.json()) as { id?: string; existingRelease?: string };
              if (res.status === 202 && body.id) acknowledged.set(a.id, body.id);
              else if (res.status === 409 && body.existingRelease) acknowledged.set(a.id, body.existingRelease);
              else throw new Error(`release ${a.id}: ${res.status} ${JSON.stringify(body)}`);
            } catch (err) {
              if (err instanceof TypeError) continue; // the connection died with the server
              throw err;
            }
          }
        }),
      );
    };
    const atKills: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      let alive = true;
      const posting = burst(() => alive);
      const from = remoteCount(remote);
      // Spread over the whole burst: the later kills restart over more release commits than one statement binds.
      const step = Math.max(1, Math.floor(RELEASES / (KILLS + 1)));
      for (const deadline = Date.now() + 60_000; ; ) {
        const count = remoteCount(remote);
        if (count >= from + step || count >= RELEASES - 1) break;
        if (Date.now() > deadline) throw new Error(`the remote did not grow within 60 s (at ${count})`);
        await sleep(5);
      }
      atKills.push(remoteCount(remote));
      await kill();
      alive = false;
      await posting;
      await startServer();
    }
    const restarted = performance.now();
    await burst(() => true);
    let last: { id: string; status: string; commitSha: string | null }[] = [];
    for (const deadline = Date.now() + 300_000; ; ) {
      last = [];
      let cursor: string | null = null;
      do {
        const res = await fetch(`${url}/api/v1/releases?environment=rawhide&limit=500${cursor ? `&cursor=${cursor}` : ""}`, { headers });
        const page = (await res.json()) as { items: typeof last; nextCursor: string | null };
        last.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      if (last.length >= acknowledged.size && last.every((r) => r.status !== "queued" && r.status !== "committed")) break;
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    const settleSeconds = (performance.now() - restarted) / 1000;
    const carriers = new Map<string, number>();
    for (const line of git(remote, "log", "main", "--format=%(trailers:key=Relengd-Release-Id,valueonly,separator=%x20)").split("\n")) {
      for (const id of line.trim().split(" ").filter(Boolean)) carriers.set(id, (carriers.get(id) ?? 0) + 1);
    }
    const stored = new Map(last.map((r) => [r.id, r]));
    const ids = [...acknowledged.values()];
    const lost = ids.filter((id) => !stored.has(id)).length;
    const duplicated = [...carriers.values()].filter((n) => n > 1).length;
    const stuck = ids.filter((id) => stored.get(id)?.status !== "pushed").length;
    const notInGit = ids.filter((id) => (carriers.get(id) ?? 0) !== 1).length;
    const byStatus = new Map<string, number>();
    for (const r of last) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    console.log(`kill-burst on ${provider}: ${RELEASES} releases, ${KILLS} × SIGKILL (${SCOPE}) at ${atKills.join(", ")} commits; writer batch ${env.RELENGD_WRITER_BATCH_SIZE}`);
    console.log(`  acknowledged ${acknowledged.size}/${RELEASES}; statuses ${[...byStatus].map(([s, n]) => `${s} ${n}`).join(", ")}; all settled ${settleSeconds.toFixed(1)} s after the last restart`);
    console.log(`  lost ${lost}, duplicated ${duplicated}, stuck ${stuck}, not exactly once in git ${notInGit}   target 0/0/0/0: ${lost + duplicated + stuck + notInGit === 0 && acknowledged.size === RELEASES ? "PASS" : "FAIL"}`);
    benchLine(`kill-burst-${provider}`, "settle-s", settleSeconds, "lower");
    benchLine(`kill-burst-${provider}`, "problems", lost + duplicated + stuck + notInGit + (RELEASES - acknowledged.size), "lower");
  } finally {
    try {
      process.kill(-(server!.pid as number), "SIGKILL");
    } catch {
      // Already gone.
    }
    if (provider === "postgresql" && postgresUrl) {
      const client = new pg.Client({ connectionString: parseDatabaseUrl(postgresUrl).location });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_SKIP_BUILD !== "1") execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
await run("sqlite");
const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (postgresUrl) await run("postgresql", postgresUrl);
else console.log("kill-burst on postgresql: skipped (set BENCH_DATABASE_URL)");
