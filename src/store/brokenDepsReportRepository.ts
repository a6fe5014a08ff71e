// Repoclosure results: every run of the gate and of the scheduled report, kept as reports people
// read and as the fresh result the next release over the same repos reuses.
import type { Selectable } from "kysely";
import { brokenDepsCounts, parseBrokenDepsReport, renderBrokenDepsReport, type BrokenDepsReport } from "../domain/brokenDeps.js";
import type { BrokenDepsReport as BrokenDepsReportRow } from "./generated/kysely/types.js";
import { newId } from "./ids.js";
import { fromStamp, stamp, type Store } from "./store.js";

/** A list cursor this server did not issue. */
export class InvalidReportCursorError extends Error {}

/** The keyset of the list (newest first): a report's time and id, opaque to callers. */
export function encodeReportCursor(r: { generatedAt: Date; id: string }): string {
  return Buffer.from(`${stamp(r.generatedAt)}|${r.id}`).toString("base64url");
}

export function decodeReportCursor(cursor: string): { generatedAt: string; id: string } {
  const m = /^([0-9T:.+-]{20,40})\|([0-9A-Za-z]{1,64})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m || Number.isNaN(Date.parse(m[1] as string))) throw new InvalidReportCursorError("cursor is not one this server issued");
  return { generatedAt: m[1] as string, id: m[2] as string };
}

/** Every column but the body: what lists read. */
const SUMMARY_COLUMNS = ["id", "tree", "origin", "repoSetKey", "status", "error", "packages", "dependencies", "sources", "arches", "generatedAt", "dnfMs", "mailedAt"] as const;

export type BrokenDepsStatus = "ok" | "broken" | "error";

export interface BrokenDepsReportRecord {
  id: string;
  tree: string;
  /** gate | policy/<name> | cli */
  origin: string;
  repoSetKey: string;
  status: BrokenDepsStatus;
  /** Why the check could not run (status error). */
  error: string | null;
  /** The report (absent for an error). */
  report: BrokenDepsReport | null;
  packages: number;
  dependencies: number;
  sources: number;
  arches: string[];
  generatedAt: Date;
  dnfMs: number;
  mailedAt: Date | null;
}

/** A report's row without its body: what lists show. */
export type BrokenDepsReportSummary = Omit<BrokenDepsReportRecord, "report">;

export type NewBrokenDepsReport = { tree: string; origin: string; repoSetKey: string; arches: string[]; generatedAt: Date; dnfMs: number } & (
  | { report: BrokenDepsReport }
  | { error: string }
);

function summaryOf(row: Omit<Selectable<BrokenDepsReportRow>, "body">): BrokenDepsReportSummary {
  return {
    id: row.id,
    tree: row.tree,
    origin: row.origin,
    repoSetKey: row.repoSetKey,
    status: row.status as BrokenDepsStatus,
    error: row.error,
    packages: row.packages,
    dependencies: row.dependencies,
    sources: row.sources,
    arches: row.arches === "" ? [] : row.arches.split(" "),
    generatedAt: fromStamp(row.generatedAt),
    dnfMs: row.dnfMs,
    mailedAt: row.mailedAt === null ? null : fromStamp(row.mailedAt),
  };
}

function recordOf(row: Selectable<BrokenDepsReportRow>): BrokenDepsReportRecord {
  let report: BrokenDepsReport | null = null;
  if (row.body !== "") {
    const parsed = parseBrokenDepsReport(row.body);
    // The store only holds bodies this module rendered; a body that does not parse is a bug, said loudly.
    if (!parsed.ok) throw new Error(`broken-deps report ${row.id} does not parse: ${parsed.error}`);
    report = parsed.report;
  }
  return { ...summaryOf(row), report };
}

export class BrokenDepsReportRepository {
  constructor(private readonly store: Store) {}

  async save(input: NewBrokenDepsReport): Promise<BrokenDepsReportRecord> {
    const id = newId();
    const counts = "report" in input ? brokenDepsCounts(input.report) : { packages: 0, dependencies: 0, sources: 0 };
    const row: Selectable<BrokenDepsReportRow> = {
      id,
      tree: input.tree,
      origin: input.origin,
      repoSetKey: input.repoSetKey,
      status: "report" in input ? (counts.packages > 0 ? "broken" : "ok") : "error",
      error: "error" in input ? input.error : null,
      body: "report" in input ? renderBrokenDepsReport(input.report) : "",
      packages: counts.packages,
      dependencies: counts.dependencies,
      sources: counts.sources,
      arches: input.arches.join(" "),
      generatedAt: stamp(input.generatedAt),
      dnfMs: Math.round(input.dnfMs),
      mailedAt: null,
    };
    await this.store.transaction((tx) => tx.insertInto("BrokenDepsReport").values(row).execute());
    return recordOf(row);
  }

