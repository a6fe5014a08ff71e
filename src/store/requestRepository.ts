// Requests in the store: each revision of a request branch, its documents, its status and the
// decisions of the approval policies that gave it.
import type { Selectable } from "kysely";
import type { Request as RequestRow, RequestDecision as RequestDecisionRow } from "./generated/kysely/types.js";
import { decodeCursor, encodeCursor } from "./artifactRepository.js";
import { newId } from "./ids.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";

import { openRequestStatuses, requestStatuses, type RequestStatus } from "../domain/requests/status.js";
import { reviewVoteReason } from "../domain/requests/review.js";
import type { UnreviewedDocument, UnreviewedReport } from "../domain/requests/unreviewed.js";

export { openRequestStatuses, requestStatuses, type RequestStatus };

export type RequestSource = "api" | "git";

/** `decidedBy` of a request the writer could not merge (a conflict with the target): a person decides. */
export const MERGE_CONFLICT = "relengd:merge-conflict";

export interface RequestDocumentRecord {
  path: string;
  kind: string;
  /** The git blob id of the content. */
  blob: string;
  content: string;
}

export interface RequestRecord {
  id: string;
  repository: string;
  branch: string;
  revision: string;
  base: string | null;
  status: RequestStatus;
  kind: string;
  path: string | null;
  documents: RequestDocumentRecord[];
  author: string | null;
  authorEmail: string | null;
  verified: boolean;
  source: RequestSource;
  reasons: string[];
  approvedBy: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  mergeCommit: string | null;
  supersededBy: string | null;
  seenAt: Date;
  decidedAt: Date | null;
  mergedAt: Date | null;
  updatedAt: Date;
}

export type ConditionValue = true | false | "unknown";

export interface RequestDecisionRecord {
  policy: string;
  path: string;
  outcome: string;
  reason: string;
  /** Each condition of the policy: what it asks (`wanted`, in `when` or `unless`), whether it holds and why. */
  conditions: { name: string; value: ConditionValue; detail: string; wanted?: string; part?: "when" | "unless" }[];
  decidedAt: Date;
}

/** A judged revision to record: what the record holds before anything happens to it, and its decisions. */
export type NewRequest = Pick<RequestRecord, "repository" | "branch" | "revision" | "base" | "documents" | "author" | "authorEmail" | "verified" | "source" | "reasons" | "approvedBy" | "seenAt"> & {
  status: Extract<RequestStatus, "approved" | "needs-review" | "denied">;
  decisions: Omit<RequestDecisionRecord, "decidedAt">[];
};

export interface RequestQuery {
  kind?: string;
  status?: RequestStatus;
  author?: string;
  repository?: string;
  branch?: string;
  limit: number;
  cursor?: string;
}

/** The branch's latest request, as the poller compares it with the remote. */
export interface BranchState {
  branch: string;
  id: string;
  revision: string;
  status: RequestStatus;
  source: RequestSource;
  seenAt: Date;
}

/** An open request of another branch asking for different content at the same path. */
export interface RequestConflict {
  path: string;
  requestId: string;
}

const DOCUMENT_COLUMNS = 5;
const DECISION_COLUMNS = 7;

function toRecord(row: Selectable<RequestRow>, documents: RequestDocumentRecord[]): RequestRecord {
  return {
    id: row.id,
    repository: row.repository,
    branch: row.branch,
    revision: row.revision,
    base: row.base,
    status: row.status as RequestStatus,
    kind: row.kind,
    path: row.path,
    documents,
    author: row.author,
    authorEmail: row.authorEmail,
    verified: row.verified === 1,
    source: row.source as RequestSource,
    reasons: JSON.parse(row.reasons) as string[],
    approvedBy: row.approvedBy,
    decidedBy: row.decidedBy,
    decisionReason: row.decisionReason,
    mergeCommit: row.mergeCommit,
    supersededBy: row.supersededBy,
    seenAt: fromStamp(row.seenAt),
    decidedAt: row.decidedAt === null ? null : fromStamp(row.decidedAt),
    mergedAt: row.mergedAt === null ? null : fromStamp(row.mergedAt),
    updatedAt: fromStamp(row.updatedAt),
  };
}

function decisionFromRow(row: Selectable<RequestDecisionRow>): RequestDecisionRecord {
  return {
    policy: row.policy,
    path: row.path,
    outcome: row.outcome,
    reason: row.reason,
    conditions: JSON.parse(row.conditions) as RequestDecisionRecord["conditions"],
    decidedAt: fromStamp(row.decidedAt),
  };
}

