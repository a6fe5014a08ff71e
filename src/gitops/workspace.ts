// A long-lived local bare clone of one GitOps repository branch: fetch, read, commit, push.
// Commits are made with `git fast-import` (one process per batch, no work tree), so a burst of
// releases costs one git process instead of two per commit.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { parseReleaseIds, TRAILER } from "../domain/commitMessages/trailers.js";
import { runGitProcess } from "./gitProcess.js";
import { clearStaleLocks, clearStaleRemoteLock, countedGitCommand, localRemoteDir, locksNamed, processesIn, remoteLockNamed, type LockSweep } from "./gitLocks.js";

const RELEASE_ID_TRAILER = TRAILER.releaseId;

export interface Author {
  name: string;
  email: string;
}

export interface FileCommit {
  files: { path: string; content: string }[];
  /** Paths removed before the files are written (a path that is not there is no error). */
  removed?: string[];
  message: string;
}

/** The remote refused the push because its branch moved (someone else pushed). */
export class PushRejected extends Error {}
/** The remote could not be reached or failed; nothing is known to have been written. */
export class RemoteUnavailable extends Error {}
/**
 * The local workspace failed (a lock file git left, a broken clone), whatever the remote does:
 * `locks` are the workspace's lock files the error names.
 */
export class WorkspaceError extends Error {
  constructor(
    message: string,
    readonly locks: string[] = [],
  ) {
    super(message);
  }
}

const WORK_REF = "refs/relengd/work";

/**
 * The environment git runs in: what it needs to reach remotes (ssh agent, proxies), never a
 * prompt, and the C locale, because push rejections are recognised by git's English words.
 */
