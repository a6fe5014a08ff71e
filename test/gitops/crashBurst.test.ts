// A burst of releases into a history longer than one statement can bind, with a real
// `relengd serve` killed with SIGKILL in the middle, on either database: after the restart no
// acknowledged release is lost, none is written twice, none stays queued or failed.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabaseUrl, testProviders } from "../support/database.js";
import { git } from "../support/remote.js";
import { cleanEnv, freePort, startServerProcess, type ServerProcess } from "../support/serverProcess.js";

/** Enough that the restart finds more release commits in history than one statement binds. */
const RELEASES = MAX_BIND_PARAMETERS + 201;
/** The kill comes once the remote holds more release commits than one statement binds. */
const KILL_AFTER = MAX_BIND_PARAMETERS + 1;

interface ReleaseView {
  id: string;
  status: string;
  commitSha: string | null;
  attempts: number;
  error: string | null;
}

function remoteCount(remote: string): number {
  try {
    return Number(git(remote, "rev-list", "--count", "refs/heads/main").trim());
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testProviders)("a burst into a long history with SIGKILL in the middle on %s", (provider) => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-crash-burst-"));
  const database = freshDatabaseUrl(provider);
  const started: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop().catch(() => undefined);
    for (const s of started) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // The group is empty: nothing left running.
      }
    }
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`pushes each of ${RELEASES} acknowledged releases exactly once after a kill past ${KILL_AFTER} commits`, async () => {
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    const policies = path.join(dir, "policies");
    mkdirSync(policies);
    copyFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), path.join(policies, "environments.yaml"));
    mkdirSync(path.join(dir, "data"));
    const secret = randomBytes(36).toString("base64url");
    const env: NodeJS.ProcessEnv = {
      ...cleanEnv(),
      RELENGD_DATA_DIR: path.join(dir, "data"),
      RELENGD_DATABASE_URL: database.url,
      RELENGD_HOST: "127.0.0.1",
      RELENGD_PORT: String(await freePort()),
      RELENGD_POLICIES_DIR: policies,
      RELENGD_GITOPS_REPO: remote,
      RELENGD_TOKEN_SECRET: secret,
      RELENGD_LOG_LEVEL: "warn",
      // Many pushes, so that the kill lands between two of them.
      RELENGD_WRITER_BATCH_SIZE: "20",
    };
    const { token } = await new TokenService(secret).issue({ subject: "crash-burst", role: "releaser", ttlSeconds: 3600 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    let server = await startServerProcess(env);
    started.push(server);
    const url = server.url;

    const artifacts = Array.from({ length: RELEASES }, (_, i) => sampleArtifact({ package: `burst-${i}` }));
    for (let i = 0; i < artifacts.length; i += 50) {
      await Promise.all(
        artifacts.slice(i, i + 50).map(async (a) => {
          const res = await fetch(`${url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(a) });
          expect(res.status, await res.clone().text()).toBe(201);
        }),
      );
    }

    // Release ids the server acknowledged (202, or 409 naming the release an unanswered request queued).
    const acknowledged = new Map<string, string>();
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
    async function burst(alive: () => boolean): Promise<void> {
      const todo = artifacts.filter((a) => !acknowledged.has(a.id));
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (alive() && next < todo.length) {
            const a = todo[next++];
            if (a) await queue(a.id);
          }
        }),
      );
    }

    let alive = true;
    const posting = burst(() => alive);
    const deadline = Date.now() + 40_000;
    let atKill: number;
    for (;;) {
      atKill = remoteCount(remote);
      if (atKill >= KILL_AFTER && atKill < RELEASES) break;
      if (atKill >= RELEASES) throw new Error(`the burst finished before the kill (${atKill} commits); nothing was interrupted`);
      if (Date.now() > deadline) throw new Error(`the remote did not reach ${KILL_AFTER} commits within 40 s (at ${atKill})\n${server.output()}`);
      await sleep(5);
    }
    // The whole group, as a crashed container goes: git children die mid-write too, and the
    // locks they leave in the workspace are the restarted writer's to clear.
    await server.kill("group");
    alive = false;
    await posting;
    server = await startServerProcess(env);
    started.push(server);

    await burst(() => true);
    expect(acknowledged.size).toBe(RELEASES);
    const ids = new Set(acknowledged.values());

    const list = async (): Promise<ReleaseView[]> => {
      const out: ReleaseView[] = [];
      let cursor: string | null = null;
      do {
        const res = await fetch(`${url}/api/v1/releases?environment=rawhide&limit=500${cursor ? `&cursor=${cursor}` : ""}`, { headers });
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: ReleaseView[]; nextCursor: string | null };
        out.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };
    let last: ReleaseView[] = [];
    const settleBy = Date.now() + 40_000;
    for (;;) {
      last = await list();
      if (last.length >= RELEASES && last.every((r) => r.status !== "queued" && r.status !== "committed")) break;
      if (Date.now() > settleBy) {
        const stuck = last.filter((r) => r.status !== "pushed").map((r) => `${r.id} ${r.status} attempts=${r.attempts} ${r.error ?? ""}`);
        throw new Error(`not every release was pushed within 40 s after the restart (killed at ${atKill} commits):\n${stuck.slice(0, 20).join("\n")}\n${server.output()}`);
      }
      await sleep(250);
    }

    // 0 lost, 0 stuck: exactly the releases acknowledged, every one pushed.
    expect(new Set(last.map((r) => r.id))).toEqual(ids);
    expect(last.filter((r) => r.status !== "pushed").map((r) => `${r.id}: ${r.status} ${r.error ?? ""}`)).toEqual([]);
    // 0 duplicated: each in exactly one commit, the one it is recorded with.
    const carriers = new Map<string, string[]>();
    for (const line of git(remote, "log", "main", "--format=%H %(trailers:key=Relengd-Release-Id,valueonly,separator=%x20)").trim().split("\n")) {
      const [sha, ...releaseIds] = line.trim().split(" ");
      for (const id of releaseIds) carriers.set(id, [...(carriers.get(id) ?? []), sha as string]);
    }
    expect([...ids].filter((id) => carriers.get(id)?.length !== 1).map((id) => `${id}: ${carriers.get(id)?.length ?? 0}`), "release ids not exactly once in git log").toEqual([]);
    expect(last.filter((r) => r.commitSha !== carriers.get(r.id)?.[0]).map((r) => r.id), "recorded commit differs from history").toEqual([]);
  }, 150_000);
});
