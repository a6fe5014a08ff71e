// Waivers in the store: made on an artifact through the API, or on a build by WaiverDB on the bus.
import type { Waiver } from "../domain/gating.js";
import { chunksFor, type Prisma } from "./database.js";
import { flag, stamp, type Store, type Tx } from "./store.js";
import { newId } from "./ids.js";
import { inList, sqlRunnerOf, type SqlTx } from "./sql.js";

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

type WaiverRow = {
  seq: number;
  id: string;
  artifactId: string | null;
  nvr: string | null;
  testcase: string;
  scenario: string | null;
  waived: boolean;
  comment: string;
  username: string;
  source: string;
  messageId: string | null;
  environments: string | null;
  waivedAt: Date;
  createdAt: Date;
};

function toRecord(row: WaiverRow): WaiverRecord {
  return {
    id: row.id,
    artifactId: row.artifactId,
    nvr: row.nvr,
    testcase: row.testcase,
    ...(row.scenario !== null ? { scenario: row.scenario } : {}),
    waived: row.waived,
    comment: row.comment,
    username: row.username,
    source: row.source as WaiverSource,
    messageId: row.messageId,
    ...(row.environments !== null ? { environments: JSON.parse(row.environments) as string[] } : {}),
    waivedAt: row.waivedAt,
    createdAt: row.createdAt,
  };
}

function dataOf(w: NewWaiver, now: Date) {
  return {
    id: newId(),
    artifactId: w.artifactId,
    nvr: w.nvr,
    testcase: w.testcase,
    scenario: w.scenario ?? null,
    waived: w.waived,
    comment: w.comment,
    username: w.username,
    source: w.source,
    messageId: w.messageId,
    environments: w.environments !== undefined ? JSON.stringify(w.environments) : null,
    waivedAt: w.waivedAt,
    createdAt: now,
  };
}

export class WaiverRepository {
  private readonly client: Prisma | null;

  // Built from the store by BusEventRepository, which only records waivers in its own
  // transactions (createIn); the other methods still go through Prisma until this file moves
  // onto the store.
  constructor(db: Prisma | Store) {
    this.client = "$transaction" in db ? db : null;
  }

  private get prisma(): Prisma {
    if (!this.client) throw new Error("this WaiverRepository was built from the store: only createIn is available");
    return this.client;
  }

  async create(waiver: NewWaiver, now = new Date()): Promise<WaiverRecord> {
    return toRecord(await this.prisma.waiver.create({ data: dataOf(waiver, now) }));
  }

  /** Records a waiver inside the caller's transaction (a bus message's event commits with it). */
  async createIn(tx: Tx, waiver: NewWaiver, now: Date): Promise<WaiverRecord> {
    const data = dataOf(waiver, now);
    const row = await tx
      .insertInto("Waiver")
      .values({ ...data, waived: flag(data.waived), waivedAt: stamp(data.waivedAt), createdAt: stamp(data.createdAt) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return recordOfRaw(row);
  }

  /**
   * Every waiver of an artifact, made on it or on one of its builds, in arrival order (revoked
   * ones too: the domain decides which stand).
   */
  async forArtifact(artifactId: string, nvrs: readonly string[]): Promise<WaiverRecord[]> {
    // Statements that bind a list go through the SQL runner, which counts their binds.
    const rows = await sqlRunnerOf(this.prisma).read(async (tx) => {
      const out = await tx.all<RawWaiverRow>(`SELECT ${COLUMNS} FROM "Waiver" WHERE "artifactId" = ?`, [artifactId]);
      out.push(...(await rowsOfNvrs(tx, nvrs)));
      return out;
    });
    // A waiver of the artifact's own build made on the artifact shows up twice: once.
    const seen = new Set<string>();
    return rows
      .filter((r) => !seen.has(r.id) && seen.add(r.id))
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map(recordOfRaw);
  }

  /**
   * Waivers of builds, by NVR, inside an ingest transaction: WaiverDB may waive a build before
   * the artifact that carries it is pushed. In arrival order.
   */
  async forNvrsIn(tx: SqlTx, nvrs: readonly string[]): Promise<Map<string, WaiverRecord[]>> {
    const out = new Map<string, WaiverRecord[]>();
    const rows = await rowsOfNvrs(tx, nvrs);
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    for (const row of rows) {
      const record = recordOfRaw(row);
      const nvr = record.nvr as string;
      out.set(nvr, [...(out.get(nvr) ?? []), record]);
    }
    return out;
  }
}

type RawWaiverRow = Omit<WaiverRow, "waived" | "waivedAt" | "createdAt"> & { waived: boolean | number | bigint; waivedAt: Date | string; createdAt: Date | string };

async function rowsOfNvrs(tx: SqlTx, nvrs: readonly string[]): Promise<RawWaiverRow[]> {
  const rows: RawWaiverRow[] = [];
  for (const chunk of chunksFor([...new Set(nvrs)], 1)) {
    rows.push(...(await tx.all<RawWaiverRow>(`SELECT ${COLUMNS} FROM "Waiver" WHERE "nvr" IN (${inList(chunk.length)})`, chunk)));
  }
  return rows;
}

// SQLite hands Prisma's Boolean back as a number and its DateTime as text.
function recordOfRaw(row: RawWaiverRow): WaiverRecord {
  return toRecord({ ...row, seq: Number(row.seq), waived: Boolean(Number(row.waived)), waivedAt: new Date(row.waivedAt), createdAt: new Date(row.createdAt) });
}

const COLUMNS = ["seq", "id", "artifactId", "nvr", "testcase", "scenario", "waived", "comment", "username", "source", "messageId", "environments", "waivedAt", "createdAt"].map((c) => `"${c}"`).join(", ");
