// The workspace's lock files: which ones a git error names (the workspace's, never the remote's),
// and that one is removed only when no process can hold it: none of this process's git commands
// runs in the workspace and no process on the host works in it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clearStaleLocks, countedGitCommand, localRemoteDir, locksNamed, locksPresent, remoteLockNamed } from "../../src/gitops/gitLocks.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { RemoteUnavailable, Workspace, WorkspaceError } from "../../src/gitops/workspace.js";
import { git } from "../support/remote.js";

const dir = mkdtempSync(path.join(tmpdir(), "relengd-locks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lockIn(gitDir: string, lock: string): string {
  const file = path.join(gitDir, lock);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "");
  return file;
}

describe("git lock files", () => {
  it("reads the lock files git names, relative ones against the git dir, and not the ones a remote names", () => {
    const ws = "/data/workspaces/gitops.git";
    const fetchError = `error: cannot lock ref 'refs/remotes/origin/main': Unable to create '${ws}/./refs/remotes/origin/main.lock': File exists.\n\nAnother git process seems to be running in this repository`;
    expect(locksNamed(fetchError, ws)).toEqual([`${ws}/refs/remotes/origin/main.lock`]);
    expect(locksNamed("error: could not lock config file config: File exists\n", ws)).toEqual([`${ws}/config.lock`]);
    const pushError = "To /srv/gitops.git\n!\tabc:refs/heads/main\t[remote rejected] (failed to update ref)\nDone\nremote: error: cannot lock ref 'refs/heads/main': Unable to create '/srv/gitops.git/./refs/heads/main.lock': File exists.        \n";
    expect(locksNamed(pushError, ws)).toEqual([]);
    expect(remoteLockNamed(pushError)).toBe("/srv/gitops.git/refs/heads/main.lock");
    expect(remoteLockNamed(fetchError)).toBeUndefined();
  });

  it("finds the locks present in a bare repository, and removes them when nothing works in it", async () => {
    const gitDir = path.join(dir, "present.git");
    await ensureBareRepository(gitDir);
    const locks = ["HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock", "refs/heads/main.lock", "refs/remotes/origin/main.lock", "logs/refs/heads/main.lock", "objects/info/commit-graph.lock", "objects/pack/pack-1.lock"].map((l) => lockIn(gitDir, l));
    expect(new Set(locksPresent(gitDir))).toEqual(new Set(locks));
    expect(clearStaleLocks(gitDir)).toEqual({ removed: expect.arrayContaining(locks), held: [] });
    expect(locks.filter((l) => existsSync(l))).toEqual([]);
  });

  it("leaves every lock while a git command of this process runs in the workspace, and removes them once it has ended", async () => {
    const gitDir = path.join(dir, "own.git");
    await ensureBareRepository(gitDir);
    const lock = lockIn(gitDir, "refs/remotes/origin/main.lock");
    let finish: () => void = () => undefined;
    const running = countedGitCommand(gitDir, () => new Promise<void>((r) => (finish = r)));
    expect(clearStaleLocks(gitDir)).toEqual({ removed: [], held: [{ lock, by: "1 git command(s) of this process" }] });
    expect(existsSync(lock)).toBe(true);
    finish();
    await running;
    expect(clearStaleLocks(gitDir)).toEqual({ removed: [lock], held: [] });
  });

  it("leaves every lock while another process works in the workspace (an orphaned git, a CLI verb, a second server)", async () => {
    const gitDir = path.join(dir, "other.git");
    await ensureBareRepository(gitDir);
    const lock = lockIn(gitDir, "packed-refs.lock");
    const other = spawn("sleep", ["600"], { cwd: path.join(gitDir, "refs"), stdio: "ignore" });
    const ended = new Promise((r) => other.once("exit", r));
    try {
      await new Promise((r) => other.once("spawn", r));
      expect(clearStaleLocks(gitDir)).toEqual({ removed: [], held: [{ lock, by: `process ${other.pid} working in the workspace` }] });
    } finally {
      other.kill("SIGKILL");
      await ended;
    }
    expect(clearStaleLocks(gitDir)).toEqual({ removed: [lock], held: [] });
  });

  it("a fetch that cannot store the remote's branch is a workspace error naming the lock; a lock in the remote is the remote's", async () => {
    const remote = path.join(dir, "remote.git");
    await ensureBareRepository(remote);
    const seed = path.join(dir, "seed");
    git(dir, "init", "--quiet", "--initial-branch=main", seed);
    git(seed, "-c", "user.name=P", "-c", "user.email=p@localhost", "commit", "--quiet", "--allow-empty", "-m", "seed");
    git(seed, "push", "--quiet", remote, "HEAD:refs/heads/main");

    const ws = new Workspace(path.join(dir, "ws.git"), remote, "main");
    await ws.open();
    const lock = lockIn(ws.dir, "refs/remotes/origin/main.lock");
    const err = await ws.fetch().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkspaceError);
    expect((err as WorkspaceError).locks).toEqual([lock]);
    expect(ws.clearStaleLocks((err as WorkspaceError).locks)).toEqual({ removed: [lock], held: [] });
    expect(await ws.fetch()).toBe(true);

    const head = (await ws.head()) as string;
    const [sha] = await ws.commit(head, [{ files: [{ path: "a.yaml", content: "a\n" }], message: "a" }], { name: "t", email: "t@localhost" });
    const remoteLock = lockIn(remote, "refs/heads/main.lock");
    // While a process works in the remote, its lock may be held: the remote's problem.
    const holder = spawn("sleep", ["60"], { cwd: remote, stdio: "ignore" });
    try {
      const pushed = await ws.push(sha as string).then(() => undefined, (e: unknown) => e);
      expect(pushed).toBeInstanceOf(RemoteUnavailable);
      expect((pushed as Error).message).toContain(`the remote repository has a lock file, ${remoteLock}`);
      expect((pushed as Error).message).toContain(`held by process ${holder.pid}`);
      expect(existsSync(remoteLock)).toBe(true);
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    // Once nobody works there, the lock a killed receive-pack left is removed and the push goes through.
    await ws.push(sha as string);
    expect(existsSync(remoteLock)).toBe(false);
    expect(git(remote, "rev-parse", "main").trim()).toBe(sha);
  });

  it("knows a remote on this host from another host's", () => {
    expect(localRemoteDir("/srv/gitops.git")).toBe("/srv/gitops.git");
    expect(localRemoteDir("file:///srv/gitops.git")).toBe("/srv/gitops.git");
    expect(localRemoteDir("data/gitops.git")).toBe(path.resolve("data/gitops.git"));
    for (const url of ["ssh://git@pagure.io/releng/gitops.git", "https://pagure.io/releng/gitops.git", "git@pagure.io:releng/gitops.git", "git://example.org/x.git"]) {
      expect(localRemoteDir(url), url).toBeUndefined();
    }
  });
});
