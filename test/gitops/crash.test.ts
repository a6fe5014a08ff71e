// Crash safety of the writer: a real `relengd serve` killed with SIGKILL in the middle of a
// burst and started again on the same data dir pushes every release exactly once, also when the
// kill left git's lock files in its workspace (this test once failed with "cannot lock ref …
// File exists" after a SIGKILL).
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { TokenService } from "../../src/auth/tokens.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { sampleArtifact } from "../support/artifacts.js";
import { recordPushes } from "../support/pushRecorder.js";
import { cloneRemote, git } from "../support/remote.js";
import { cleanEnv, freePort, startServerProcess, type ServerProcess } from "../support/serverProcess.js";

const RELEASES = 300;

/** Lock files a git process killed mid-write leaves in the writer's bare workspace (relative to it). */
const LOCKS_A_KILL_LEAVES = ["config.lock", "packed-refs.lock", "refs/remotes/origin/main.lock", "refs/relengd/work.lock", "objects/info/commit-graph.lock"];

interface ReleaseView {
  id: string;
  artifactId: string;
  status: string;
  commitSha: string | null;
  attempts: number;
  error: string | null;
}

/** Release statuses in the server's SQLite file, read while the server is down. */
function statusesAtRest(file: string): Record<string, number> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT status, COUNT(*) AS n FROM Release GROUP BY status").all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

