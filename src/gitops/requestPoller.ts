// Finds request branches (`requests/…`) pushed to the GitOps repository by any git client: new and
// moved ones are read and handed over to be judged, deleted ones withdrawn. Polling, so a plain git
// remote needs nothing else; a forge's webhook only makes it look sooner.
import path from "node:path";
import type { Logger } from "pino";
import type { ResolvedRepository } from "../domain/environmentSet.js";
import type { RequestRevision } from "../domain/requests/revision.js";
import type { BranchLease } from "../store/branchLease.js";
import { openRequestStatuses, type BranchState, type RequestRecord, type RequestRepository } from "../store/requestRepository.js";
import { Drain, mapConcurrent } from "../concurrency/index.js";
import { leaseKey } from "./writer.js";
import { fetchBranches, isRequestBranch, localRequestRef, pathsAt, remoteHeads } from "./requestGit.js";
import { PROPOSED_DOCUMENT_ROOTS, readRevision } from "./requestRevision.js";
import { readProposedHistory, witnessUnreviewed, type ProposedHistory } from "./proposedHistory.js";
import type { UnreviewedReport } from "../domain/requests/unreviewed.js";
import { Workspace } from "./workspace.js";

export interface RequestPollerOptions {
  /** How often the remote's branches are listed (the bound: 5 s). */
  pollMs: number;
  /**
   * A branch `request submit` made is recorded before it is pushed: one missing from the remote
   * for less than this is being pushed, not deleted.
   */
  submitGraceMs: number;
}

/** Request branches read at once (each read is a handful of git processes). */
const REVISION_READS = 4;

export const defaultRequestPollerOptions: RequestPollerOptions = { pollMs: 2000, submitGraceMs: 60_000 };

export interface RequestPollerDeps {
  requests: RequestRepository;
  /** The repository requests are made to (undefined: none is declared; nothing is polled). */
  repository: () => ResolvedRepository | undefined;
  workspacesDir: string;
  /** The allowed-signers file written from the facts; null when no key is known. */
  allowedSigners: () => string | null;
  /** Judges and records a revision (flow/recordRequest). */
  judge: (revision: RequestRevision) => Promise<RequestRecord>;
  /** A request ended because its branch was deleted. */
  onWithdrawn?: (id: string) => void;
  /**
   * Judges again a request that waits for review because of the policies, from its revision read
   * afresh (flow/recordRequest's rejudgeRequest); absent: never.
   */
  rejudge?: (request: RequestRecord, revision: RequestRevision) => Promise<RequestRecord | null>;
  lease?: BranchLease;
  logger: Logger;
  now?: () => Date;
  /**
   * The forge accounts verified webhooks name as having put `revision` at the head of `branch`
   * (forge webhooks); absent: none. One account makes an otherwise unverified author verified.
   */
  forgeAuthors?: (repository: string, branch: string, revision: string) => Promise<string[]>;
}

export interface PollResult {
  judged: RequestRecord[];
  /** Requests that waited for review and were judged again (the facts or policies changed) to another verdict. */
  rejudged: RequestRecord[];
  withdrawn: string[];
  failed: { branch: string; error: string }[];
}

/** Where the poller keeps its clone of a repository (apart from the writer's: reads only). */
export function requestWorkspaceDir(workspacesDir: string, repository: string): string {
  return path.join(workspacesDir, `${repository}.requests.git`);
}

export class RequestPoller {
  private readonly options: RequestPollerOptions;
  private readonly drain = new Drain(async () => void (await this.pollOnce()), {
    onError: (err) => this.deps.logger.error({ err }, "request poll failed; trying again at the next poll"),
  });
  private timer: NodeJS.Timeout | undefined;
  private workspace: Workspace | undefined;
  private unreviewedReport: UnreviewedReport | undefined;
  private rejudgeDue = false;
  /** The request branches as the last poll found them. */
  private lastHeads: { repository: string; url: string; heads: Map<string, string> } | undefined;
  /** The target branch's history the report was made from. */
  private history: ProposedHistory | undefined;

