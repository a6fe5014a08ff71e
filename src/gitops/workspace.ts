// A long-lived local bare clone of one GitOps repository branch: fetch, read, commit, push.
// Commits are made with `git fast-import` (one process per batch, no work tree), so a burst of
// releases costs one git process instead of two per commit.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { parseReleaseIds, TRAILER } from "../domain/trailers.js";

const RELEASE_ID_TRAILER = TRAILER.releaseId;

export interface Author {
  name: string;
  email: string;
}

export interface FileCommit {
  files: { path: string; content: string }[];
  message: string;
}

/** The remote refused the push because its branch moved (someone else pushed). */
export class PushRejected extends Error {}
/** The remote could not be reached or failed; nothing is known to have been written. */
export class RemoteUnavailable extends Error {}

const WORK_REF = "refs/relengd/work";

/**
 * The environment git runs in: what it needs to reach remotes (ssh agent, proxies), never a
 * prompt, and the C locale, because push rejections are recognised by git's English words.
 */
function gitEnv(): Record<string, string> {
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

  private g(): SimpleGit {
    const env = gitEnv();
    // simple-git guards some variables (GIT_SSH_COMMAND, …): these are ours to set, on purpose.
    return simpleGit({ baseDir: this.dir, allowEnvironment: Object.keys(env) }).env(env);
  }

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const g = this.g();
    if (!existsSync(path.join(this.dir, "HEAD"))) await g.raw(["init", "--bare", "--quiet"]);
    await g.raw(["config", "remote.origin.url", this.url]);
    await g.raw(["config", "gc.auto", "0"]);
  }

  /** Brings the remote branch into refs/remotes/origin/<branch>; false if the branch does not exist yet. */
  async fetch(): Promise<boolean> {
    try {
      await this.g().raw(["fetch", "--quiet", "--no-tags", "origin", `+refs/heads/${this.branch}:${this.remoteRef}`]);
      this.knownHead = undefined;
      return true;
    } catch (err) {
      const text = (err as Error).message;
      if (/couldn't find remote ref|could not find remote ref/i.test(text)) {
        await this.g().raw(["update-ref", "-d", this.remoteRef]).catch(() => undefined);
        this.knownHead = null;
        return false;
      }
      throw new RemoteUnavailable(`fetch from ${this.url} failed: ${firstLine(text)}`);
    }
  }

  /** The last known head of the remote branch (as of the last fetch or push). */
  async head(): Promise<string | null> {
    if (this.knownHead === undefined) {
      try {
        this.knownHead = (await this.g().raw(["rev-parse", "--verify", "--quiet", `${this.remoteRef}^{commit}`])).trim() || null;
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
    const out = await this.g().raw(["log", range, "--reverse", "--format=%H%x1f%B%x1e", "--fixed-strings", ...greps]);
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
      await this.g().raw(["merge-base", "--is-ancestor", ancestor, head]);
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
    const listing = await runWithInput("git", ["-C", this.dir, "--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", head, "--", ...unique], Buffer.alloc(0));
    const blobs: { path: string; oid: string }[] = [];
    for (const entry of listing.toString("utf8").split("\0")) {
      // <mode> SP <type> SP <oid> TAB <path>
      const m = /^\d{6} blob ([0-9a-f]{40,64})\t(.*)$/s.exec(entry);
      if (m) blobs.push({ oid: m[1] as string, path: m[2] as string });
    }
    if (blobs.length === 0) return out;
    const raw = await runWithInput("git", ["-C", this.dir, "cat-file", "--batch"], Buffer.from(blobs.map((b) => b.oid).join("\n") + "\n"));
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
      for (const f of c.files) {
        chunks.push(Buffer.from(`M 100644 inline ${f.path}\n`));
        data(f.content);
      }
    });
    // get-mark answers on the cat-blob channel (stdout here): one commit id per mark, in order.
    commits.forEach((_, i) => chunks.push(Buffer.from(`get-mark :${i + 1}\n`)));
    chunks.push(Buffer.from("done\n"));
    const out = await runWithInput("git", ["-C", this.dir, "fast-import", "--quiet", "--done", "--force", "--cat-blob-fd=1"], Buffer.concat(chunks));
    const shas = out.toString().trim().split("\n").filter((l) => /^[0-9a-f]{40}$/.test(l));
    if (shas.length !== commits.length) throw new Error(`fast-import made ${shas.length} commits, expected ${commits.length}`);
    return shas;
  }

  /** Pushes `sha` to the remote branch as a fast-forward; never forces. */
  async push(sha: string): Promise<void> {
    try {
      await this.g().raw(["push", "--quiet", "--porcelain", "origin", `${sha}:refs/heads/${this.branch}`]);
    } catch (err) {
      const text = (err as Error).message;
      if (/\[rejected\]|non-fast-forward|fetch first|\[remote rejected\].*(stale|lock|cannot lock)/i.test(text)) {
        throw new PushRejected(`push to ${this.url} rejected: ${firstLine(text)}`);
      }
      throw new RemoteUnavailable(`push to ${this.url} failed: ${firstLine(text)}`);
    }
    // Now known to be the remote head: the next batch builds on it without fetching.
    await this.g().raw(["update-ref", this.remoteRef, sha]);
    this.knownHead = sha;
  }
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" / ").slice(0, 500);
}

function runWithInput(cmd: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: gitEnv() });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(stdout)) : reject(new Error(`${cmd} ${args.slice(0, 4).join(" ")} exited ${code}: ${stderr.trim()}`))));
    // A command that exits without reading all its input (or none: ls-tree) closes the pipe;
    // the exit code says whether it worked, and an unhandled EPIPE would end the process.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
