// The releng/fedora-scm-requests tickets mirrored into the shadow repository: each ticket as last
// seen, relengd's verdict per content revision, and the agreement with the request processor.
import type { Selectable } from "kysely";
import type { AgreementOutcome, ScmVerdict } from "../domain/scmTicket.js";
import type { ScmTicket } from "./generated/kysely/types.js";
import { ConcurrentShadowChange } from "./shadowRepository.js";
import { chunksFor, fromStamp, stamp, type Store, type Tx } from "./store.js";

export type ScmTicketState = "open" | "merged" | "closed";

export interface ScmTicketRecord {
  ticketId: number;
  title: string;
  author: string | null;
  content: string;
  kind: "BranchRequest" | "RepoRequest" | null;
  path: string | null;
  problems: string[];
  unreadable: string | null;
  state: ScmTicketState;
  closeStatus: string | null;
  closedBy: string | null;
  closedReason: string | null;
  revision: number;
  verdict: ScmVerdict;
  agreement: { outcome: AgreementOutcome; relengd: string; bot: string; comparedAt: Date } | null;
  version: number;
  lastMessageId: string;
  createdAt: Date;
  updatedAt: Date;
}

export type ScmTicketWrite = Omit<ScmTicketRecord, "version" | "createdAt" | "updatedAt">;

function toRecord(row: Selectable<ScmTicket>): ScmTicketRecord {
  return {
    ticketId: row.ticketId,
    title: row.title,
    author: row.author,
    content: row.content,
    kind: row.kind as ScmTicketRecord["kind"],
    path: row.path,
    problems: row.problems ? (JSON.parse(row.problems) as string[]) : [],
    unreadable: row.unreadable,
    state: row.state as ScmTicketState,
    closeStatus: row.closeStatus,
    closedBy: row.closedBy,
    closedReason: row.closedReason,
    revision: row.revision,
    verdict: { status: row.verdict as ScmVerdict["status"], review: row.verdictReview as ScmVerdict["review"], reasons: JSON.parse(row.verdictReasons) as string[] },
    agreement:
      row.agreement && row.comparedAt
        ? { outcome: row.agreement as AgreementOutcome, relengd: row.agreementRelengd ?? "", bot: row.agreementBot ?? "", comparedAt: fromStamp(row.comparedAt) }
        : null,
    version: row.version,
    lastMessageId: row.lastMessageId,
    createdAt: fromStamp(row.createdAt),
    updatedAt: fromStamp(row.updatedAt),
  };
}

export interface AgreementCount {
  kind: string;
  outcome: AgreementOutcome;
  count: number;
}

/** The kind label of a ticket relengd could not read as a request. */
export const NO_KIND = "none";

export class ScmTicketRepository {
  constructor(private readonly store: Store) {}

  async ticket(ticketId: number): Promise<ScmTicketRecord | null> {
    return this.store.read((tx) => this.ticketIn(tx, ticketId));
  }

