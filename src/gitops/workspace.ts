// A long-lived local bare clone of one GitOps repository branch: fetch, read, commit, push.
// Commits are made with `git fast-import` (one process per batch, no work tree), so a burst of
// releases costs one git process instead of two per commit.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { parseCommitMessage } from "../domain/trailers.js";

export interface Author {
  name: string;
  email: string;
}

export interface FileCommit {
  path: string;
  content: string;
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
  const keep = ["PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

export class Workspace {
  private readonly remoteRef: string;

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
      return true;
    } catch (err) {
      const text = (err as Error).message;
      if (/couldn't find remote ref|could not find remote ref/i.test(text)) {
        await this.g().raw(["update-ref", "-d", this.remoteRef]).catch(() => undefined);
        return false;
      }
      throw new RemoteUnavailable(`fetch from ${this.url} failed: ${firstLine(text)}`);
    }
  }

  /** The last known head of the remote branch (as of the last fetch or push). */
  async head(): Promise<string | null> {
    try {
      return (await this.g().raw(["rev-parse", "--verify", "--quiet", `${this.remoteRef}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Release ids among `ids` that already have a commit in the history of `head`, with that commit. */
  async releasesInHistory(head: string | null, ids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (!head || ids.length === 0) return found;
    // One git log for the whole batch; chunks keep argv bounded.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const args = ["log", head, "--format=%H%x1f%B%x1e", "--fixed-strings", ...chunk.map((id) => `--grep=Relengd-Release-Id: ${id}`)];
      const out = await this.g().raw(args);
      for (const record of out.split("\x1e")) {
        const [sha, message] = record.replace(/^\n/, "").split("\x1f");
        if (!sha || message === undefined) continue;
        const info = parseCommitMessage(message);
        if (info && chunk.includes(info.releaseId) && !found.has(info.releaseId)) found.set(info.releaseId, sha.trim());
      }
    }
    return found;
  }

  /** Blob ids of `paths` at `head` (absent paths are missing from the map). */
  async blobs(head: string | null, paths: string[]): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    if (!head || paths.length === 0) return map;
    const unique = [...new Set(paths)];
    for (let i = 0; i < unique.length; i += 500) {
      const out = await this.g().raw(["ls-tree", "-z", head, "--", ...unique.slice(i, i + 500)]);
      for (const entry of out.split("\0")) {
        const m = /^\d+ blob ([0-9a-f]{40})\t(.+)$/.exec(entry);
        if (m?.[1] && m[2]) map.set(m[2], m[1]);
      }
    }
    return map;
  }

  /** Reads blobs by id in one `git cat-file --batch` (one process for a whole batch). */
  async readBlobs(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return out;
    const raw = await runWithInput("git", ["-C", this.dir, "cat-file", "--batch"], Buffer.from(unique.join("\n") + "\n"));
    let at = 0;
    for (const id of unique) {
      const nl = raw.indexOf(10, at);
      const header = raw.subarray(at, nl).toString();
      const m = /^([0-9a-f]{40}) blob (\d+)$/.exec(header);
      if (!m) throw new Error(`git cat-file: unexpected answer for ${id}: ${header}`);
      const size = Number(m[2]);
      out.set(id, raw.subarray(nl + 1, nl + 1 + size).toString("utf8"));
      at = nl + 1 + size + 1;
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
    commits.forEach((c, i) => {
      chunks.push(Buffer.from(`commit ${WORK_REF}\nauthor ${ident}\ncommitter ${ident}\n`));
      data(c.message);
      // The work ref was deleted above, so without `from` the first commit is a root commit.
      if (i === 0 && parent) chunks.push(Buffer.from(`from ${parent}\n`));
      chunks.push(Buffer.from(`M 100644 inline ${c.path}\n`));
      data(c.content);
    });
    chunks.push(Buffer.from("done\n"));
    await this.g().raw(["update-ref", "-d", WORK_REF]).catch(() => undefined);
    await runWithInput("git", ["-C", this.dir, "fast-import", "--quiet", "--done", "--force"], Buffer.concat(chunks));
    const out = await this.g().raw(["rev-list", "--reverse", `--max-count=${commits.length}`, WORK_REF]);
    const shas = out.trim().split("\n").filter(Boolean);
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
    child.stdin.end(input);
  });
}
