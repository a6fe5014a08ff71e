// `relengd request submit` on the server: the request branch made for the caller, one commit with
// the document on top of the target branch (or of the branch's last revision), read back as a
// revision to judge, then pushed. Two steps so that the request is recorded before the poller can
// see the branch and take it for an unverified push.
import type { ResolvedRepository } from "../domain/environmentSet.js";
import type { RequestRevision } from "../domain/requests/revision.js";
import { KeyedMutex } from "../concurrency/index.js";
import { blobsAt, fetchBranches, localRequestRef, pushBranch, remoteHeads } from "./requestGit.js";
import { MAX_REQUEST_FILE_BYTES, readRevision } from "./requestRevision.js";
import { requestWorkspaceDir } from "./requestPoller.js";
import { Workspace, type Author } from "./workspace.js";

export interface SubmissionInput {
  repo: ResolvedRepository;
  branch: string;
  path: string;
  content: string;
  /** The token's subject: the commit's author and the request's verified author. */
  subject: string;
  message: string;
  now: Date;
}

export interface PreparedSubmission {
  revision: RequestRevision;
  /** The branch already holds exactly this document: nothing to push. */
  unchanged: boolean;
  /** Pushes the branch; PushRejected when it moved meanwhile. */
  push(): Promise<void>;
}

export class RequestSubmitter {
  // fast-import writes one work ref per workspace: one submission at a time per repository.
  private readonly locks = new KeyedMutex();
  private readonly workspaces = new Map<string, Workspace>();

  constructor(private readonly workspacesDir: string) {}

  private async open(repo: ResolvedRepository): Promise<Workspace> {
    // Not the poller's clone: two processes of git configuring one clone at once would collide.
    const dir = requestWorkspaceDir(this.workspacesDir, repo.name).replace(/\.requests\.git$/, ".submissions.git");
    let ws = this.workspaces.get(repo.name);
    if (!ws || ws.url !== repo.url || ws.branch !== repo.branch) {
      ws = new Workspace(dir, repo.url, repo.branch);
      await ws.open();
      this.workspaces.set(repo.name, ws);
    }
    return ws;
  }

  /** Runs `work` holding the repository's submission lock (prepare, record, push: one story). */
  serialized<T>(repo: ResolvedRepository, work: () => Promise<T>): Promise<T> {
    return this.locks.run(repo.name, work);
  }

  async prepare(input: SubmissionInput): Promise<PreparedSubmission> {
    const { repo } = input;
    const ws = await this.open(repo);
    const heads = await remoteHeads(ws);
    const targetHead = heads.get(repo.branch) ?? null;
    const branchTip = heads.get(input.branch) ?? null;
    await fetchBranches(ws, [repo.branch, ...(branchTip ? [input.branch] : [])]);
    const local = async (branch: string) => (await ws.run(["rev-parse", "--verify", "--quiet", `${localRequestRef(branch)}^{commit}`])).stdout.toString().trim() || null;
    const target = targetHead ? await local(repo.branch) : null;
    const parent = branchTip ? await local(input.branch) : target;
    const author: Author = { name: input.subject, email: repo.author.email };
    let tip: string;
    let unchanged = false;
    const have = parent ? (await blobsAt(ws, parent, [input.path], MAX_REQUEST_FILE_BYTES)).get(input.path) : undefined;
    if (branchTip && parent && have?.bytes && have.bytes.toString("utf8") === input.content) {
      tip = parent;
      unchanged = true;
    } else {
      const [sha] = await ws.commit(parent, [{ files: [{ path: input.path, content: input.content }], message: input.message }], author, input.now);
      if (!sha) throw new Error("git fast-import made no commit");
      tip = sha;
    }
    const revision = await readRevision(ws, {
      repository: repo.name,
      branch: input.branch,
      tip,
      targetHead: target,
      allowedSigners: null,
      source: "api",
      seenAt: input.now,
      author: { name: input.subject, email: null, verified: true },
    });
    return { revision, unchanged, push: () => (unchanged ? Promise.resolve() : pushBranch(ws, tip, input.branch)) };
  }
}
