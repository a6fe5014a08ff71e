// Waivers in the store: made on an artifact through the API, or on a build by WaiverDB on the bus.
import type { Selectable } from "kysely";
import type { Waiver } from "../domain/gating.js";
import type { Waiver as WaiverRow } from "./generated/kysely/types.js";
import { newId } from "./ids.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";

export const waiverSources = ["api", "waiverdb"] as const;
export type WaiverSource = (typeof waiverSources)[number];

export interface WaiverRecord extends Waiver {
  id: string;
  /** The artifact it was made on (API), or null. */
  artifactId: string | null;
  /** The build it was made on (WaiverDB), or null. */
  nvr: string | null;
  source: WaiverSource;
  messageId: string | null;
  createdAt: Date;
}

export type NewWaiver = Omit<WaiverRecord, "id" | "createdAt">;

function toRecord(row: Selectable<WaiverRow>): WaiverRecord {
  return {
    id: row.id,
    artifactId: row.artifactId,
    nvr: row.nvr,
    testcase: row.testcase,
    ...(row.scenario !== null ? { scenario: row.scenario } : {}),
    waived: row.waived === 1,
    comment: row.comment,
    username: row.username,
    source: row.source as WaiverSource,
    messageId: row.messageId,
    ...(row.environments !== null ? { environments: JSON.parse(row.environments) as string[] } : {}),
    waivedAt: fromStamp(row.waivedAt),
    createdAt: fromStamp(row.createdAt),
  };
}

/** Waivers in arrival order (the order the domain reads them in). */
const inArrivalOrder = (rows: Selectable<WaiverRow>[]) => rows.sort((a, b) => a.seq - b.seq);

export class WaiverRepository {
  constructor(private readonly store: Store) {}

  async create(waiver: NewWaiver, now = new Date()): Promise<WaiverRecord> {
    return this.store.transaction((tx) => this.createIn(tx, waiver, now));
  }

  /** Records a waiver inside the caller's transaction (a bus message's event commits with it). */
  async createIn(tx: Tx, w: NewWaiver, now: Date): Promise<WaiverRecord> {
    const row = await tx
      .insertInto("Waiver")
      .values({
        id: newId(),
        artifactId: w.artifactId,
        nvr: w.nvr,
        testcase: w.testcase,
        scenario: w.scenario ?? null,
        waived: flag(w.waived),
        comment: w.comment,
        username: w.username,
        source: w.source,
        messageId: w.messageId,
        // One value however many: a waiver's binds do not grow with its environments.
        environments: w.environments !== undefined ? JSON.stringify(w.environments) : null,
        waivedAt: stamp(w.waivedAt),
        createdAt: stamp(now),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  /**
   * Every waiver of an artifact, made on it or on one of its builds, in arrival order (revoked
   * ones too: the domain decides which stand).
   */
  async forArtifact(artifactId: string, nvrs: readonly string[]): Promise<WaiverRecord[]> {
    const rows = await this.store.read(async (tx) => {
      const out = await tx.selectFrom("Waiver").selectAll().where("artifactId", "=", artifactId).execute();
      out.push(...(await rowsOfNvrs(tx, nvrs)));
      return out;
    });
    // A waiver of the artifact's own build made on the artifact shows up twice: once.
    const seen = new Set<string>();
    return inArrivalOrder(rows.filter((r) => !seen.has(r.id) && seen.add(r.id))).map(toRecord);
  }

  /**
   * Waivers of builds, by NVR, inside a push's transaction: WaiverDB may waive a build before
   * the artifact that carries it is pushed. In arrival order.
   */
  async forNvrsIn(tx: Tx, nvrs: readonly string[]): Promise<Map<string, WaiverRecord[]>> {
    const out = new Map<string, WaiverRecord[]>();
    for (const row of inArrivalOrder(await rowsOfNvrs(tx, nvrs))) {
      const record = toRecord(row);
      const nvr = record.nvr as string;
      out.set(nvr, [...(out.get(nvr) ?? []), record]);
    }
    return out;
  }
}

async function rowsOfNvrs(tx: Tx, nvrs: readonly string[]): Promise<Selectable<WaiverRow>[]> {
  const rows: Selectable<WaiverRow>[] = [];
  for (const chunk of chunksFor([...new Set(nvrs)], 1)) {
    rows.push(...(await tx.selectFrom("Waiver").selectAll().where("nvr", "in", chunk).execute()));
  }
  return rows;
}
