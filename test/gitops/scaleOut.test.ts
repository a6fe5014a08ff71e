// Scale-out on PostgreSQL: two `relengd serve` processes share one database and one
// GitOps remote. One of them holds the writer lease of the branch; when it is killed with
// SIGKILL mid-burst, the other takes the branch over within 10 s and every release is pushed
// exactly once, with no forced push.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { migrate } from "../../src/store/migrator.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabaseUrl, postgresUrl } from "../support/database.js";
import { recordPushes } from "../support/pushRecorder.js";
import { cloneRemote, git } from "../support/remote.js";
import { cleanEnv, freePort, startServerProcess, type ServerProcess } from "../support/serverProcess.js";

const RELEASES = 240;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function remoteCount(remote: string): number {
  try {
    return Number(git(remote, "rev-list", "--count", "refs/heads/main").trim());
  } catch {
    return 0;
  }
}

/** The repositories whose writer lease `server` says it holds (its /metrics). */
async function leasesOf(server: ServerProcess): Promise<string[]> {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text(), () => "");
  return [...text.matchAll(/^relengd_writer_lease\{repository="([^"]+)"\} 1$/gm)].map((m) => m[1] as string);
}

describe.skipIf(!postgresUrl)("two replicas on one PostgreSQL", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-scale-"));
  const started: ServerProcess[] = [];
  let dropDatabase: (() => Promise<void>) | undefined;
  afterAll(async () => {
    for (const s of started) await s.stop().catch(() => undefined);
    for (const s of started) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // Already gone with its group.
      }
    }
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it("one replica writes the branch; killed mid-burst, the other takes over within 10 s and every release is pushed exactly once", async () => {
    const database = freshDatabaseUrl("postgresql");
    dropDatabase = database.drop;
    await migrate(database.url);
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    const recorder = recordPushes(remote);
    const policies = path.join(dir, "policies");
    mkdirSync(policies);
    copyFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), path.join(policies, "environments.yaml"));
    const secret = randomBytes(36).toString("base64url");
    const envFor = async (name: string): Promise<NodeJS.ProcessEnv> => {
      mkdirSync(path.join(dir, name));
      return {
        ...cleanEnv(),
        RELENGD_DATA_DIR: path.join(dir, name),
        RELENGD_DATABASE_URL: database.url,
        RELENGD_HOST: "127.0.0.1",
        RELENGD_PORT: String(await freePort()),
        RELENGD_POLICIES_DIR: policies,
        RELENGD_GITOPS_REPO: remote,
        RELENGD_TOKEN_SECRET: secret,
        RELENGD_LOG_LEVEL: "warn",
        // Small batches: many pushes, so the kill lands between them.
        RELENGD_WRITER_BATCH_SIZE: "5",
      };
    };
    const replicas = [await startServerProcess(await envFor("a")), await startServerProcess(await envFor("b"))];
    started.push(...replicas);
    const tokens = new TokenService(secret);
    const ci = { authorization: `Bearer ${(await tokens.issue({ subject: "scale-ci", role: "ci", ttlSeconds: 3600 })).token}`, "content-type": "application/json" };
    const releaser = { authorization: `Bearer ${(await tokens.issue({ subject: "scale-releaser", role: "releaser", ttlSeconds: 3600 })).token}`, "content-type": "application/json" };

    // Artifacts and releases go through both replicas, as behind a load balancer.
    const artifacts = Array.from({ length: RELEASES }, (_, i) => sampleArtifact({ package: `scale-${i}` }));
    for (let i = 0; i < artifacts.length; i += 24) {
      await Promise.all(
        artifacts.slice(i, i + 24).map(async (a, k) => {
          const res = await fetch(`${replicas[k % 2]?.url}/api/v1/artifacts`, { method: "POST", headers: ci, body: JSON.stringify(a) });
          expect(res.status, await res.clone().text()).toBe(201);
        }),
      );
    }
    const releaseIds = new Map<string, string>();
    let alive = [...replicas];
    const queue = async (artifactId: string, k: number): Promise<void> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const target = alive[k % alive.length] as ServerProcess;
        const res = await fetch(`${target.url}/api/v1/releases`, { method: "POST", headers: releaser, body: JSON.stringify({ artifactId, environment: "rawhide" }) }).catch(() => null);
        if (res === null) continue; // That replica died under the request: ask the other.
        const body = (await res.json()) as { id?: string; existingRelease?: string };
        if (res.status === 202 && body.id) return void releaseIds.set(artifactId, body.id);
        if (res.status === 409 && body.existingRelease) return void releaseIds.set(artifactId, body.existingRelease);
        throw new Error(`POST /api/v1/releases answered ${res.status}: ${JSON.stringify(body)}`);
      }
      throw new Error(`could not queue a release of ${artifactId}`);
    };
    let next = 0;
    const burst = Promise.all(
      Array.from({ length: 6 }, async (_, k) => {
        while (next < artifacts.length) {
          const a = artifacts[next++];
          if (a) await queue(a.id, k);
          await sleep(10);
        }
      }),
    );

    // Once the remote has grown a little, kill whichever replica holds the lease.
    let deadline = Date.now() + 60_000;
    for (;;) {
      if (remoteCount(remote) >= 20) break;
      if (Date.now() > deadline) throw new Error(`the remote did not reach 20 commits within 60 s\n${replicas.map((r) => r.output()).join("\n")}`);
      await sleep(20);
    }
    const holders = await Promise.all(replicas.map(leasesOf));
    expect(holders.filter((h) => h.length > 0), "exactly one replica holds the writer lease").toHaveLength(1);
    const holderIndex = holders.findIndex((h) => h.length > 0);
    const holder = replicas[holderIndex] as ServerProcess;
    const survivor = replicas[1 - holderIndex] as ServerProcess;
    expect(holders[holderIndex]).toEqual(["gitops"]);
    const commitsAtKill = remoteCount(remote);
    alive = [survivor];
    const killedAt = Date.now();
    await holder.kill("group");

    deadline = killedAt + 10_000;
    let takeoverMs = -1;
    for (;;) {
      if ((await leasesOf(survivor)).length > 0) {
        takeoverMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the surviving replica did not take the writer lease within 10 s\n${survivor.output()}`);
      await sleep(100);
    }
    expect(takeoverMs).toBeLessThanOrEqual(10_000);
    await burst;
    expect(releaseIds.size).toBe(RELEASES);

    // Everything ends pushed, through the survivor.
    interface ReleaseView {
      id: string;
      status: string;
      commitSha: string | null;
    }
    let last: ReleaseView[] = [];
    deadline = Date.now() + 90_000;
    for (;;) {
      const res = await fetch(`${survivor.url}/api/v1/releases?environment=rawhide&limit=500`, { headers: releaser });
      last = ((await res.json()) as { items: ReleaseView[] }).items;
      if (last.length >= RELEASES && last.every((r) => r.status === "pushed")) break;
      if (Date.now() > deadline) {
        const stuck = last.filter((r) => r.status !== "pushed").map((r) => `${r.id} ${r.status}`);
        throw new Error(`not every release pushed within 90 s of the kill:\n${stuck.slice(0, 20).join("\n")}\n${survivor.output()}`);
      }
      await sleep(250);
    }
    expect(remoteCount(remote)).toBeGreaterThan(commitsAtKill);

    const clone = cloneRemote(remote);
    try {
      const counts = new Map<string, number>();
      for (const c of clone.log()) if (c.release) counts.set(c.release.releaseId, (counts.get(c.release.releaseId) ?? 0) + 1);
      const ids = [...releaseIds.values()];
      expect(ids.filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`), "release ids not exactly once in history").toEqual([]);
    } finally {
      clone.dispose();
    }
    expect(recorder.pushes().filter((p) => !p.fastForward), "forced pushes").toEqual([]);
    console.log(`scale-out: lease taken over ${takeoverMs} ms after SIGKILL; ${commitsAtKill} commits before, ${remoteCount(remote)} after`);
  }, 240_000);
});