/** Commits on the remote's main (0 before the first push). */
function remoteCount(remote: string): number {
  try {
    return Number(git(remote, "rev-list", "--count", "refs/heads/main").trim());
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a writer killed with SIGKILL in the middle of a burst", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-crash-"));
  const started: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop().catch(() => undefined);
    // Orphaned git processes of a server killed alone belong to its process group.
    for (const s of started) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // The group is empty: nothing left running.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("pushes every release exactly once after being killed twice and restarted", async () => {
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    const recorder = recordPushes(remote);
    // The shipped environments, no policies: every release here is one the test asked for.
    const policies = path.join(dir, "policies");
    mkdirSync(policies);
    copyFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), path.join(policies, "environments.yaml"));
    // Made here: with RELENGD_TOKEN_SECRET and RELENGD_GITOPS_REPO set, nothing else creates the
    // data dir before the SQLite migration opens a file in it (reported separately).
    mkdirSync(path.join(dir, "data"));
    const secret = randomBytes(36).toString("base64url");
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...cleanEnv(),
      RELENGD_DATA_DIR: path.join(dir, "data"),
      RELENGD_DATABASE_URL: `file:${path.join(dir, "data", "relengd.db")}`,
      RELENGD_HOST: "127.0.0.1",
      RELENGD_PORT: String(port),
      RELENGD_POLICIES_DIR: policies,
      RELENGD_GITOPS_REPO: remote,
      RELENGD_TOKEN_SECRET: secret,
      RELENGD_LOG_LEVEL: "warn",
      // Small batches: many pushes, so a kill lands between them rather than after the last.
      RELENGD_WRITER_BATCH_SIZE: "10",
    };
    const { token } = await new TokenService(secret).issue({ subject: "crash-test", role: "releaser", ttlSeconds: 3600 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    let server = await startServerProcess(env);
    started.push(server);
    const url = server.url;

    const artifacts = Array.from({ length: RELEASES }, (_, i) => sampleArtifact({ package: `crash-${i}` }));
    for (let i = 0; i < artifacts.length; i += 25) {
      await Promise.all(
        artifacts.slice(i, i + 25).map(async (a) => {
          const res = await fetch(`${url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(a) });
          expect(res.status, await res.clone().text()).toBe(201);
        }),
      );
    }

    // Release ids the server acknowledged (202, or 409 naming the release an unanswered request queued).
    const acknowledged = new Map<string, string>();
    const unacknowledged = () => artifacts.filter((a) => !acknowledged.has(a.id));
    async function queue(artifactId: string): Promise<void> {
      let status: number;
      let body: { id?: string; existingRelease?: string };
      try {
        const res = await fetch(`${url}/api/v1/releases`, { method: "POST", headers, body: JSON.stringify({ artifactId, environment: "rawhide" }) });
        status = res.status;
        body = (await res.json()) as typeof body;
      } catch {
        return; // The server died under the request: asked again after the restart.
      }
      if (status === 202 && body.id) acknowledged.set(artifactId, body.id);
      else if (status === 409 && body.existingRelease) acknowledged.set(artifactId, body.existingRelease);
      else throw new Error(`POST /api/v1/releases answered ${status}: ${JSON.stringify(body)}`);
    }
    /** Queues what is not yet acknowledged, 8 requests at a time, until done or the server dies. */
    async function burst(alive: () => boolean): Promise<void> {
      const todo = unacknowledged();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (alive() && next < todo.length) {
            const a = todo[next++];
            if (a) await queue(a.id);
          }
        }),
      );
    }

    // Two rounds: queue, and kill the server once the remote has gained at least 40 commits in
    // this round but not all of them. The first kill takes the server's git processes along; the
    // second kills the server alone and leaves its git children running as orphans.
    const kills: { scope: "group" | "process"; atCommits: number; statuses: Record<string, number> }[] = [];
    for (const scope of ["group", "process"] as const) {
      const from = remoteCount(remote);
      let alive = true;
      const posting = burst(() => alive);
      const deadline = Date.now() + 30_000;
      let count = from;
      for (;;) {
        count = remoteCount(remote);
        if (count >= from + 40 && count < RELEASES) break;
        if (count >= RELEASES) throw new Error(`the burst finished before the kill (${count} commits); nothing was interrupted`);
        if (Date.now() > deadline) throw new Error(`the remote did not grow by 40 commits within 30 s (at ${count})\n${server.output()}`);
        await sleep(5);
      }
      await server.kill(scope);
      alive = false;
      await posting;
      kills.push({ scope, atCommits: count, statuses: statusesAtRest(path.join(dir, "data", "relengd.db")) });
      if (scope === "group") {
        // Every git process died with the server: what they were writing stays locked, as a
        // SIGKILL between git's taking a lock and its rename leaves it.
        const workspace = path.join(dir, "data", "workspaces", "gitops.git");
        for (const lock of LOCKS_A_KILL_LEAVES) {
          mkdirSync(path.dirname(path.join(workspace, lock)), { recursive: true });
          writeFileSync(path.join(workspace, lock), "");
        }
      }
      server = await startServerProcess(env);
      started.push(server);
    }

    await burst(() => true);
    expect(acknowledged.size).toBe(RELEASES);
    const workspace = path.join(dir, "data", "workspaces", "gitops.git");
    const ids = [...acknowledged.values()];

    let last: ReleaseView[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${url}/api/v1/releases?environment=rawhide&limit=500`, { headers });
      expect(res.status).toBe(200);
      last = ((await res.json()) as { items: ReleaseView[] }).items;
      if (last.length >= RELEASES && last.every((r) => r.status !== "queued" && r.status !== "committed")) break;
      if (Date.now() > deadline) {
        const stuck = last.filter((r) => r.status !== "pushed").map((r) => `${r.id} ${r.status} attempts=${r.attempts} ${r.error ?? ""}`);
        throw new Error(`not every release was pushed within 60 s after the restarts:\n${stuck.slice(0, 20).join("\n")}\n${server.output()}`);
      }
      await sleep(250);
    }

    expect(LOCKS_A_KILL_LEAVES.filter((lock) => existsSync(path.join(workspace, lock))), "stale locks left in the workspace").toEqual([]);
    // Exactly the releases asked for: one per artifact, none made twice by a retried request.
    expect(last).toHaveLength(RELEASES);
    expect(new Set(last.map((r) => r.id))).toEqual(new Set(ids));
    expect(last.filter((r) => r.status !== "pushed").map((r) => `${r.id}: ${r.status} ${r.error ?? ""}`)).toEqual([]);

    // Each release exactly once in history, recorded with the commit that carries it.
    const clone = cloneRemote(remote);
    try {
      const log = clone.log();
      const counts = new Map<string, number>();
      for (const c of log) if (c.release) counts.set(c.release.releaseId, (counts.get(c.release.releaseId) ?? 0) + 1);
      expect(ids.filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`), "release ids not exactly once in git log").toEqual([]);
      // The server gives the repository its README as the first commit; every other is a release's.
      expect(log.at(-1)?.message).toBe(GITOPS_ROOT_MESSAGE);
      expect(log.slice(0, -1).filter((c) => !c.release), "commits without release trailers").toEqual([]);
      const carrier = new Map(log.map((c) => [c.release?.releaseId ?? "", c.sha]));
      expect(last.filter((r) => r.commitSha !== carrier.get(r.id)).map((r) => `${r.id}: ${r.commitSha} vs ${carrier.get(r.id)}`), "recorded sha differs from history").toEqual([]);
      for (const [i, a] of artifacts.entries()) {
        const doc = parseYaml(clone.read(`koji/tags/f45/crash-${i}.yaml`) ?? "null") as { metadata?: { artifactId?: string; releaseId?: string } } | null;
        expect(doc?.metadata).toMatchObject({ artifactId: a.id, releaseId: acknowledged.get(a.id) });
      }
    } finally {
      clone.dispose();
    }

    // The remote survived the kills whole: no forced push, nothing dangling or broken.
    expect(recorder.pushes().filter((p) => !p.fastForward), "forced pushes").toEqual([]);
    expect(() => execFileSync("git", ["fsck", "--connectivity-only", "--no-progress"], { cwd: remote, stdio: "pipe" })).not.toThrow();
    // Each kill interrupted work: releases were still queued (or committed, not yet recorded as pushed).
    expect(kills.map((k) => k.scope)).toEqual(["group", "process"]);
    for (const k of kills) {
      expect(k.atCommits, JSON.stringify(k)).toBeLessThan(RELEASES);
      expect((k.statuses.queued ?? 0) + (k.statuses.committed ?? 0), JSON.stringify(k)).toBeGreaterThan(0);
    }
  }, 120_000);
});
