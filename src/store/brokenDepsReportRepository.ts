// Repoclosure results: every run of the gate and of the scheduled report, kept as reports people
// read and as the fresh result the next release over the same repos reuses.
import type { Selectable } from "kysely";
import { brokenDepsCounts, parseBrokenDepsReport, renderBrokenDepsReport, type BrokenDepsReport } from "../domain/brokenDeps.js";
import type { BrokenDepsReport as BrokenDepsReportRow } from "./generated/kysely/types.js";
import { newId } from "./ids.js";
import { fromStamp, stamp, type Store } from "./store.js";

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
}
