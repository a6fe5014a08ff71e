// The shadow writer: drains the shadow commits queued in the store into the shadow GitOps
// repository — a commit per bus message on an update's merge-request branch `mr/<alias>`, a
// real merge commit into main when the update goes stable, finished composes on main.
import path from "node:path";
import type { Logger } from "pino";
import type { BranchLease } from "../store/branchLease.js";
import type { ShadowChangeRecord, ShadowRepository } from "../store/shadowRepository.js";
import { parseShadowCommitMessage, SHADOW_ROOT_MESSAGE, SHADOW_TRAILER } from "../domain/commitMessages/shadow.js";
import { SHADOW_MAIN } from "../domain/shadowBranches.js";
import { backoff, Drain } from "../concurrency/index.js";
import { branchKey, shadowLeaseKey } from "./branchKey.js";
import { pushWithRetry } from "./steps/pushWithRetry.js";
import { branchLocks } from "./writer.js";
import { clearStaleLocks } from "./gitLocks.js";
import { runGitProcess } from "./gitProcess.js";
import { PushRejected, RemoteUnavailable, Workspace, WorkspaceError, type Author, type FileCommit } from "./workspace.js";

export interface ShadowWriterOptions {
  /** How often the queue is looked at without being told (other replicas, delayed retries). */
  pollMs: number;
  /** Delay before the n-th retry of a change that could not be written. */
  retryDelayMs: (attempt: number) => number;
  /** Rejected pushes (the branch moved) retried at once on the fresh head. */
  pushRetries: number;
  /** Queued changes read per round. */
  batchSize: number;
}

const changeBackoff = backoff({ firstMs: 1000, maxMs: 300_000 });

export const defaultShadowWriterOptions: ShadowWriterOptions = {
  pollMs: 2000,
  // Attempts count from 1: the first failed one waits a second.
  retryDelayMs: (attempt) => changeBackoff(attempt - 1),
  pushRetries: 20,
  batchSize: 500,
};

export interface ShadowWriterDeps {
  changes: ShadowRepository;
  /** The shadow repository: a path or a git URL (RELENGD_SHADOW_REMOTE). */
  url: string;
  /** Where the writer keeps its local bare clone. */
  workspaceDir: string;
  author?: Author;
  logger: Logger;
  /** Replicas sharing the store: only the holder of the shadow repository's lease writes it. */
  lease?: BranchLease;
  /** Told after each change is written (tests, metrics). */
  onWritten?: (change: ShadowChangeRecord, shas: { commitSha: string; mergeSha?: string }) => void;
}

/** How much older than its change a mirroring commit may look (clocks of replicas disagree). */
const FIND_SLACK_SECONDS = 86_400;

const DEFAULT_AUTHOR: Author = { name: "relengd shadow", email: "relengd@localhost" };

/** The first commit of a new shadow repository's main branch: says what the repository is. */
export const SHADOW_README = `# relengd shadow repository

relengd writes this repository from the Fedora message bus, with its own request documents, to
show what Fedora's release engineering would look like done the GitOps way:

- every Bodhi update is a branch \`mr/<alias>\` (a git-native merge request) with its BodhiUpdate
  document, one commit per bus message; when the update is pushed to stable the branch is merged
  into \`main\` with a merge commit; an obsoleted, revoked or unpushed update's branch is closed by a
  commit saying so (the branch is kept);
- every compose Pungi finishes is a ComposeRequest document committed on \`main\`;
- every ticket of pagure.io's releng/fedora-scm-requests queue (what \`fedpkg request-branch\` and
  \`fedpkg request-repo\` file) is a branch \`mr/scm-<ticket id>\` with its BranchRequest or
  RepoRequest document, one commit per message that changes the ticket's text or status; a ticket
  the request processor closed \`Processed\` is merged into \`main\`, one closed otherwise
  (\`Denied\`, \`Invalid\`, ...) gets a commit saying so with the closing comment (the branch is
  kept). Where a ticket does not fit relengd/v1 the commit says so (Relengd-Schema-Problem), and the
  commit that closes or merges it says whether relengd's own approval policies agree with the
  request processor (Relengd-Shadow-Agreement: agreed, disagreed, undecidable).

- every fedocal meeting is a CalendarEntry document on \`main\`
  (\`calendar/<calendar>/<date>-<name>-<meeting id>.yaml\`): a new or changed meeting is a commit
  writing it (a meeting moved to another day: the old file removed in the same commit), a deleted
  meeting a commit removing it.

Each commit names the bus message it mirrors (Relengd-Bus-Message-Id, Relengd-Bus-Topic).
`;

