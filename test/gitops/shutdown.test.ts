// Graceful shutdown: SIGTERM stops accepting, lets the commit and push in flight
// finish and be recorded, closes the store and exits 0; a second signal exits at once.
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { git } from "../support/remote.js";
import { cleanEnv, freePort, startServerProcess, type ServerProcess } from "../support/serverProcess.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("shutdown on SIGTERM", () => {
  const dirs: string[] = [];
  const started: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop(2000).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A server whose remote takes `holdMs` to accept each push (a pre-receive hook that waits). */
  async function slowRemoteServer(holdMs: number) {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-shutdown-"));
    dirs.push(dir);
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    const marker = path.join(dir, "push-started");
    writeFileSync(path.join(remote, "hooks", "pre-receive"), `#!/bin/sh\ncat >/dev/null\ntouch '${marker}'\nsleep ${holdMs / 1000}\n`);
    chmodSync(path.join(remote, "hooks", "pre-receive"), 0o755);
    const policies = path.join(dir, "policies");
    mkdirSync(policies);
    copyFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), path.join(policies, "environments.yaml"));
    mkdirSync(path.join(dir, "data"));
    const secret = randomBytes(36).toString("base64url");
    const db = path.join(dir, "data", "relengd.db");
    const server = await startServerProcess({
      ...cleanEnv(),
      RELENGD_DATA_DIR: path.join(dir, "data"),
      RELENGD_DATABASE_URL: `file:${db}`,
      RELENGD_HOST: "127.0.0.1",
      RELENGD_PORT: String(await freePort()),
      RELENGD_POLICIES_DIR: policies,
      RELENGD_GITOPS_REPO: remote,
      RELENGD_TOKEN_SECRET: secret,
      RELENGD_LOG_LEVEL: "info",
    });
    started.push(server);
    const { token } = await new TokenService(secret).issue({ subject: "shutdown-test", role: "releaser", ttlSeconds: 600 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const artifact = sampleArtifact({ package: "shutdown-pkg" });
    expect((await fetch(`${server.url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(artifact) })).status).toBe(201);
    const res = await fetch(`${server.url}/api/v1/releases`, { method: "POST", headers, body: JSON.stringify({ artifactId: artifact.id, environment: "rawhide" }) });
    expect(res.status).toBe(202);
    const releaseId = ((await res.json()) as { id: string }).id;
    const deadline = Date.now() + 20_000;
    while (!existsSync(marker)) {
      if (Date.now() > deadline) throw new Error(`the push never reached the remote\n${server.output()}`);
      await sleep(10);
    }
    return { server, remote, db, releaseId };
  }

  it("finishes the push in flight, records it, and exits 0", async () => {
    const { server, remote, db, releaseId } = await slowRemoteServer(2000);
    const t0 = Date.now();
    server.signal("SIGTERM");
    // New connections are refused while the push completes.
    await sleep(300);
    expect(await fetch(`${server.url}/healthz`).then((r) => r.status, () => "refused")).toBe("refused");
    expect(await server.exited).toBe(0);
    expect(Date.now() - t0, "waited for the push").toBeGreaterThanOrEqual(1500);
    const row = new BetterSqlite3(db, { readonly: true }).prepare(`SELECT "status", "commitSha" FROM "Release" WHERE "id" = ?`).get(releaseId) as { status: string; commitSha: string };
    expect(row.status).toBe("pushed");
    expect(git(remote, "rev-parse", "refs/heads/main").trim()).toBe(row.commitSha);
  }, 60_000);

  it("exits at once, with 1, on a second signal", async () => {
    const { server } = await slowRemoteServer(8000);
    server.signal("SIGTERM");
    await sleep(200);
    const t0 = Date.now();
    server.signal("SIGTERM");
    expect(await server.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(server.output()).toContain("second signal");
  }, 60_000);
});
