// The shadow repository in the store: each Bodhi update's merge request as last mirrored, and the
// queue of commits the shadow writer owes the repository.
import type { BodhiClosure, BodhiUpdateSpec } from "../domain/busMapping.js";
import type { Prisma, Tx } from "./database.js";

export const shadowStates = ["open", "merged", "closed"] as const;
export type ShadowState = (typeof shadowStates)[number];
export const shadowChangeKinds = ["update", "merge", "close", "compose"] as const;
export type ShadowChangeKind = (typeof shadowChangeKinds)[number];

export interface ShadowUpdateRecord {
  alias: string;
  release: string;
  path: string;
  state: ShadowState;
  spec: BodhiUpdateSpec;
  problems: string[];
  closedReason: BodhiClosure | null;
  version: number;
  lastMessageId: string;
  createdAt: Date;
  updatedAt: Date;
  mergedAt: Date | null;
  closedAt: Date | null;
}

export interface NewShadowChange {
  messageId: string;
  topic: string;
  kind: ShadowChangeKind;
  branch: string;
  alias: string | null;
  path: string;
  content: string;
  message: string;
  mergeMessage: string | null;
}

export interface ShadowChangeRecord extends NewShadowChange {
  seq: number;
  status: "queued" | "written";
  commitSha: string | null;
  mergeSha: string | null;
  attempts: number;
  error: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  writtenAt: Date | null;
}

/**
 * Another transaction changed the same update between our read and our write (two replicas
 * mirroring two messages of one update at once): the whole ingest is retried on fresh state.
 */
export class ConcurrentShadowChange extends Error {}

type UpdateRow = Omit<ShadowUpdateRecord, "state" | "spec" | "problems" | "closedReason"> & { state: string; spec: string; problems: string | null; closedReason: string | null };

function toUpdate(row: UpdateRow): ShadowUpdateRecord {
  return {
    ...row,
    state: row.state as ShadowState,
    spec: JSON.parse(row.spec) as BodhiUpdateSpec,
    problems: row.problems ? (JSON.parse(row.problems) as string[]) : [],
    closedReason: row.closedReason as BodhiClosure | null,
  };
}

type ChangeRow = Omit<ShadowChangeRecord, "kind" | "status"> & { kind: string; status: string };

function toChange(row: ChangeRow): ShadowChangeRecord {
  return { ...row, kind: row.kind as ShadowChangeKind, status: row.status as ShadowChangeRecord["status"] };
}

export class ShadowRepository {
  constructor(private readonly prisma: Prisma) {}

  async update(alias: string): Promise<ShadowUpdateRecord | null> {
    const row = await this.prisma.shadowUpdate.findUnique({ where: { alias } });
    return row ? toUpdate(row) : null;
  }

  async updates(filter: { state?: ShadowState } = {}): Promise<ShadowUpdateRecord[]> {
    const rows = await this.prisma.shadowUpdate.findMany({ where: filter.state ? { state: filter.state } : {}, orderBy: { alias: "asc" } });
    return rows.map(toUpdate);
  }

  async updateIn(tx: Tx, alias: string): Promise<ShadowUpdateRecord | null> {
    const row = await tx.shadowUpdate.findUnique({ where: { alias } });
    return row ? toUpdate(row) : null;
  }

  /**
   * Stores an update's new state, provided nobody changed it since `previous` was read (null: it
   * did not exist); throws ConcurrentShadowChange otherwise.
   */
  async saveUpdateIn(
    tx: Tx,
    previous: ShadowUpdateRecord | null,
    next: Pick<ShadowUpdateRecord, "alias" | "release" | "path" | "state" | "spec" | "problems" | "closedReason" | "lastMessageId" | "mergedAt" | "closedAt">,
    now: Date,
  ): Promise<void> {
    const data = {
      release: next.release,
      path: next.path,
      state: next.state,
      spec: JSON.stringify(next.spec),
      problems: next.problems.length > 0 ? JSON.stringify(next.problems) : null,
      closedReason: next.closedReason,
      lastMessageId: next.lastMessageId,
      mergedAt: next.mergedAt,
      closedAt: next.closedAt,
      updatedAt: now,
    };
    if (!previous) {
      // A concurrent first insert fails on the primary key; the ingest is retried and sees it.
      await tx.shadowUpdate.create({ data: { alias: next.alias, ...data, version: 0, createdAt: now } });
      return;
    }
    const result = await tx.shadowUpdate.updateMany({ where: { alias: next.alias, version: previous.version }, data: { ...data, version: previous.version + 1 } });
    if (result.count !== 1) throw new ConcurrentShadowChange(`shadow update ${next.alias} changed concurrently`);
  }

  async queueIn(tx: Tx, change: NewShadowChange, now: Date): Promise<void> {
    await tx.shadowChange.create({ data: { ...change, status: "queued", createdAt: now } });
  }

  /** Queued changes in queue order (due or waiting for a retry), for the writer to go through. */
  async queued(limit: number): Promise<ShadowChangeRecord[]> {
    const rows = await this.prisma.shadowChange.findMany({ where: { status: "queued" }, orderBy: { seq: "asc" }, take: limit });
    return rows.map(toChange);
  }

  async changes(filter: { alias?: string; status?: ShadowChangeRecord["status"] } = {}): Promise<ShadowChangeRecord[]> {
    const rows = await this.prisma.shadowChange.findMany({
      where: { ...(filter.alias ? { alias: filter.alias } : {}), ...(filter.status ? { status: filter.status } : {}) },
      orderBy: { seq: "asc" },
    });
    return rows.map(toChange);
  }

  async markWritten(seq: number, shas: { commitSha: string; mergeSha?: string }, now = new Date()): Promise<void> {
    await this.prisma.shadowChange.update({
      where: { seq },
      data: { status: "written", commitSha: shas.commitSha, mergeSha: shas.mergeSha ?? null, error: null, nextAttemptAt: null, writtenAt: now },
    });
  }

  async markAttemptFailed(seq: number, error: string, nextAttemptAt: Date): Promise<void> {
    await this.prisma.shadowChange.update({ where: { seq }, data: { attempts: { increment: 1 }, error: error.slice(0, 2000), nextAttemptAt } });
  }

  async countQueued(): Promise<number> {
    return this.prisma.shadowChange.count({ where: { status: "queued" } });
  }
}