// Git outside the workspace's own commands, on the local clone only: no remote, no prompt. Run
// by the helper process, as the workspace's are (gitProcess.ts), and not by simple-git, which
// waits 50 ms after a command that prints nothing (a log that finds no mirrored commit).
async function localGit(dir: string, args: string[], author?: Author): Promise<string> {
  const env: Record<string, string> = { LC_ALL: "C", GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };
  for (const k of ["PATH", "HOME"]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  if (author) Object.assign(env, { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email });
  const result = await runGitProcess({ args, cwd: dir, env });
  if (result.code !== 0) throw new Error(result.stderr.trim() || `git ${args[0] ?? ""} ended with ${result.code ?? result.signal}`);
  return result.stdout.toString("utf8");
}

export class ShadowWriter {
  private readonly options: ShadowWriterOptions;
  private readonly author: Author;
  private readonly workspaces = new Map<string, Workspace>();
  private readonly drain = new Drain(() => this.writeQueued(), {
    onError: (err) => this.deps.logger.error({ err }, "shadow writer crashed; will resume on the next poll"),
  });
  private timer: NodeJS.Timeout | undefined;
  private mainSeen = false;
  /** A rejected push is made again at once on the fresh head (each attempt fetches first). */
  private readonly pushRetry: { retries: number; delayMs: () => number };

  constructor(
    private readonly deps: ShadowWriterDeps,
    options: Partial<ShadowWriterOptions> = {},
  ) {
    this.options = { ...defaultShadowWriterOptions, ...options };
    this.author = deps.author ?? DEFAULT_AUTHOR;
    this.pushRetry = { retries: this.options.pushRetries, delayMs: () => 0 };
  }

  /** Finishes what a previous run left queued (crash recovery), then polls. */
  start(): void {
    this.notify();
    this.timer = setInterval(() => this.notify(), this.options.pollMs);
    this.timer.unref();
  }

  /** A change was queued: make sure the writer runs. */
  notify(): void {
    this.drain.wake();
  }

  /** Resolves when no round runs (changes waiting for a retry may remain queued). */
  idle(): Promise<void> {
    return this.drain.settled();
  }

  async stop(): Promise<void> {
    const stopped = this.drain.stop();
    clearInterval(this.timer);
    await stopped;
  }

  /** One drain pass: rounds until one writes nothing; false when another replica holds the lease. */
  private async writeQueued(): Promise<boolean> {
    if (this.deps.lease && !(await this.deps.lease.hold(shadowLeaseKey(this.deps.url)).catch(() => false))) return false;
    while (!this.drain.stopped && (await this.round())) {
      // Another round: the queue may hold more than one batch.
    }
    return true;
  }

  /**
   * Writes the due changes of one batch in queue order. A branch whose change failed (or waits
   * for its retry) takes no later change this round: its commits must land in order. Returns
   * whether anything was written.
   */
  private async round(): Promise<boolean> {
    const queued = await this.deps.changes.queued(this.options.batchSize);
    const waiting = new Set<string>();
    const now = Date.now();
    let wrote = false;
    for (const change of queued) {
      if (this.drain.stopped) break;
      if (waiting.has(change.branch)) continue;
      if (change.nextAttemptAt && change.nextAttemptAt.getTime() > now) {
        waiting.add(change.branch);
        continue;
      }
      try {
        const shas = await this.writeRepairing(change);
        await this.deps.changes.markWritten(change.seq, shas);
        this.deps.onWritten?.(change, shas);
        wrote = true;
      } catch (err) {
        waiting.add(change.branch);
        const message = err instanceof Error ? err.message : String(err);
        const attempt = change.attempts + 1;
        const log = { err: message, messageId: change.messageId, branch: change.branch, attempt };
        if (err instanceof RemoteUnavailable) this.deps.logger.warn(log, "shadow repository unavailable; the change stays queued");
        else this.deps.logger.error(log, "shadow change not written; it stays queued");
        await this.deps.changes.markAttemptFailed(change.seq, message, new Date(Date.now() + this.options.retryDelayMs(attempt)));
      }
    }
    return wrote;
  }

  /** Writes the change; a stale lock git left in the workspace (see gitLocks) is removed and the write tried again at once. */
  private async writeRepairing(change: ShadowChangeRecord): Promise<{ commitSha: string; mergeSha?: string }> {
    try {
      return await this.write(change);
    } catch (err) {
      if (!(err instanceof WorkspaceError)) throw err;
      const sweep = clearStaleLocks(this.deps.workspaceDir, err.locks);
      if (sweep.removed.length === 0) throw err;
      this.deps.logger.warn({ removed: sweep.removed, messageId: change.messageId }, "removed stale git locks from the shadow workspace; writing again at once");
      return this.write(change);
    }
  }

  private async write(change: ShadowChangeRecord): Promise<{ commitSha: string; mergeSha?: string }> {
    const commitSha = await this.commitOn(change.kind === "compose" || change.kind === "calendar" || change.kind === "remove" ? SHADOW_MAIN : change.branch, change);
    if (change.kind !== "merge") return { commitSha };
    return { commitSha, mergeSha: await this.mergeIntoMain(change, commitSha) };
  }

  private lockKey(branch: string): string {
    return branchKey(this.deps.url, branch);
  }

  private async workspace(branch: string): Promise<Workspace> {
    let ws = this.workspaces.get(branch);
    if (!ws) {
      // One local clone for every branch: a merge needs the branch's commits beside main's.
      ws = new Workspace(this.deps.workspaceDir, this.deps.url, branch);
      await ws.open();
      if (this.workspaces.size >= 1000) this.workspaces.clear();
      this.workspaces.set(branch, ws);
    }
    return ws;
  }

  /**
   * One commit with the change's document on `branch` (a new merge request branches off main).
   * A commit already carrying the change's message id is the change, written by a run that
   * stopped before it could say so: it is not written twice.
   */
  private commitOn(branch: string, change: ShadowChangeRecord): Promise<string> {
    return branchLocks.run(this.lockKey(branch), async () => {
      const ws = await this.workspace(branch);
      return pushWithRetry(async () => {
        const exists = await ws.fetch();
        let parent = exists ? await ws.head() : null;
        if (parent) {
          const found = await this.findCommit(ws.dir, parent, change);
          if (found) return found;
        } else parent = branch === SHADOW_MAIN ? await this.createMain(ws) : await this.mainHead();
        const [sha] = await ws.commit(parent, [shadowFileCommit(change)], this.author);
        if (!sha) throw new Error("git fast-import made no commit");
        await ws.push(sha);
        return sha;
      }, this.pushRetry);
    });
  }

  /**
   * The merge request merged: a merge commit on main whose parents are main's head and the
   * branch's commit, and whose tree is main's with the update's document — the document is
   * declarative, so the branch's version of it wins, and no other file differs.
   */
  private mergeIntoMain(change: ShadowChangeRecord, branchSha: string): Promise<string> {
    const message = change.mergeMessage;
    if (!message) throw new Error(`merge change of ${change.messageId} has no merge message`);
    return branchLocks.run(this.lockKey(SHADOW_MAIN), async () => {
      const ws = await this.workspace(SHADOW_MAIN);
      return pushWithRetry(async () => {
        const head = (await ws.fetch()) ? await ws.head() : null;
        const base = head ?? (await this.createMain(ws));
        const found = await this.findCommit(ws.dir, base, change);
        if (found) return found;
        const [withDocument] = await ws.commit(base, [{ files: [{ path: change.path, content: change.content }], message }], this.author);
        const merge = (await localGit(ws.dir, ["commit-tree", `${withDocument}^{tree}`, "-p", base, "-p", branchSha, "-m", message.trimEnd()], this.author)).trim();
        await ws.push(merge);
        return merge;
      }, this.pushRetry);
    });
  }

  /**
   * Where a new merge request branches off: main's head as last fetched or pushed (fetched once
   * if never), the repository's first commit made if it has none. A fork point a little behind
   * main changes nothing: the merge is made on main's fresh head.
   */
  private mainHead(): Promise<string> {
    return branchLocks.run(this.lockKey(SHADOW_MAIN), async () => {
      const ws = await this.workspace(SHADOW_MAIN);
      const known = this.mainSeen ? await ws.head() : null;
      if (known) return known;
      const exists = await ws.fetch();
      this.mainSeen = true;
      return exists ? ((await ws.head()) ?? this.createMain(ws)) : this.createMain(ws);
    });
  }

  /** Called holding main's lock. */
  private async createMain(ws: Workspace): Promise<string> {
    const [root] = await ws.commit(null, [{ files: [{ path: "README.md", content: SHADOW_README }], message: SHADOW_ROOT_MESSAGE }], this.author);
    if (!root) throw new Error("git fast-import made no commit");
    try {
      await ws.push(root);
      return root;
    } catch (err) {
      // Another writer made main first: build on theirs.
      if (!(err instanceof PushRejected) || !(await ws.fetch())) throw err;
      const head = await ws.head();
      if (!head) throw err;
      return head;
    }
  }

  /**
   * The commit in `head`'s first-parent history (a branch's own commits, main's own commits and
   * merges) that mirrors the change. Only commits made since the change was queued can mirror it,
   * so the walk stops at the first commit older than that (git's `--since` ends the traversal
   * there): a repository of years of tickets costs what a new one does. A day of slack covers
   * replicas whose clocks disagree.
   */
  private async findCommit(dir: string, head: string, change: ShadowChangeRecord): Promise<string | undefined> {
    const messageId = change.messageId;
    const since = Math.floor(Math.min(change.createdAt.getTime(), Date.now()) / 1000) - FIND_SLACK_SECONDS;
    const out = await localGit(dir, [
      "log",
      "--first-parent",
      `--since=@${since}`,
      "--format=%H%x1f%B%x1e",
      "--fixed-strings",
      `--grep=${SHADOW_TRAILER.messageId}: ${messageId}`,
      head,
    ]);
    for (const record of out.split("\x1e")) {
      const [sha, message] = record.replace(/^\n/, "").split("\x1f");
      if (sha && message !== undefined && parseShadowCommitMessage(message)?.messageId === messageId) return sha.trim();
    }
    return undefined;
  }
}

/** A change's commit: its document written, or (kind remove) its path removed; removePaths go first. */
function shadowFileCommit(change: ShadowChangeRecord): FileCommit {
  const removed = [...(change.removePaths ?? []), ...(change.kind === "remove" ? [change.path] : [])];
  return { files: change.kind === "remove" ? [] : [{ path: change.path, content: change.content }], ...(removed.length > 0 ? { removed } : {}), message: change.message };
}

/** Where a server keeps the shadow writer's clone. */
export function shadowWorkspaceDir(dataDir: string): string {
  return path.join(dataDir, "workspaces", "shadow.git");
}
