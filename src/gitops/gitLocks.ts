// Git's lock files in a workspace relengd owns: which ones a git error names, whether a lock is
// local or the remote's, and removing the ones no running process can still hold.
//
// Why a lock can be judged stale: git takes a lock by creating `<file>.lock` (O_EXCL) and ends it
// by renaming or deleting it; a git process killed in between leaves it for ever, and git never
// removes one itself. Only git processes working in the workspace can hold its locks, and every
// git process works with the repository as its current directory (relengd spawns it there;
// `git -C` changes into it before taking any lock). So, on Linux, a lock is stale when no process
// on this host has its working directory inside the workspace: that covers our own git commands,
// the git children a SIGKILLed server left running as orphans, a CLI verb, and a second server
// started by mistake on the same DATA_DIR. Processes on other hosts cannot be seen; the deployment
// gives each replica its own DATA_DIR (docs/deploy.md: SQLite runs one pod, PostgreSQL replicas an
// emptyDir each), and the branch lease lets only one replica use a branch's workspace at a time.
// Where /proc cannot be read, only this process's own running git commands are known.
import { readdirSync, readlinkSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Git commands of this process running now, by workspace directory. */
const runningIn = new Map<string, number>();

/** Runs `command` counted as one git command working in `dir` (see clearStaleLocks). */
export async function countedGitCommand<T>(dir: string, command: () => Promise<T>): Promise<T> {
  const key = path.resolve(dir);
  runningIn.set(key, (runningIn.get(key) ?? 0) + 1);
  try {
    return await command();
  } finally {
    const left = (runningIn.get(key) ?? 1) - 1;
    if (left === 0) runningIn.delete(key);
    else runningIn.set(key, left);
  }
}

/** Whether `file` is `dir` or inside it. */
function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * The lock files a git error message names, as absolute paths (git writes some relative to the
 * repository: "could not lock config file config"). Lines a remote sent ("remote: …") name
 * files in the remote repository and are not read here; see remoteLockNamed.
 */
export function locksNamed(message: string, gitDir: string): string[] {
  const found = new Set<string>();
  for (const line of message.split("\n")) {
    if (/^\s*remote:/.test(line)) continue;
    for (const m of line.matchAll(/Unable to create '([^']+\.lock)'/g)) found.add(path.resolve(gitDir, m[1] as string));
    const config = /could not lock config file (.+?): File exists/.exec(line);
    if (config) found.add(path.resolve(gitDir, `${config[1] as string}.lock`));
  }
  return [...found];
}

/** The lock file in the remote repository a push's answer names ("remote: error: … Unable to create '…'"), if any. */
export function remoteLockNamed(message: string): string | undefined {
  for (const line of message.split("\n")) {
    const m = /^\s*remote:.*Unable to create '([^']+\.lock)'/.exec(line);
    if (m) return path.normalize(m[1] as string);
  }
  return undefined;
}

/**
 * The lock files present in the git dir: its top-level files (HEAD, config, index, packed-refs,
 * shallow, …), every ref (refs/), reflogs (logs/) and objects/info, objects/pack; loose object
 * directories hold no locks and may be many, so they are not walked.
 */
export function locksPresent(gitDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, deep: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // absent: nothing locked there
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (deep) walk(p, true);
      } else if (e.name.endsWith(".lock")) out.push(p);
    }
  };
  walk(gitDir, false);
  for (const sub of ["refs", "logs"]) walk(path.join(gitDir, sub), true);
  for (const sub of ["objects/info", "objects/pack"]) walk(path.join(gitDir, sub), false);
  return out;
}

/**
 * Processes on this host working inside `dir` (other than this one), or undefined when that
 * cannot be known (no readable /proc).
 */
export function processesIn(dir: string): number[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
    readlinkSync("/proc/self/cwd");
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone meanwhile, or another user's (not ours, cannot hold our files)
    }
    if (isInside(dir, cwd)) out.push(Number(pid));
  }
  return out;
}

export interface LockSweep {
  /** Stale locks removed. */
  removed: string[];
  /** Locks left because a process may hold them, with who. */
  held: { lock: string; by: string }[];
}

/**
 * Removes the stale lock files of the workspace `gitDir`: those `named` (by an error) and those
 * present. Nothing is removed while a git command of this process or any process on this host
 * works in the workspace: it may hold them, and it will end. The check and the removals run
 * without yielding, so no command of this process can start in between.
 */
export function clearStaleLocks(gitDir: string, named: string[] = []): LockSweep {
  const locks = [...new Set([...named.filter((l) => isInside(gitDir, l)), ...locksPresent(gitDir)])].filter((l) => {
    try {
      return statSync(l).isFile();
    } catch {
      return false; // already gone
    }
  });
  if (locks.length === 0) return { removed: [], held: [] };
  const ours = runningIn.get(path.resolve(gitDir)) ?? 0;
  if (ours > 0) return { removed: [], held: locks.map((lock) => ({ lock, by: `${ours} git command(s) of this process` })) };
  const others = processesIn(gitDir);
  if (others && others.length > 0) return { removed: [], held: locks.map((lock) => ({ lock, by: `process ${others.join(", ")} working in the workspace` })) };
  const sweep: LockSweep = { removed: [], held: [] };
  for (const lock of locks) {
    try {
      unlinkSync(lock);
      sweep.removed.push(lock);
    } catch (err) {
      // Gone meanwhile is gone either way; anything else (permissions) leaves it in place.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") sweep.held.push({ lock, by: `nobody, but it cannot be removed (${code ?? String(err)})` });
    }
  }
  return sweep;
}

/**
 * The directory of a remote on this host's file system (a path, or a file:// URL: the embedded
 * default ./data/gitops.git), else undefined (ssh://, https://, user@host:path: another host's).
 */
export function localRemoteDir(url: string): string | undefined {
  if (/^file:\/\//i.test(url)) return fileURLToPath(url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  // scp-like `host:path`: a colon before any slash.
  if (/^[^/]*:/.test(url)) return undefined;
  return path.resolve(url);
}

/**
 * A lock file a push found in a remote on this host: git's receive-pack runs there as a child of
 * our push (the local transport), so a server killed mid-push leaves the lock for ever and no
 * replica could push again. It is removed, with any other lock in that repository, only when the
 * lock is inside the remote's directory and /proc shows no process on this host working there
 * (a foreign pusher's receive-pack would be; where /proc cannot be read, nothing is removed).
 * Remotes on other hosts clean up after themselves: their receive-pack sees the connection close.
 */
export function clearStaleRemoteLock(remoteDir: string, lock: string): LockSweep {
  if (!isInside(remoteDir, lock)) return { removed: [], held: [{ lock, by: "outside the remote repository" }] };
  const others = processesIn(remoteDir);
  if (others === undefined) return { removed: [], held: [{ lock, by: "unknown (no readable /proc)" }] };
  return clearStaleLocks(remoteDir, [lock]);
}