export function gitEnv(): Record<string, string> {
  // GIT_TRACE*: an operator can time every git command relengd runs.
  const keep = ["PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "GIT_TRACE", "GIT_TRACE2_PERF", "GIT_TRACE2_EVENT"];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

export class Workspace {
  private readonly remoteRef: string;
  /** The remote head as last seen (fetch) or made (push); undefined until first read. */
  private knownHead: string | null | undefined;

  constructor(
    readonly dir: string,
    readonly url: string,
    readonly branch: string,
  ) {
    this.remoteRef = `refs/remotes/origin/${branch}`;
  }

  /** Every git command runs here: counted, so that a lock is never judged stale while one runs. */
  private async git(args: string[]): Promise<string> {
    return (await this.gitSaying(args)).stdout;
  }

  /** A git command's stdout and, for the warnings of one that worked, its stderr. */
  private async gitSaying(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const result = await this.gitRun(args);
    return { stdout: result.stdout.toString("utf8"), stderr: result.stderr };
  }

  /**
   * Runs git in the workspace through the helper process (gitProcess.ts: a fork of this process
   * would hold the event loop); a failure's message has what git printed on both streams, since
   * some answers (a push's `[rejected]`) are on stdout.
   */
  private async gitWithInput(args: string[], input?: Buffer): Promise<Buffer> {
    return (await this.gitRun(args, input)).stdout;
  }

  /**
   * Not simple-git: it waits 50 ms after every command that prints nothing (update-ref after each
   * push, merge-base, a quiet fetch) and takes a non-zero exit without stderr for a success
   * (merge-base --is-ancestor answered true for every pair).
   */
  private gitRun(args: string[], input?: Buffer): Promise<{ stdout: Buffer; stderr: string }> {
    return countedGitCommand(this.dir, async () => {
      const result = await runGitProcess({ args, cwd: this.dir, env: gitEnv(), ...(input ? { input } : {}) });
      if (result.code === 0) return { stdout: result.stdout, stderr: result.stderr };
      const stdout = result.stdout.toString("utf8").trim().slice(0, 4000);
      // git's own words first: callers recognise rejections and locks by them, line by line.
      const said = [result.stderr.trim(), stdout].filter(Boolean).join("\n");
      throw new Error(said || `git ${args[0] ?? ""} ended with ${result.code ?? result.signal} and said nothing`);
    });
  }

  /**
   * A git command in the workspace whose exit code the caller reads itself (merge-tree answers a
   * conflict with 1, merge-base "none" with 1), with extra environment (an author's identity).
   */
  run(args: string[], opts: { input?: Buffer; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
    return countedGitCommand(this.dir, () => runGitProcess({ args, cwd: this.dir, env: { ...gitEnv(), ...opts.env }, ...(opts.input ? { input: opts.input } : {}) }));
  }

  /** A local failure, with the lock files it names. */
  private failed(what: string, err: unknown): WorkspaceError {
    if (err instanceof WorkspaceError) return err;
    const text = err instanceof Error ? err.message : String(err);
    const locks = locksNamed(text, this.dir);
    const named = locks.length > 0 ? `lock file ${locks.join(", ")} exists (${firstLine(text).split(" / ")[0]})` : firstLine(text);
    return new WorkspaceError(`${this.dir}: ${what}: ${named}`, locks);
  }

  /**
   * Makes the workspace ready; the locks a crash left in it (no process working in it) are
   * removed first and returned, with those left because a process may hold them.
   */
  async open(): Promise<LockSweep> {
    try {
      mkdirSync(this.dir, { recursive: true });
      const sweep = clearStaleLocks(this.dir);
      if (!existsSync(path.join(this.dir, "HEAD"))) await this.git(["init", "--bare", "--quiet"]);
      await this.git(["config", "remote.origin.url", this.url]);
      await this.git(["config", "gc.auto", "0"]);
      return sweep;
    } catch (err) {
      throw this.failed("cannot open", err);
    }
  }

  /** Removes the lock files no process can hold: those `named` by an error, and any other present. */
  clearStaleLocks(named: string[] = []): LockSweep {
    return clearStaleLocks(this.dir, named);
  }

  /**
   * Deletes the workspace and opens it afresh (the next fetch brings the remote's branch back):
   * it is a cache of the remote, plus commits not pushed yet that a retry makes again. Refused
   * (false) while any process works in it.
   */
  async rebuild(): Promise<boolean> {
    const working = processesIn(this.dir);
    if (working && working.length > 0) return false;
    const sweep = clearStaleLocks(this.dir);
    if (sweep.held.some((h) => !h.by.startsWith("nobody"))) return false;
    rmSync(this.dir, { recursive: true, force: true });
    this.knownHead = undefined;
    await this.open();
    return true;
  }

  /** Brings the remote branch into refs/remotes/origin/<branch>; false if the branch does not exist yet. */
  async fetch(): Promise<boolean> {
    try {
      await this.git(["fetch", "--quiet", "--no-tags", "origin", `+refs/heads/${this.branch}:${this.remoteRef}`]);
      this.knownHead = undefined;
      return true;
    } catch (err) {
      const text = (err as Error).message;
      if (/couldn't find remote ref|could not find remote ref/i.test(text)) {
        await this.git(["update-ref", "-d", this.remoteRef]).catch(() => undefined);
        this.knownHead = null;
        return false;
      }
      // The remote answered but the fetched ref could not be stored here: a local failure.
      if (locksNamed(text, this.dir).length > 0 || /not a git repository/i.test(text)) throw this.failed(`fetch from ${this.url} could not be stored`, err);
      throw new RemoteUnavailable(`fetch from ${this.url} failed: ${firstLine(text)}`);
    }
  }

  /** The last known head of the remote branch (as of the last fetch or push). */
  async head(): Promise<string | null> {
    if (this.knownHead === undefined) {
      try {
        this.knownHead = (await this.git(["rev-parse", "--verify", "--quiet", `${this.remoteRef}^{commit}`])).trim() || null;
      } catch {
        this.knownHead = null;
      }
    }
    return this.knownHead;
  }

  /**
   * Every release id carried by commits in `from..head` (all of head's history without `from`),
   * with its commit; with `only`, just those ids (git matches them, so the output stays small).
   */
  async releaseIdsBetween(from: string | null, head: string, only?: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (only && only.length === 0) return found;
    const range = from ? `${from}..${head}` : head;
    const greps = only ? only.map((id) => `--grep=${RELEASE_ID_TRAILER}: ${id}`) : [`--grep=${RELEASE_ID_TRAILER}:`];
    // Oldest first, so a release id that somehow appears twice maps to its first commit.
    // First parents only: relengd's own commits are on that line, and a merged request branch's
    // commits (a person's) could carry a forged release trailer.
    const out = await this.git(["log", range, "--first-parent", "--reverse", "--format=%H%x1f%B%x1e", "--fixed-strings", ...greps]).catch((err: unknown) => {
      throw this.failed("cannot read history", err);
    });
    const wanted = only ? new Set(only) : null;
    for (const record of out.split("\x1e")) {
      const [sha, message] = record.replace(/^\n/, "").split("\x1f");
      if (!sha || message === undefined) continue;
      for (const id of parseReleaseIds(message)) if (!found.has(id) && (!wanted || wanted.has(id))) found.set(id, sha.trim());
    }
    return found;
  }

  async isAncestor(ancestor: string, head: string): Promise<boolean> {
    try {
      await this.git(["merge-base", "--is-ancestor", ancestor, head]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The text of `paths` at `head` (absent paths are missing from the map). The blobs are found
   * with one `ls-tree` walk and read by id: `cat-file` with `head:path` scans a directory's
   * entries once per path, which in a 25,000-document Koji tag cost 0.8 s per batch of 200.
   */
  async readFiles(head: string | null, paths: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(paths)];
    if (!head || unique.length === 0) return out;
    const listing = await this.gitWithInput(["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", head, "--", ...unique]).catch((err: unknown) => {
      throw this.failed("cannot list documents", err);
    });
    const blobs: { path: string; oid: string }[] = [];
    for (const entry of listing.toString("utf8").split("\0")) {
      // <mode> SP <type> SP <oid> TAB <path>
      const m = /^\d{6} blob ([0-9a-f]{40,64})\t(.*)$/s.exec(entry);
      if (m) blobs.push({ oid: m[1] as string, path: m[2] as string });
    }
    if (blobs.length === 0) return out;
    const raw = await this.gitWithInput(["cat-file", "--batch"], Buffer.from(blobs.map((b) => b.oid).join("\n") + "\n")).catch((err: unknown) => {
      throw this.failed("cannot read documents", err);
    });
    let at = 0;
    for (const b of blobs) {
      const nl = raw.indexOf(10, at);
      const header = raw.subarray(at, nl).toString();
      at = nl + 1;
      const m = /^[0-9a-f]{40,64} blob (\d+)$/.exec(header);
      if (!m) throw new Error(`git cat-file: unexpected answer for ${b.path}: ${header}`);
      const size = Number(m[1]);
      out.set(b.path, raw.subarray(at, at + size).toString("utf8"));
      at += size + 1;
    }
    return out;
  }

  /**
   * Makes one commit per entry on top of `parent` (null: a root commit) and returns their ids in
   * order. Nothing is pushed.
   */
  async commit(parent: string | null, commits: FileCommit[], author: Author, when = new Date()): Promise<string[]> {
    if (commits.length === 0) return [];
    const seconds = Math.floor(when.getTime() / 1000);
    const ident = `${author.name} <${author.email}> ${seconds} +0000`;
    const chunks: Buffer[] = [];
    const data = (text: string) => {
      const body = Buffer.from(text, "utf8");
      chunks.push(Buffer.from(`data ${body.length}\n`), body, Buffer.from("\n"));
    };
    // `reset` starts the work ref afresh: without `from`, the first commit is a root commit.
    chunks.push(Buffer.from(`reset ${WORK_REF}\n`));
    commits.forEach((c, i) => {
      chunks.push(Buffer.from(`commit ${WORK_REF}\nmark :${i + 1}\nauthor ${ident}\ncommitter ${ident}\n`));
      data(c.message);
      if (i === 0 && parent) chunks.push(Buffer.from(`from ${parent}\n`));
      for (const removed of c.removed ?? []) chunks.push(Buffer.from(`D ${removed}\n`));
      for (const f of c.files) {
        chunks.push(Buffer.from(`M 100644 inline ${f.path}\n`));
        data(f.content);
      }
    });
    // get-mark answers on the cat-blob channel (stdout here): one commit id per mark, in order.
    commits.forEach((_, i) => chunks.push(Buffer.from(`get-mark :${i + 1}\n`)));
    chunks.push(Buffer.from("done\n"));
    const out = await this.gitWithInput(["fast-import", "--quiet", "--done", "--force", "--cat-blob-fd=1"], Buffer.concat(chunks)).catch((err: unknown) => {
      throw this.failed("cannot commit", err);
    });
    const shas = out.toString().trim().split("\n").filter((l) => /^[0-9a-f]{40}$/.test(l));
    if (shas.length !== commits.length) throw new Error(`fast-import made ${shas.length} commits, expected ${commits.length}`);
    return shas;
  }

  /**
   * Pushes `sha` to the remote branch as a fast-forward; never forces. The push itself moves
   * refs/remotes/origin/<branch> (git updates the remote-tracking ref a fetch refspec maps the
   * pushed branch to), so no second git process records it.
   */
  async push(sha: string, lockCleared = false): Promise<void> {
    let warnings: string;
    try {
      ({ stderr: warnings } = await this.gitSaying(["-c", `remote.origin.fetch=+refs/heads/${this.branch}:${this.remoteRef}`, "push", "--quiet", "--porcelain", "origin", `${sha}:refs/heads/${this.branch}`]));
    } catch (err) {
      const text = (err as Error).message;
      const remoteLock = remoteLockNamed(text);
      if (remoteLock) {
        // A remote on this host: a receive-pack of ours killed mid-push may have left it (see
        // clearStaleRemoteLock); pushed again at once when no process works there. Else it is
        // the remote's problem: its git runs, or crashed on another host.
        const remoteDir = localRemoteDir(this.url);
        const sweep = remoteDir && !lockCleared ? clearStaleRemoteLock(remoteDir, remoteLock) : undefined;
        if (sweep && sweep.removed.length > 0 && sweep.held.length === 0) return this.push(sha, true);
        const held = sweep?.held[0] ? `; left in place, held by ${sweep.held[0].by}` : "";
        throw new RemoteUnavailable(`push to ${this.url} failed: the remote repository has a lock file, ${remoteLock} (File exists): a git process there runs or crashed${held}`);
      }
      if (/\[rejected\]|non-fast-forward|fetch first|\[remote rejected\].*(stale|lock|cannot lock)/i.test(text)) {
        throw new PushRejected(`push to ${this.url} rejected: ${firstLine(text)}`);
      }
      throw new RemoteUnavailable(`push to ${this.url} failed: ${firstLine(text)}`);
    }
    // git only warns when it cannot move the remote-tracking ref (a lock a crash left): told as
    // a local failure naming the lock, so that it is cleared now, not at the next fetch.
    if (/update_ref failed|cannot lock ref/i.test(warnings)) {
      this.knownHead = undefined;
      throw this.failed(`pushed ${sha}, but cannot record it`, new Error(warnings));
    }
    // Now known to be the remote head: the next batch builds on it without fetching.
    this.knownHead = sha;
  }
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" / ").slice(0, 500);
}