/** A request changed status under the caller: the precondition it asked for no longer holds. */
export class RequestStateChanged extends Error {
  constructor(
    readonly request: RequestRecord,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Told, inside the transaction that changed them, of requests whose status changed (with their
 * new status): what it writes (relengd.request.* messages in the outbox) commits with the change.
 */
export interface RequestStatusListener {
  changed(tx: Tx, requests: readonly RequestRecord[], now: Date): Promise<void>;
}

export class RequestRepository {
  constructor(
    private readonly store: Store,
    private readonly listener?: RequestStatusListener,
  ) {}

  /** The listener told of `ids`, as they are now in `tx`. */
  private async statusChanged(tx: Tx, ids: readonly string[], now: Date): Promise<void> {
    if (!this.listener || ids.length === 0) return;
    const rows: Selectable<RequestRow>[] = [];
    for (const chunk of chunksFor([...ids], 1)) rows.push(...(await tx.selectFrom("Request").selectAll().where("id", "in", chunk).orderBy("seq", "asc").execute()));
    const docs = await documentsOf(
      tx,
      rows.map((r) => r.id),
    );
    await this.listener.changed(
      tx,
      rows.map((r) => toRecord(r, docs.get(r.id) ?? [])),
      now,
    );
  }

  /**
   * Records a judged revision of a branch; the branch's earlier open request (if any) becomes
   * superseded by it, in the same transaction. A revision already recorded is returned as it is
   * (the poller and `request submit` may both see the same commit).
   */
  async record(r: NewRequest, now = new Date()): Promise<{ record: RequestRecord; created: boolean; superseded: string[] }> {
    return this.store.transaction(async (tx) => {
      const existing = await tx
        .selectFrom("Request")
        .selectAll()
        .where("repository", "=", r.repository)
        .where("branch", "=", r.branch)
        .where("revision", "=", r.revision)
        .executeTakeFirst();
      if (existing) return { record: toRecord(existing, await documentsOf(tx, [existing.id]).then((m) => m.get(existing.id) ?? [])), created: false, superseded: [] };
      const id = newId();
      const at = stamp(now);
      const first = [...r.documents].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))[0];
      const row = await tx
        .insertInto("Request")
        .values({
          id,
          repository: r.repository,
          branch: r.branch,
          revision: r.revision,
          base: r.base,
          status: r.status,
          kind: first?.kind ?? "none",
          path: first?.path ?? null,
          author: r.author,
          authorEmail: r.authorEmail,
          verified: flag(r.verified),
          source: r.source,
          reasons: JSON.stringify(r.reasons),
          approvedBy: r.approvedBy,
          decidedBy: null,
          decisionReason: null,
          mergeCommit: null,
          supersededBy: null,
          seenAt: stamp(r.seenAt),
          decidedAt: at,
          mergedAt: null,
          updatedAt: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      for (const chunk of chunksFor(r.documents, DOCUMENT_COLUMNS)) {
        await tx
          .insertInto("RequestDocument")
          .values(chunk.map((d) => ({ requestId: id, path: d.path, kind: d.kind, blob: d.blob, content: d.content })))
          .execute();
      }
      for (const chunk of chunksFor(r.decisions, DECISION_COLUMNS)) {
        await tx
          .insertInto("RequestDecision")
          .values(chunk.map((d) => ({ requestId: id, policy: d.policy, path: d.path, outcome: d.outcome, reason: d.reason, conditions: JSON.stringify(d.conditions), decidedAt: at })))
          .execute();
      }
      const earlier = await tx
        .selectFrom("Request")
        .select("id")
        .where("repository", "=", r.repository)
        .where("branch", "=", r.branch)
        .where("id", "!=", id)
        .where("status", "in", [...openRequestStatuses])
        .execute();
      const superseded = earlier.map((e) => e.id);
      for (const chunk of chunksFor(superseded, 1, 3)) {
        await tx.updateTable("Request").set({ status: "superseded", supersededBy: id, updatedAt: at }).where("id", "in", chunk).execute();
      }
      await this.statusChanged(tx, [...superseded, id], now);
      return { record: toRecord(row, [...r.documents]), created: true, superseded };
    });
  }

  async get(id: string): Promise<RequestRecord | null> {
    return this.store.read(async (tx) => {
      const row = await tx.selectFrom("Request").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      return toRecord(row, (await documentsOf(tx, [id])).get(id) ?? []);
    });
  }

  /** Newest first; `kind` matches any document of a request. */
  async list(q: RequestQuery): Promise<{ items: RequestRecord[]; nextCursor: string | null }> {
    return this.store.read(async (tx) => {
      const rows = await tx
        .selectFrom("Request")
        .selectAll()
        .$if(q.kind !== undefined, (w) =>
          w.where((eb) => eb.or([eb("kind", "=", q.kind as string), eb.exists(eb.selectFrom("RequestDocument").select("path").whereRef("RequestDocument.requestId", "=", "Request.id").where("RequestDocument.kind", "=", q.kind as string))])),
        )
        .$if(q.status !== undefined, (w) => w.where("status", "=", q.status as string))
        .$if(q.author !== undefined, (w) => w.where("author", "=", q.author as string))
        .$if(q.repository !== undefined, (w) => w.where("repository", "=", q.repository as string))
        .$if(q.branch !== undefined, (w) => w.where("branch", "=", q.branch as string))
        .$if(q.cursor !== undefined, (w) => w.where("seq", "<", decodeCursor(q.cursor as string)))
        .orderBy("seq", "desc")
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      const docs = await documentsOf(
        tx,
        page.map((r) => r.id),
      );
      const last = page.at(-1);
      return { items: page.map((r) => toRecord(r, docs.get(r.id) ?? [])), nextCursor: rows.length > q.limit && last ? encodeCursor(last.seq) : null };
    });
  }

  async decisions(id: string): Promise<RequestDecisionRecord[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("RequestDecision").selectAll().where("requestId", "=", id).orderBy("seq", "asc").execute());
    return rows.map(decisionFromRow);
  }

  /** Each branch's latest request in a repository (the poller's view of what it has seen). */
  async branches(repository: string): Promise<BranchState[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Request as r")
        .select(["r.branch", "r.id", "r.revision", "r.status", "r.source", "r.seenAt"])
        .where("r.repository", "=", repository)
        .where((eb) => eb("r.seq", "=", eb.selectFrom("Request as l").select((e) => e.fn.max("l.seq").as("m")).where("l.repository", "=", repository).whereRef("l.branch", "=", "r.branch")))
        .execute(),
    );
    return rows.map((r) => ({ branch: r.branch, id: r.id, revision: r.revision, status: r.status as RequestStatus, source: r.source as RequestSource, seenAt: fromStamp(r.seenAt) }));
  }

