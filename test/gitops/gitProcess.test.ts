// Git through the helper process: what the server asked for, answered in full and in order,
// never forked from the server itself, surviving the helper's death, never keeping a process alive.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGitProcess } from "../../src/gitops/gitProcess.js";

const dir = mkdtempSync(path.join(tmpdir(), "relengd-git-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? "", GIT_CONFIG_NOSYSTEM: "1", HOME: dir, LC_ALL: "C" };
const git = (args: string[], input?: Buffer) => runGitProcess({ args, cwd: dir, env, ...(input ? { input } : {}) });

/** The pid of the process that started git: its PPid, read by a shell git itself starts. */
async function parentOfGit(): Promise<number> {
  const r = await git(["-c", "alias.parent=!grep PPid /proc/$PPID/status", "parent"]);
  return Number(/PPid:\s+(\d+)/.exec(r.stdout.toString())?.[1]);
}

describe("git through the helper process", () => {
  it("answers each command with its exit code, stdout and stderr, also many at once and with megabytes both ways", async () => {
    expect((await git(["init", "--quiet", "--bare"])).code).toBe(0);
    const big = Buffer.alloc(6 * 1024 * 1024, "relengd\n");
    const expected = createHash("sha1").update(`blob ${big.length}\0`).update(big).digest("hex");
    const [stored, ...versions] = await Promise.all([git(["hash-object", "-w", "--stdin"], big), ...Array.from({ length: 20 }, () => git(["--version"]))]);
    expect(stored?.stdout.toString().trim()).toBe(expected);
    for (const v of versions) expect(v.stdout.toString()).toMatch(/^git version /);
    const back = await git(["cat-file", "blob", expected]);
    expect(back.stdout.equals(big)).toBe(true);
    const missing = await git(["rev-parse", "--verify", "no-such-ref"]);
    expect(missing.code).toBe(128);
    expect(missing.stderr).toMatch(/fatal: Needed a single revision/);
    expect(missing.stdout.length).toBe(0);
  });

  it("is started by the helper, not forked from this process", async () => {
    const parent = await parentOfGit();
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
  });

  it("fails the commands in flight when the helper dies, and starts a new helper for the next", async () => {
    const helper = await parentOfGit();
    const slow = git(["-c", "alias.slow=!sleep 5", "slow"]);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(helper, "SIGKILL");
    await expect(slow).rejects.toThrow(/git helper process exited \(SIGKILL\)/);
    const again = await parentOfGit();
    expect(again).not.toBe(helper);
    expect((await git(["--version"])).code).toBe(0);
  });

  it("keeps no process alive once its commands are done", () => {
    const script = path.join(dir, "exits.mts");
    writeFileSync(script, `import { runGitProcess } from ${JSON.stringify(path.resolve(__dirname, "../../src/gitops/gitProcess.ts"))};\nconst r = await runGitProcess({ args: ["--version"], cwd: process.cwd(), env: { PATH: process.env.PATH ?? "" } });\nconsole.log(r.code);\n`);
    // Run from the repository, where tsx resolves; it would hang until the timeout were a handle left.
    const run = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: path.resolve(__dirname, "../.."), encoding: "utf8", timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(run.stdout.trim()).toBe("0");
    expect(run.status).toBe(0);
  });
});