  constructor(
    private readonly deps: RequestPollerDeps,
    options: Partial<RequestPollerOptions> = {},
  ) {
    this.options = { ...defaultRequestPollerOptions, ...options };
  }

  start(): void {
    this.drain.wake();
    this.timer = setInterval(() => this.drain.wake(), this.options.pollMs);
    this.timer.unref();
  }

  /** Look now (a webhook, a submission), not at the next tick. */
  kick(): void {
    this.drain.wake();
  }

  /**
   * The facts or the approval policies changed: the requests waiting for review because of them
   * are judged again at the next poll (one that waited for a facts source that was down, say).
   */
  policiesChanged(): void {
    this.rejudgeDue = true;
    this.drain.wake();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.drain.stop();
  }

  settled(): Promise<void> {
    return this.drain.settled();
  }

  /** What the last look at the target branch found unreviewed (undefined before the first look, or on a replica that does not poll). */
  unreviewed(): UnreviewedReport | undefined {
    return this.unreviewedReport;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private async open(repo: ResolvedRepository): Promise<Workspace> {
    const dir = requestWorkspaceDir(this.deps.workspacesDir, repo.name);
    if (!this.workspace || this.workspace.url !== repo.url || this.workspace.dir !== dir || this.workspace.branch !== repo.branch) {
      const ws = new Workspace(dir, repo.url, repo.branch);
      await ws.open();
      this.workspace = ws;
    }
    return this.workspace;
  }

  /** One look at the remote: new and moved branches judged, deleted ones withdrawn. */
  async pollOnce(): Promise<PollResult> {
    const result: PollResult = { judged: [], rejudged: [], withdrawn: [], failed: [] };
    const repo = this.deps.repository();
    if (!repo) return result;
    // One replica polls a repository: the one that writes its branch.
    if (this.deps.lease && !(await this.deps.lease.hold(leaseKey(repo)))) return result;
    const ws = await this.open(repo);
    const heads = await remoteHeads(ws);
    const requestHeads = new Map([...heads].filter(([branch]) => isRequestBranch(branch)));
    // The first poll (a start, another repository) compares every branch the store knows; later
    // ones only the branches that appeared, moved or went since the last poll, so a repository
    // with thousands of old request branches costs one ls-remote, not thousands of rows, per poll.
    const last = this.lastHeads?.repository === repo.name && this.lastHeads.url === repo.url ? this.lastHeads.heads : undefined;
    const changed = last ? [...requestHeads].filter(([branch, sha]) => last.get(branch) !== sha).map(([branch]) => branch) : undefined;
    const gone = last ? [...last.keys()].filter((branch) => !requestHeads.has(branch)) : undefined;
    const knownList = changed && gone ? await this.deps.requests.latestOfBranches(repo.name, [...changed, ...gone]) : await this.deps.requests.branches(repo.name);
    const known = new Map(knownList.map((b) => [b.branch, b]));
    const now = this.now();

    for (const [branch, state] of known) {
      if (heads.has(branch) || !openRequestStatuses.includes(state.status)) continue;
      if (state.source === "api" && now.getTime() - state.seenAt.getTime() < this.options.submitGraceMs) continue;
      if (await this.deps.requests.withdraw(state.id, now)) {
        result.withdrawn.push(state.id);
        this.deps.onWithdrawn?.(state.id);
      }
    }

    const changedSet = changed ? new Set(changed) : undefined;
    const moved = [...requestHeads].filter(([branch, sha]) => (changedSet === undefined || changedSet.has(branch)) && known.get(branch)?.revision !== sha).map(([branch]) => branch);
    // What the next poll compares with: a branch that could not be judged stays "changed" so that it is tried again.
    const seen = new Map(requestHeads);
    const remember = () => {
      for (const f of result.failed) {
        const before = last?.get(f.branch);
        if (before === undefined) seen.delete(f.branch);
        else seen.set(f.branch, before);
      }
      // A recent API submission not pushed yet is looked for again until its grace ends.
      this.lastHeads = { repository: repo.name, url: repo.url, heads: seen };
    };
    const targetHead = heads.get(repo.branch) ?? null;
    const reportStale = this.unreviewedReport?.head !== targetHead || this.unreviewedReport.repository !== repo.name || this.unreviewedReport.branch !== repo.branch;
    // The writer pushes a merge before it records it: a look in between finds its trailer unwitnessed. Such documents are asked about again (the store only, no git) until the record comes.
    if (!reportStale && this.unreviewedReport?.documents.some((d) => d.requestId !== undefined)) await this.witnessAgain();
    if (this.rejudgeDue && this.deps.rejudge) await this.rejudgeWaiting(ws, repo, requestHeads, targetHead, result);
    if (moved.length === 0 && !reportStale) {
      remember();
      return result;
    }
    // A repository with no target branch yet (an empty one made on a forge) still takes requests: fetching a missing ref would fail every poll.
    await fetchBranches(ws, [...(targetHead ? [repo.branch] : []), ...moved]);
    const targetPaths = new Set(targetHead ? await pathsAt(ws, targetHead, PROPOSED_DOCUMENT_ROOTS) : []);
    // Read a few at a time (git processes; a mass branching pushes hundreds of branches at once),
    // judged one after the other in the listing's order: of two requests for one path, the one
    // judged later is the one that conflicts.
    const signers = this.deps.allowedSigners();
    const read = await mapConcurrent(moved, REVISION_READS, async (branch) => {
      // What was fetched is the tip ls-remote named, or a newer one: the next poll judges that.
      const fetched = (await ws.run(["rev-parse", "--verify", "--quiet", `${localRequestRef(branch)}^{commit}`])).stdout.toString().trim();
      if (!fetched) return undefined;
      const tip = heads.get(branch);
      if (fetched !== tip) this.deps.logger.info({ branch, listed: tip, fetched }, "request branch moved while it was read; judging the newer revision");
      return this.withForgeAuthor(await readRevision(ws, { repository: repo.name, branch, tip: fetched, targetHead, allowedSigners: signers, source: "git", seenAt: now, targetPaths }));
    });
    for (const [i, branch] of moved.entries()) {
      const outcome = read[i] as PromiseSettledResult<RequestRevision | undefined>;
      try {
        if (outcome.status === "rejected") throw outcome.reason;
        if (outcome.value) result.judged.push(await this.deps.judge(outcome.value));
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.deps.logger.warn({ branch, err: error }, "cannot read a request branch; trying again at the next poll");
        result.failed.push({ branch, error });
      }
    }
    // After the requests: they wait for no report (the first look at a long history takes seconds).
    if (reportStale) await this.checkUnreviewed(ws, repo, targetHead);
    remember();
    return result;
  }

  /** Judges again what waits for the policies: only revisions still at their branch's tip. */
  private async rejudgeWaiting(ws: Workspace, repo: ResolvedRepository, requestHeads: ReadonlyMap<string, string>, targetHead: string | null, result: PollResult): Promise<void> {
    this.rejudgeDue = false;
    const rejudge = this.deps.rejudge;
    if (!rejudge) return;
    const waiting = (await this.deps.requests.waitingForPolicies(repo.name)).filter((r) => requestHeads.get(r.branch) === r.revision);
    if (waiting.length === 0) return;
    try {
      await fetchBranches(ws, [...(targetHead ? [repo.branch] : []), ...waiting.map((r) => r.branch)]);
    } catch (err) {
      // Tried again at the next change of the facts or policies, or when the branch moves.
      this.rejudgeDue = true;
      throw err;
    }
    const targetPaths = new Set(targetHead ? await pathsAt(ws, targetHead, PROPOSED_DOCUMENT_ROOTS) : []);
    const signers = this.deps.allowedSigners();
    const now = this.now();
    const reads = await mapConcurrent(waiting, REVISION_READS, async (r) =>
      this.withForgeAuthor(
        await readRevision(ws, { repository: repo.name, branch: r.branch, tip: r.revision, targetHead, allowedSigners: signers, source: r.source, seenAt: r.seenAt, targetPaths, ...(r.source === "api" ? { author: { name: r.author, email: r.authorEmail, verified: r.verified } } : {}) }),
      ),
    );
    for (const [i, request] of waiting.entries()) {
      const read = reads[i] as PromiseSettledResult<RequestRevision>;
      try {
        if (read.status === "rejected") throw read.reason;
        const updated = await rejudge(request, read.value);
        if (updated) result.rejudged.push(updated);
      } catch (err) {
        this.deps.logger.warn({ request: request.id, err: err instanceof Error ? err.message : String(err) }, "cannot judge a waiting request again");
      }
    }
    if (result.rejudged.length > 0) this.deps.logger.info({ requests: result.rejudged.map((r) => ({ id: r.id, status: r.status })), at: now }, "requests waiting for review judged again with the new facts or policies");
  }

  /**
   * A pushed revision whose commits do not verify takes its author from the forge: the one
   * account verified webhooks name as having put this exact revision there. Signatures come
   * first (they say who wrote the change, not who pushed it).
   */
  private async withForgeAuthor(revision: RequestRevision): Promise<RequestRevision> {
    if (revision.author.verified || revision.source !== "git" || !this.deps.forgeAuthors) return revision;
    const accounts = await this.deps.forgeAuthors(revision.repository, revision.branch, revision.revision);
    const [only] = accounts;
    if (accounts.length === 1 && only) return { ...revision, author: { name: only, email: null, verified: true } };
    if (accounts.length > 1) {
      const why = `forge webhooks name several accounts for ${revision.revision.slice(0, 12)} (${accounts.join(", ")})`;
      return { ...revision, author: { ...revision.author, note: revision.author.note ? `${revision.author.note}; ${why}` : why } };
    }
    return revision;
  }

  /** The last report's history witnessed again by the store: merges recorded since are reviewed. */
  private async witnessAgain(): Promise<void> {
    const report = this.unreviewedReport;
    if (!report || !this.history || this.history.head !== report.head) return;
    try {
      this.unreviewedReport = { ...report, documents: await witnessUnreviewed(this.history, (ids) => this.deps.requests.mergeCommits(ids)), checkedAt: this.now() };
      await this.deps.requests.saveUnreviewed(this.unreviewedReport);
    } catch (err) {
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "cannot check the target branch for unreviewed documents");
    }
  }