  /** The latest request of each of `branches` that has one (a poll asks only about branches that changed). */
  async latestOfBranches(repository: string, branches: readonly string[]): Promise<BranchState[]> {
    const out: BranchState[] = [];
    if (branches.length === 0) return out;
    await this.store.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(branches)], 1, 2)) {
        const rows = await tx
          .selectFrom("Request as r")
          .select(["r.branch", "r.id", "r.revision", "r.status", "r.source", "r.seenAt"])
          .where("r.repository", "=", repository)
          .where("r.branch", "in", chunk)
          .where((eb) => eb("r.seq", "=", eb.selectFrom("Request as l").select((e) => e.fn.max("l.seq").as("m")).where("l.repository", "=", repository).whereRef("l.branch", "=", "r.branch")))
          .execute();
        for (const r of rows) out.push({ branch: r.branch, id: r.id, revision: r.revision, status: r.status as RequestStatus, source: r.source as RequestSource, seenAt: fromStamp(r.seenAt) });
      }
    });
    return out;
  }

  /**
   * Open requests of other branches that ask for the same paths with other content, the ones
   * seen before `before` (seq order): the later request is the one that conflicts.
   */
  async conflicts(repository: string, branch: string, documents: readonly { path: string; blob: string }[]): Promise<RequestConflict[]> {
    if (documents.length === 0) return [];
    const blobOf = new Map(documents.map((d) => [d.path, d.blob]));
    const out: RequestConflict[] = [];
    await this.store.read(async (tx) => {
      for (const chunk of chunksFor([...blobOf.keys()], 1, 5)) {
        const rows = await tx
          .selectFrom("RequestDocument as d")
          .innerJoin("Request as r", "r.id", "d.requestId")
          .select(["d.path", "d.blob", "r.id"])
          .where("d.path", "in", chunk)
          .where("r.repository", "=", repository)
          .where("r.branch", "!=", branch)
          .where("r.status", "in", ["proposed", "approved", "needs-review"])
          .orderBy("r.seq", "asc")
          .execute();
        for (const row of rows) if (blobOf.get(row.path) !== row.blob) out.push({ path: row.path, requestId: row.id });
      }
    });
    return out;
  }

  /** Approved requests of a repository not merged yet, in the order they were approved. */
  async approved(repository: string, limit = 100): Promise<RequestRecord[]> {
    return this.store.read(async (tx) => {
      const rows = await tx.selectFrom("Request").selectAll().where("repository", "=", repository).where("status", "=", "approved").orderBy("decidedAt", "asc").orderBy("seq", "asc").limit(limit).execute();
      const docs = await documentsOf(
        tx,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toRecord(r, docs.get(r.id) ?? []));
    });
  }

  /** Repositories with approved requests waiting for a merge (the writer's poll). */
  async repositoriesWithApproved(): Promise<string[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("Request").select("repository").where("status", "=", "approved").groupBy("repository").execute());
    return rows.map((r) => r.repository);
  }

  async markMerged(id: string, mergeCommit: string, now = new Date()): Promise<boolean> {
    const at = stamp(now);
    return this.store.transaction(async (tx) => {
      const r = await tx.updateTable("Request").set({ status: "merged", mergeCommit, mergedAt: at, updatedAt: at }).where("id", "=", id).where("status", "=", "approved").executeTakeFirst();
      const merged = Number(r.numUpdatedRows) === 1;
      if (merged) await this.statusChanged(tx, [id], now);
      return merged;
    });
  }

  /** An approved request that cannot be merged (conflicts with the target): a person decides. */
  async markUnmergeable(id: string, reason: string, now = new Date()): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const row = await tx.selectFrom("Request").select("reasons").where("id", "=", id).where("status", "=", "approved").executeTakeFirst();
      if (!row) return false;
      const reasons = [...(JSON.parse(row.reasons) as string[]), reason];
      const at = stamp(now);
      // decidedBy says the writer put it there: new facts do not make a conflict go away.
      await tx
        .updateTable("Request")
        .set({ status: "needs-review", approvedBy: null, decidedBy: MERGE_CONFLICT, decisionReason: reason, reasons: JSON.stringify(reasons), updatedAt: at })
        .where("id", "=", id)
        .where("status", "=", "approved")
        .execute();
      await this.statusChanged(tx, [id], now);
      return true;
    });
  }

  /**
   * Requests waiting for review because of what the policies said (not a person, not a merge
   * conflict): judged again when the facts or the approval policies change.
   */
  async waitingForPolicies(repository: string, limit = 500): Promise<RequestRecord[]> {
    return this.store.read(async (tx) => {
      const rows = await tx.selectFrom("Request").selectAll().where("repository", "=", repository).where("status", "=", "needs-review").where("decidedBy", "is", null).orderBy("seq", "asc").limit(limit).execute();
      const docs = await documentsOf(
        tx,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toRecord(r, docs.get(r.id) ?? []));
    });
  }

  /**
   * A new verdict for a request still waiting for the policies (see waitingForPolicies): its
   * status, reasons and decisions replaced, in one transaction; false when it changed meanwhile
   * (a person decided, the branch moved).
   */
  async rejudge(id: string, verdict: Pick<NewRequest, "status" | "reasons" | "approvedBy" | "decisions"> & { author?: Pick<NewRequest, "author" | "authorEmail" | "verified"> }, now = new Date()): Promise<RequestRecord | null> {
    return this.store.transaction(async (tx) => {
      const at = stamp(now);
      // The author is replaced too when the revision's author became verified (a forge webhook came after the first look).
      const author = verdict.author ? { author: verdict.author.author, authorEmail: verdict.author.authorEmail, verified: flag(verdict.author.verified) } : {};
      const updated = await tx
        .updateTable("Request")
        .set({ status: verdict.status, reasons: JSON.stringify(verdict.reasons), approvedBy: verdict.approvedBy, decidedAt: at, updatedAt: at, ...author })
        .where("id", "=", id)
        .where("status", "=", "needs-review")
        .where("decidedBy", "is", null)
        .returningAll()
        .executeTakeFirst();
      if (!updated) return null;
      await tx.deleteFrom("RequestDecision").where("requestId", "=", id).execute();
      for (const chunk of chunksFor(verdict.decisions, DECISION_COLUMNS)) {
        await tx
          .insertInto("RequestDecision")
          .values(chunk.map((d) => ({ requestId: id, policy: d.policy, path: d.path, outcome: d.outcome, reason: d.reason, conditions: JSON.stringify(d.conditions), decidedAt: at })))
          .execute();
      }
      await this.statusChanged(tx, [id], now);
      return toRecord(updated, (await documentsOf(tx, [id])).get(id) ?? []);
    });
  }

  /** The branch was deleted: its open request ends. */
  async withdraw(id: string, now = new Date()): Promise<boolean> {
    const at = stamp(now);
    return this.store.transaction(async (tx) => {
      const r = await tx
        .updateTable("Request")
        .set({ status: "withdrawn", updatedAt: at })
        .where("id", "=", id)
        .where("status", "in", [...openRequestStatuses])
        .executeTakeFirst();
      const withdrawn = Number(r.numUpdatedRows) === 1;
      if (withdrawn) await this.statusChanged(tx, [id], now);
      return withdrawn;
    });
  }

  /**
   * A person's decision: approve (only from needs-review) or deny (from proposed, approved or
   * needs-review). Throws RequestStateChanged when the request is not in such a status.
   */
  async decideByPerson(id: string, d: { approve: boolean; user: string; reason: string }, now = new Date()): Promise<RequestRecord | null> {
    const from: RequestStatus[] = d.approve ? ["needs-review"] : ["proposed", "approved", "needs-review"];
    return this.store.transaction(async (tx) => {
      const row = await tx.selectFrom("Request").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      if (!from.includes(row.status as RequestStatus)) {
        const record = toRecord(row, (await documentsOf(tx, [id])).get(id) ?? []);
        throw new RequestStateChanged(record, `request ${id} is ${row.status}; only a request that is ${from.join(" or ")} can be ${d.approve ? "approved" : "denied"}`);
      }
      const at = stamp(now);
      const by = `user:${d.user}`;
      const reasons = [...(JSON.parse(row.reasons) as string[]), `${d.approve ? "approved" : "denied"} by ${by}: ${d.reason}`];
      const updated = await tx
        .updateTable("Request")
        .set({ status: d.approve ? "approved" : "denied", approvedBy: d.approve ? by : null, decidedBy: by, decisionReason: d.reason, reasons: JSON.stringify(reasons), decidedAt: at, updatedAt: at })
        .where("id", "=", id)
        .where("status", "=", row.status)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.statusChanged(tx, [id], now);
      return toRecord(updated, (await documentsOf(tx, [id])).get(id) ?? []);
    });
  }

  /**
   * A reviewer's vote on a request whose review rules name its reviewers (issue 17): the vote is
   * kept (one per reviewer; deciding again replaces it), then `settle` reads every vote of the
   * request and says whether it is approved, denied or still waiting, all in one transaction with
   * the request's row locked, so that two reviewers deciding at once both count. Throws
   * RequestStateChanged when the request is not needs-review (an approval) or not open (a denial).
   */
  async reviewByPerson(
    id: string,
    vote: { reviewer: string; approve: boolean; reason: string; /** The rules' groups the reviewer is in, comma-separated. */ groups: string },
    settle: (votes: { reviewer: string; approve: boolean }[]) => { status: "approved" | "denied" | "needs-review"; note: string },
    now = new Date(),
  ): Promise<{ request: RequestRecord; votes: { reviewer: string; approve: boolean; reason: string; decidedAt: Date }[] } | null> {
    const from: RequestStatus[] = vote.approve ? ["needs-review"] : ["proposed", "approved", "needs-review"];
    return this.store.transaction(async (tx) => {
      let select = tx.selectFrom("Request").selectAll().where("id", "=", id);
      // PostgreSQL: concurrent reviewers wait for each other here; SQLite's write transaction is exclusive already.
      if (this.store.provider === "postgresql") select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (!row) return null;
      if (!from.includes(row.status as RequestStatus)) {
        const record = toRecord(row, (await documentsOf(tx, [id])).get(id) ?? []);
        throw new RequestStateChanged(record, `request ${id} is ${row.status}; only a request that is ${from.join(" or ")} can be ${vote.approve ? "approved" : "denied"}`);
      }
      const at = stamp(now);
      const values = { approve: flag(vote.approve), reason: vote.reason, groups: vote.groups, decidedAt: at };
      await tx
        .insertInto("RequestReview")
        .values({ requestId: id, reviewer: vote.reviewer, ...values })
        .onConflict((oc) => oc.columns(["requestId", "reviewer"]).doUpdateSet(values))
        .execute();
      const rows = await tx.selectFrom("RequestReview").selectAll().where("requestId", "=", id).orderBy("reviewer", "asc").execute();
      const votes = rows.map((r) => ({ reviewer: r.reviewer, approve: r.approve === 1, reason: r.reason, decidedAt: fromStamp(r.decidedAt) }));
      const outcome = settle(votes.map((v) => ({ reviewer: v.reviewer, approve: v.approve })));
      const by = `user:${vote.reviewer}`;
      const reasons = [...(JSON.parse(row.reasons) as string[]), reviewVoteReason(vote, outcome.note)];
      const decided = outcome.status !== "needs-review";
      const updated = await tx
        .updateTable("Request")
        .set({
          status: outcome.status,
          reasons: JSON.stringify(reasons),
          updatedAt: at,
          ...(decided ? { approvedBy: outcome.status === "approved" ? by : null, decidedBy: by, decisionReason: vote.reason, decidedAt: at } : {}),
        })
        .where("id", "=", id)
        .where("status", "=", row.status)
        .returningAll()
        .executeTakeFirstOrThrow();
      // The reviewers' verdict is news on the bus like a releaser's (relengd.request.approved|denied).
      if (decided) await this.statusChanged(tx, [id], now);
      return { request: toRecord(updated, (await documentsOf(tx, [id])).get(id) ?? []), votes };
    });
  }

  /** The reviewers' votes on a request, by reviewer. */
  async reviews(id: string): Promise<{ reviewer: string; approve: boolean; reason: string; decidedAt: Date }[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("RequestReview").selectAll().where("requestId", "=", id).orderBy("reviewer", "asc").execute());
    return rows.map((r) => ({ reviewer: r.reviewer, approve: r.approve === 1, reason: r.reason, decidedAt: fromStamp(r.decidedAt) }));
  }

  /** The merge commit of each of `ids` that is merged (a trailer naming a request relengd never merged proves nothing). */
  async mergeCommits(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await this.store.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1, 1)) {
        const rows = await tx.selectFrom("Request").select(["id", "mergeCommit"]).where("id", "in", chunk).where("status", "=", "merged").execute();
        for (const r of rows) if (r.mergeCommit) out.set(r.id, r.mergeCommit);
      }
    });
    return out;
  }

  /** Keeps the poller's last look at a repository's target branch, for every replica to answer with. */
  async saveUnreviewed(report: UnreviewedReport): Promise<void> {
    const row = { branch: report.branch, head: report.head, documents: JSON.stringify(report.documents), checkedAt: stamp(report.checkedAt ?? new Date()) };
    await this.store.transaction((tx) =>
      tx
        .insertInto("UnreviewedReport")
        .values({ repository: report.repository, ...row })
        .onConflict((oc) => oc.column("repository").doUpdateSet(row))
        .execute(),
    );
  }

  /** The last look at a repository's target branch; undefined before the first. */
  async unreviewed(repository: string): Promise<UnreviewedReport | undefined> {
    const row = await this.store.read((tx) => tx.selectFrom("UnreviewedReport").selectAll().where("repository", "=", repository).executeTakeFirst());
    if (!row) return undefined;
    return { repository: row.repository, branch: row.branch, head: row.head, documents: JSON.parse(row.documents) as UnreviewedDocument[], checkedAt: fromStamp(row.checkedAt) };
  }

  /** Requests by kind and status (metrics, dashboard). */
  async counts(): Promise<{ kind: string; status: RequestStatus; count: number }[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("Request").select(["kind", "status", (eb) => eb.fn.countAll<number | string>().as("n")]).groupBy(["kind", "status"]).execute());
    return rows.map((r) => ({ kind: r.kind, status: r.status as RequestStatus, count: Number(r.n) }));
  }
}

async function documentsOf(tx: Tx, ids: readonly string[]): Promise<Map<string, RequestDocumentRecord[]>> {
  const out = new Map<string, RequestDocumentRecord[]>();
  for (const chunk of chunksFor([...ids], 1)) {
    const rows = await tx.selectFrom("RequestDocument").selectAll().where("requestId", "in", chunk).orderBy("path", "asc").execute();
    for (const r of rows) {
      const list = out.get(r.requestId) ?? [];
      list.push({ path: r.path, kind: r.kind, blob: r.blob, content: r.content });
      out.set(r.requestId, list);
    }
  }
  return out;
}
