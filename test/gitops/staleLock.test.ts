// A git lock file left in the writer's workspace by a crash (or a git process
// killed mid-write) is the workspace's problem, not the remote's: the writer removes a lock no
// process holds and writes at once. A lock in a remote on this host that no process works in
// (a receive-pack killed with the server) is removed too; one a process may hold stays a remote problem.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { Writer } from "../../src/gitops/writer.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";

// The shipped environments without policies: the tests' releases are the only ones.
const POLICIES = mkdtempSync(path.join(tmpdir(), "relengd-lock-policies-"));
copyFileSync(path.resolve(__dirname, "../../policies/environments.yaml"), path.join(POLICIES, "environments.yaml"));
afterAll(() => rmSync(POLICIES, { recursive: true, force: true }));

/** Lock files git takes in a bare repository, as a crash leaves them (relative to the git dir). */
const LOCKS_GIT_LEAVES = [
  "HEAD.lock",
  "config.lock",
  "index.lock",
  "packed-refs.lock",
  "shallow.lock",
  "refs/remotes/origin/main.lock",
  "refs/heads/main.lock",
  "refs/relengd/work.lock",
  "objects/info/commit-graph.lock",
  "objects/info/packs.lock",
];

interface ReleaseView {
  id: string;
  status: string;
  attempts: number;
  error: string | null;
  commitSha: string | null;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(testProviders)("stale git locks on %s", (provider) => {
  let t: TestApp | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await t?.close();
    t = undefined;
  });

