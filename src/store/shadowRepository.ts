// The shadow repository in the store: each Bodhi update's merge request as last mirrored, and the
// queue of commits the shadow writer owes the repository.
import type { BodhiClosure, BodhiUpdateSpec } from "../domain/busMapping.js";
import type { Selectable } from "kysely";
import type { ShadowChange, ShadowUpdate } from "./generated/kysely/types.js";
import { fromStamp, stamp, type Store, type Tx } from "./store.js";

export const shadowStates = ["open", "merged", "closed"] as const;
export type ShadowState = (typeof shadowStates)[number];
// issue 17 T: `calendar` writes a meeting's entry on main (removing removePaths first), `remove` removes `path`.
export const shadowChangeKinds = ["update", "merge", "close", "compose", "calendar", "remove"] as const;
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
  /** Paths the commit removes before writing `path` (a meeting moved to another day); none when absent. */
  removePaths?: string[];
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

const orNull = (value: string | null): Date | null => (value === null ? null : fromStamp(value));

function toUpdate(row: Selectable<ShadowUpdate>): ShadowUpdateRecord {
  return {
    ...row,
    state: row.state as ShadowState,
    spec: JSON.parse(row.spec) as BodhiUpdateSpec,
    problems: row.problems ? (JSON.parse(row.problems) as string[]) : [],
    closedReason: row.closedReason as BodhiClosure | null,
    createdAt: fromStamp(row.createdAt),
    updatedAt: fromStamp(row.updatedAt),
    mergedAt: orNull(row.mergedAt),
    closedAt: orNull(row.closedAt),
  };
}

function toChange({ removePaths, ...row }: Selectable<ShadowChange>): ShadowChangeRecord {
  return {
    ...row,
    kind: row.kind as ShadowChangeKind,
    ...(removePaths ? { removePaths: JSON.parse(removePaths) as string[] } : {}),
    status: row.status as ShadowChangeRecord["status"],
    nextAttemptAt: orNull(row.nextAttemptAt),
    createdAt: fromStamp(row.createdAt),
    writtenAt: orNull(row.writtenAt),
  };
}

export class ShadowRepository {
  constructor(private readonly store: Store) {}

  async update(alias: string): Promise<ShadowUpdateRecord | null> {
    return this.store.read((tx) => this.updateIn(tx, alias));
  }

  async updates(filter: { state?: ShadowState } = {}): Promise<ShadowUpdateRecord[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("ShadowUpdate")
        .selectAll()
        .$if(filter.state !== undefined, (q) => q.where("state", "=", filter.state as ShadowState))
        .orderBy("alias", "asc")
        .execute(),
    );
    return rows.map(toUpdate);
  }

  async updateIn(tx: Tx, alias: string): Promise<ShadowUpdateRecord | null> {
    const row = await tx.selectFrom("ShadowUpdate").selectAll().where("alias", "=", alias).executeTakeFirst();
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
      mergedAt: next.mergedAt ? stamp(next.mergedAt) : null,
      closedAt: next.closedAt ? stamp(next.closedAt) : null,
      updatedAt: stamp(now),
    };
    if (!previous) {
      const inserted = await tx
        .insertInto("ShadowUpdate")
        .values({ alias: next.alias, ...data, version: 0, createdAt: stamp(now) })
        .onConflict((c) => c.column("alias").doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 0n) throw new ConcurrentShadowChange(`shadow update ${next.alias} was first stored concurrently`);
      return;
    }
    const result = await tx
      .updateTable("ShadowUpdate")
      .set({ ...data, version: previous.version + 1 })
      .where("alias", "=", next.alias)
      .where("version", "=", previous.version)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new ConcurrentShadowChange(`shadow update ${next.alias} changed concurrently`);
  }

  async queueIn(tx: Tx, change: NewShadowChange, now: Date): Promise<void> {
    await tx
      .insertInto("ShadowChange")
      .values({ ...change, removePaths: change.removePaths && change.removePaths.length > 0 ? JSON.stringify(change.removePaths) : null, status: "queued", createdAt: stamp(now) })
      .execute();
  }

  /** Queued changes in queue order (due or waiting for a retry), for the writer to go through. */
  async queued(limit: number): Promise<ShadowChangeRecord[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("ShadowChange").selectAll().where("status", "=", "queued").orderBy("seq", "asc").limit(limit).execute());
    return rows.map(toChange);
  }

  async changes(filter: { alias?: string; status?: ShadowChangeRecord["status"] } = {}): Promise<ShadowChangeRecord[]> {
    const rows = await this.store.read((tx) => {
      let q = tx.selectFrom("ShadowChange").selectAll();
      if (filter.alias) q = q.where("alias", "=", filter.alias);
      if (filter.status) q = q.where("status", "=", filter.status);
      return q.orderBy("seq", "asc").execute();
    });
    return rows.map(toChange);
  }

  async markWritten(seq: number, shas: { commitSha: string; mergeSha?: string }, now = new Date()): Promise<void> {
    await this.store.transaction(async (tx) => {
      const result = await tx
        .updateTable("ShadowChange")
        .set({ status: "written", commitSha: shas.commitSha, mergeSha: shas.mergeSha ?? null, error: null, nextAttemptAt: null, writtenAt: stamp(now) })
        .where("seq", "=", seq)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new ShadowChangeNotFound(seq);
    });
  }

  async markAttemptFailed(seq: number, error: string, nextAttemptAt: Date): Promise<void> {
    await this.store.transaction(async (tx) => {
      const result = await tx
        .updateTable("ShadowChange")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), error: error.slice(0, 2000), nextAttemptAt: stamp(nextAttemptAt) }))
        .where("seq", "=", seq)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new ShadowChangeNotFound(seq);
    });
  }

  async countQueued(): Promise<number> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("ShadowChange")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("status", "=", "queued")
        .executeTakeFirstOrThrow(),
    );
    return Number(row.n);
  }
}

/** A change marked that is not in the queue (pruned, or never queued): the caller's mistake, as before. */
export class ShadowChangeNotFound extends Error {
  constructor(seq: number) {
    super(`shadow change ${seq} is not stored`);
  }
}