  async ticketIn(tx: Tx, ticketId: number): Promise<ScmTicketRecord | null> {
    const row = await tx.selectFrom("ScmTicket").selectAll().where("ticketId", "=", ticketId).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Which of `paths` a merged ticket's document holds on the shadow main (what the target branch has, for approval). */
  async mergedPathsIn(tx: Tx, paths: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // One bind for the state besides the paths.
    for (const chunk of chunksFor([...paths], 1, 1)) {
      const rows = await tx.selectFrom("ScmTicket").select("path").where("state", "=", "merged").where("path", "in", chunk).execute();
      for (const r of rows) if (r.path !== null) found.add(r.path);
    }
    return found;
  }

  /** Stores the ticket's new state provided nobody changed it since `previous` was read; throws ConcurrentShadowChange otherwise. */
  async saveIn(tx: Tx, previous: ScmTicketRecord | null, next: ScmTicketWrite, now: Date): Promise<void> {
    const data = {
      title: next.title,
      author: next.author,
      content: next.content,
      kind: next.kind,
      path: next.path,
      problems: next.problems.length > 0 ? JSON.stringify(next.problems) : null,
      unreadable: next.unreadable,
      state: next.state,
      closeStatus: next.closeStatus,
      closedBy: next.closedBy,
      closedReason: next.closedReason,
      revision: next.revision,
      verdict: next.verdict.status,
      verdictReview: next.verdict.review,
      verdictReasons: JSON.stringify(next.verdict.reasons),
      agreement: next.agreement?.outcome ?? null,
      agreementRelengd: next.agreement?.relengd ?? null,
      agreementBot: next.agreement?.bot ?? null,
      comparedAt: next.agreement ? stamp(next.agreement.comparedAt) : null,
      lastMessageId: next.lastMessageId,
      updatedAt: stamp(now),
    };
    if (!previous) {
      const inserted = await tx
        .insertInto("ScmTicket")
        .values({ ticketId: next.ticketId, ...data, version: 0, createdAt: stamp(now) })
        .onConflict((c) => c.column("ticketId").doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 0n) throw new ConcurrentShadowChange(`scm ticket ${next.ticketId} was first stored concurrently`);
      return;
    }
    const result = await tx
      .updateTable("ScmTicket")
      .set({ ...data, version: previous.version + 1 })
      .where("ticketId", "=", next.ticketId)
      .where("version", "=", previous.version)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new ConcurrentShadowChange(`scm ticket ${next.ticketId} changed concurrently`);
  }

  /** relengd's verdict on a content revision (kept once per revision). */
  async recordVerdictIn(tx: Tx, ticketId: number, revision: number, messageId: string, verdict: ScmVerdict, now: Date): Promise<void> {
    await tx
      .insertInto("ScmTicketVerdict")
      .values({ ticketId, revision, messageId, verdict: verdict.status, review: verdict.review, reasons: JSON.stringify(verdict.reasons), judgedAt: stamp(now) })
      .onConflict((c) => c.columns(["ticketId", "revision"]).doNothing())
      .execute();
  }

  async verdicts(ticketId: number): Promise<{ revision: number; messageId: string; verdict: ScmVerdict; judgedAt: Date }[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("ScmTicketVerdict").selectAll().where("ticketId", "=", ticketId).orderBy("revision", "asc").execute());
    return rows.map((r) => ({ revision: r.revision, messageId: r.messageId, verdict: { status: r.verdict as ScmVerdict["status"], review: r.review as ScmVerdict["review"], reasons: JSON.parse(r.reasons) as string[] }, judgedAt: fromStamp(r.judgedAt) }));
  }

  /** Closed tickets compared with the bot, by kind and outcome (compared at or after `since`). */
  async agreementCounts(since?: Date): Promise<AgreementCount[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("ScmTicket")
        .select((eb) => ["kind", "agreement", eb.fn.countAll<number | string | bigint>().as("n")])
        .where("agreement", "is not", null)
        .$if(since !== undefined, (q) => q.where("comparedAt", ">=", stamp(since as Date)))
        .groupBy(["kind", "agreement"])
        .execute(),
    );
    return rows
      .map((r) => ({ kind: r.kind ?? NO_KIND, outcome: r.agreement as AgreementOutcome, count: Number(r.n) }))
      .sort((a, b) => (a.kind === b.kind ? a.outcome.localeCompare(b.outcome) : a.kind.localeCompare(b.kind)));
  }

  /** Compared tickets, newest comparison first (at most `limit`), optionally of one outcome. */
  async compared(filter: { since?: Date; outcome?: AgreementOutcome; limit: number }): Promise<ScmTicketRecord[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("ScmTicket")
        .selectAll()
        .where("agreement", "is not", null)
        .$if(filter.since !== undefined, (q) => q.where("comparedAt", ">=", stamp(filter.since as Date)))
        .$if(filter.outcome !== undefined, (q) => q.where("agreement", "=", filter.outcome as string))
        .orderBy("comparedAt", "desc")
        .orderBy("ticketId", "desc")
        .limit(filter.limit)
        .execute(),
    );
    return rows.map(toRecord);
  }

  async tickets(): Promise<ScmTicketRecord[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("ScmTicket").selectAll().orderBy("ticketId", "asc").execute());
    return rows.map(toRecord);
  }
}