  async function start(): Promise<TestApp & { workspace: string; releaseOne(pkg: string): Promise<string>; get(id: string): Promise<ReleaseView>; firstOutcome(id: string): Promise<ReleaseView> }> {
    // A failed attempt is retried only after a minute: what these tests see is the first attempt.
    const app = await startTestApp(provider, { policiesDir: POLICIES, writer: { retryDelayMs: () => 60_000, pollMs: 100 } });
    t = app;
    const ci = await app.auth("ci");
    const releaser = await app.auth("releaser");
    const get = async (id: string) => {
      const res = await app.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser });
      expect(res.statusCode).toBe(200);
      return res.json() as ReleaseView;
    };
    return Object.assign(app, {
      workspace: path.join(path.dirname(app.remote), "workspaces", "gitops.git"),
      get,
      async releaseOne(pkg: string) {
        const a = sampleArtifact({ package: pkg });
        expect((await app.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
        const res = await app.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: a.id, environment: "rawhide" }, headers: releaser });
        expect(res.statusCode, res.body).toBe(202);
        return (res.json() as { id: string }).id;
      },
      /** The release once pushed, or once its first attempt failed. */
      firstOutcome: (id: string) => waitFor(`release ${id} to be pushed or fail an attempt`, async () => {
        const r = await get(id);
        return r.status === "pushed" || r.attempts > 0 ? r : undefined;
      }),
    });
  }

  it("removes a stale remote-tracking ref lock found while running and writes at once, not treating it as an unreachable remote", async () => {
    const h = await start();
    expect(await h.firstOutcome(await h.releaseOne("lock-first"))).toMatchObject({ status: "pushed" });
    // The repro: the lock a crashed fetch leaves behind.
    const lock = path.join(h.workspace, "refs/remotes/origin/main.lock");
    writeFileSync(lock, "");
    const id = await h.releaseOne("lock-second");
    const outcome = await h.firstOutcome(id);
    expect(outcome, outcome.error ?? "").toMatchObject({ status: "pushed", attempts: 0, error: null });
    expect(git(h.remote, "rev-parse", "main").trim()).toBe(outcome.commitSha);
    expect(existsSync(lock)).toBe(false);
    expect(h.writer.health()).toMatchObject([{ repository: "gitops", failingSince: null, cause: null }]);
  });

  it("at start-up, removes every lock a crash leaves, and the one a git process killed mid-write leaves", async () => {
    const h = await start();
    expect(await h.firstOutcome(await h.releaseOne("restart-first"))).toMatchObject({ status: "pushed" });
    await h.writer.stop();

    // A real git killed while it holds a ref lock: a ref transaction prepared (locks taken), then SIGKILL.
    const head = git(h.workspace, "rev-parse", "refs/remotes/origin/main").trim();
    const killed = spawn("git", ["update-ref", "--stdin"], { cwd: h.workspace, stdio: ["pipe", "pipe", "pipe"] });
    let answered = "";
    killed.stdout.on("data", (d: Buffer) => (answered += d.toString()));
    killed.stdin.write(`start\nupdate refs/remotes/origin/main ${head}\nprepare\n`);
    await waitFor("git to take the ref lock", async () => (answered.includes("prepare: ok") ? true : undefined), 10_000);
    const exited = new Promise((r) => killed.once("exit", r));
    killed.kill("SIGKILL");
    await exited;
    expect(existsSync(path.join(h.workspace, "refs/remotes/origin/main.lock")), "git left its lock").toBe(true);
    for (const lock of LOCKS_GIT_LEAVES) {
      mkdirSync(path.dirname(path.join(h.workspace, lock)), { recursive: true });
      writeFileSync(path.join(h.workspace, lock), "");
    }

    // Queued while no writer runs; the restarted writer finds it on its first poll.
    const id = await h.releaseOne("restart-second");
    const restarted = new Writer(
      { releases: h.releases, artifacts: new ArtifactRepository(h.database.db), environments: () => h.environments, rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION }, workspacesDir: path.dirname(h.workspace), logger: pino({ level: "silent" }) },
      { pollMs: 100, retryDelayMs: () => 60_000 },
    );
    cleanups.push(() => restarted.stop());
    await restarted.start();
    const outcome = await h.firstOutcome(id);
    expect(outcome, outcome.error ?? "").toMatchObject({ status: "pushed", attempts: 0, error: null });
    expect(LOCKS_GIT_LEAVES.filter((lock) => existsSync(path.join(h.workspace, lock))), "locks left").toEqual([]);
    expect(git(h.remote, "rev-parse", "main").trim()).toBe(outcome.commitSha);
  });

  it("rebuilds a broken workspace that no lock explains from the remote and writes at once", async () => {
    const h = await start();
    expect(await h.firstOutcome(await h.releaseOne("broken-first"))).toMatchObject({ status: "pushed" });
    // A clone whose object store is gone (a disk cleaned by hand, a partial restore).
    rmSync(path.join(h.workspace, "objects"), { recursive: true, force: true });
    const outcome = await h.firstOutcome(await h.releaseOne("broken-second"));
    expect(outcome, outcome.error ?? "").toMatchObject({ status: "pushed", attempts: 0, error: null });
    expect(git(h.remote, "rev-parse", "main").trim()).toBe(outcome.commitSha);
    expect(git(h.remote, "rev-list", "--count", "main").trim()).toBe("2");
  });

  it("removes a lock a killed push left in a remote on this host, where no process works, and pushes at once", async () => {
    const h = await start();
    expect(await h.firstOutcome(await h.releaseOne("remote-first"))).toMatchObject({ status: "pushed" });
    // What a receive-pack killed with the server's process group leaves in a file:// remote.
    const remoteLock = path.join(h.remote, "HEAD.lock");
    writeFileSync(remoteLock, "");
    cleanups.push(() => rmSync(remoteLock, { force: true }));
    const outcome = await h.firstOutcome(await h.releaseOne("remote-second"));
    expect(outcome).toMatchObject({ status: "pushed", attempts: 0 });
    expect(git(h.remote, "rev-parse", "main").trim()).toBe(outcome.commitSha);
    expect(existsSync(remoteLock)).toBe(false);
  });

  it("reports a lock in the remote repository that a process there may hold as a remote problem, naming it, and leaves it", async () => {
    const h = await start();
    expect(await h.firstOutcome(await h.releaseOne("remote-first"))).toMatchObject({ status: "pushed" });
    const remoteLock = path.join(h.remote, "refs/heads/main.lock");
    writeFileSync(remoteLock, "");
    cleanups.push(() => rmSync(remoteLock, { force: true }));
    // A process working in the remote, as a foreign pusher's receive-pack would.
    const holder = spawn("sleep", ["60"], { cwd: h.remote, stdio: "ignore" });
    cleanups.push(() => void holder.kill("SIGKILL"));
    const outcome = await h.firstOutcome(await h.releaseOne("remote-second"));
    expect(outcome).toMatchObject({ status: "queued", attempts: 1, commitSha: null });
    expect(outcome.error).toMatch(/^remote: /);
    expect(outcome.error).toContain(remoteLock);
    expect(outcome.error).toContain(`held by process ${holder.pid}`);
    expect(existsSync(remoteLock), "a lock a live process may hold is not removed").toBe(true);
    expect(h.writer.health()).toMatchObject([{ repository: "gitops", cause: "remote", failingSince: expect.any(Date) }]);
  });
});