  async get(id: string): Promise<BrokenDepsReportRecord | null> {
    const row = await this.store.read((tx) => tx.selectFrom("BrokenDepsReport").selectAll().where("id", "=", id).executeTakeFirst());
    return row ? recordOf(row) : null;
  }

  /**
   * The newest result over a repo set generated at or after `notBefore` (errors included: a repo
   * that could not be read a minute ago is not retried by every release queued meanwhile).
   */
  async latestByKey(repoSetKey: string, notBefore: Date): Promise<BrokenDepsReportRecord | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport")
        .selectAll()
        .where("repoSetKey", "=", repoSetKey)
        .where("generatedAt", ">=", stamp(notBefore))
        .orderBy("generatedAt", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row ? recordOf(row) : null;
  }

  /** Reports newest first (by generatedAt, then id), of one tree when given, after `cursor`. */
  async list(query: { tree?: string; cursor?: string; limit: number }): Promise<{ items: BrokenDepsReportSummary[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeReportCursor(query.cursor);
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport")
        .select(SUMMARY_COLUMNS)
        .$if(query.tree !== undefined, (q) => q.where("tree", "=", query.tree as string))
        .$if(after !== undefined, (q) =>
          q.where((eb) => eb.or([eb("generatedAt", "<", after?.generatedAt as string), eb.and([eb("generatedAt", "=", after?.generatedAt as string), eb("id", "<", after?.id as string)])])),
        )
        .orderBy("generatedAt", "desc")
        .orderBy("id", "desc")
        .limit(query.limit + 1)
        .execute(),
    );
    const items = rows.slice(0, query.limit).map(summaryOf);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeReportCursor(last) : null };
  }

  /** The newest report of a tree, or of any tree (the `latest` alias). */
  async latest(tree?: string): Promise<BrokenDepsReportRecord | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport")
        .selectAll()
        .$if(tree !== undefined, (q) => q.where("tree", "=", tree as string))
        .orderBy("generatedAt", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row ? recordOf(row) : null;
  }

  /**
   * The report of the same tree just before `report` (errors skipped: a check that could not run
   * says nothing of what is broken). `mailed`: only reports whose news was mailed, the baseline of
   * the next mail.
   */
  async previous(report: { tree: string; generatedAt: Date; id: string }, options: { mailed?: boolean } = {}): Promise<BrokenDepsReportRecord | null> {
    const at = stamp(report.generatedAt);
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport")
        .selectAll()
        .where("tree", "=", report.tree)
        .where("status", "!=", "error")
        .where((eb) => eb.or([eb("generatedAt", "<", at), eb.and([eb("generatedAt", "=", at), eb("id", "<", report.id)])]))
        .$if(options.mailed === true, (q) => q.where("mailedAt", "is not", null))
        .orderBy("generatedAt", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row ? recordOf(row) : null;
  }

  /**
   * Claims the report's news for mailing: true once, for the first caller (a conditional
   * update), so two runs never mail the same report.
   */
  async claimMailing(id: string, at: Date): Promise<boolean> {
    const result = await this.store.transaction((tx) => tx.updateTable("BrokenDepsReport").set({ mailedAt: stamp(at) }).where("id", "=", id).where("mailedAt", "is", null).executeTakeFirst());
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives a claim back when the mail could not go: the next report's news then includes this one's. */
  async releaseMailing(id: string): Promise<void> {
    await this.store.transaction((tx) => tx.updateTable("BrokenDepsReport").set({ mailedAt: null }).where("id", "=", id).execute());
  }

  /** The newest report of each tree, without bodies (metrics). */
  async latestPerTree(): Promise<BrokenDepsReportSummary[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport as r")
        .select(SUMMARY_COLUMNS.map((c) => `r.${c}` as const))
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("BrokenDepsReport as n")
                .select("n.id")
                .whereRef("n.tree", "=", "r.tree")
                .where((e) => e.or([e("n.generatedAt", ">", e.ref("r.generatedAt")), e.and([e("n.generatedAt", "=", e.ref("r.generatedAt")), e("n.id", ">", e.ref("r.id"))])])),
            ),
          ),
        )
        .orderBy("r.tree")
        .execute(),
    );
    return rows.map(summaryOf);
  }
}
