// Step: approved requests merged into the target branch by the branch's writer (same lock, same
// workspace, same lease as releases): a merge commit with two parents even where a fast-forward
// would do, pushed as a fast-forward of the target, never forced.
import type { Logger } from "pino";
import { renderRequestMergeMessage } from "../../domain/commitMessages/requestMerge.js";
import type { ResolvedRepository } from "../../domain/environmentSet.js";
import type { RequestRecord, RequestRepository } from "../../store/requestRepository.js";
import { commitTree, fetchBranches, findRequestMerge, localRequestRef, mergeTree, RequestGitError } from "../requestGit.js";
import { RemoteUnavailable, type Workspace } from "../workspace.js";
import { pushWithRetry, type PushRetryOptions } from "./pushWithRetry.js";

export interface MergeContext {
  repo: ResolvedRepository;
  requests: RequestRepository;
  /** The writer's workspace, opened and fetched. */
  open: () => Promise<Workspace>;
  /** Pushes `sha` as the target's new head (the writer's timed push). */
  push: (ws: Workspace, sha: string) => Promise<void>;
  retry: PushRetryOptions;
  now: () => Date;
  logger: Logger;
}

export type MergeOutcome =
  | { status: "merged"; request: RequestRecord; commit: string }
  | { status: "unmergeable"; request: RequestRecord; reason: string }
  /** The branch moved or went away since it was judged: the poller judges it again or withdraws it. */
  | { status: "skipped"; request: RequestRecord; reason: string };

/** Merges one approved request; a rejected push is made again on the fresh head. */
export async function mergeRequest(ctx: MergeContext, request: RequestRecord): Promise<MergeOutcome> {
  const ws = await ctx.open();
  try {
    await fetchBranches(ws, [request.branch]);
  } catch (err) {
    if (err instanceof RemoteUnavailable && /couldn't find remote ref|could not find remote ref/i.test(err.message)) {
      return { status: "skipped", request, reason: `branch ${request.branch} no longer exists` };
    }
    throw err;
  }
  const tip = (await ws.run(["rev-parse", "--verify", "--quiet", `${localRequestRef(request.branch)}^{commit}`])).stdout.toString().trim();
  if (tip !== request.revision) return { status: "skipped", request, reason: `branch ${request.branch} moved to ${tip.slice(0, 12) || "nothing"} since ${request.revision.slice(0, 12)} was judged` };

  return pushWithRetry(async () => {
    const current = await ctx.open();
    const head = await current.head();
    if (head) {
      // A run that stopped between the push and its record made the merge already.
      const found = await findRequestMerge(current, head, request.id, request.base);
      if (found) {
        await ctx.requests.markMerged(request.id, found, ctx.now());
        return { status: "merged", request, commit: found } as const;
      }
    }
    let tree: string;
    if (head) {
      const merged = await mergeTree(current, head, request.revision);
      if (!merged.ok) {
        const reason = `cannot be merged into ${ctx.repo.branch}: ${merged.conflicts.length > 0 ? `conflicts in ${merged.conflicts.slice(0, 10).join(", ")}` : "git found conflicts"}; a person must resolve them on the branch`;
        await ctx.requests.markUnmergeable(request.id, reason, ctx.now());
        return { status: "unmergeable", request, reason } as const;
      }
      tree = merged.tree;
    } else {
      tree = (await current.run(["rev-parse", `${request.revision}^{tree}`])).stdout.toString().trim();
      if (!tree) throw new RequestGitError(`cannot read the tree of ${request.revision}`);
    }
    const message = renderRequestMergeMessage({
      requestId: request.id,
      branch: request.branch,
      kinds: request.documents.map((d) => d.kind),
      approvedBy: request.approvedBy ?? "unknown",
      path: request.path,
      more: Math.max(0, request.documents.length - 1),
    });
    const commit = await commitTree(current, tree, head ? [head, request.revision] : [request.revision], message, ctx.repo.author, ctx.now());
    await ctx.push(current, commit);
    await ctx.requests.markMerged(request.id, commit, ctx.now());
    ctx.logger.info({ request: request.id, branch: request.branch, commit }, "request merged");
    return { status: "merged", request, commit } as const;
  }, ctx.retry);
}