  /** Documents someone pushed straight to the target branch, re-read when its head moves. */
  private async checkUnreviewed(ws: Workspace, repo: ResolvedRepository, head: string | null): Promise<void> {
    try {
      // The fetched ref, read at the commit ls-remote named: a report says which head it is about.
      const fetched = head ? (await ws.run(["rev-parse", "--verify", "--quiet", `${localRequestRef(repo.branch)}^{commit}`])).stdout.toString().trim() : "";
      // From the last history of the same branch: only what came since is read.
      const previous = this.history && this.unreviewedReport?.repository === repo.name && this.unreviewedReport.branch === repo.branch ? this.history : undefined;
      this.history = fetched ? await readProposedHistory(ws.dir, fetched, undefined, previous) : undefined;
      const documents = this.history ? await witnessUnreviewed(this.history, (ids) => this.deps.requests.mergeCommits(ids)) : [];
      this.unreviewedReport = { repository: repo.name, branch: repo.branch, head: this.history?.head ?? head, documents, checkedAt: this.now() };
      // In the store: every replica answers with it, not only the one that polls.
      await this.deps.requests.saveUnreviewed(this.unreviewedReport);
      if (documents.length > 0) this.deps.logger.warn({ repository: repo.name, documents: documents.slice(0, 20).map((d) => d.path) }, "proposed documents reached the target branch without a relengd merge");
    } catch (err) {
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "cannot check the target branch for unreviewed documents");
    }
  }
}

export type { BranchState, UnreviewedReport };
