// relengd's own bus messages before and after they are published, and the releases they announce.
import type { Selectable } from "kysely";
import type { ReleaseStatus } from "../domain/release.js";
import type { BusOutbox } from "./generated/kysely/types.js";
import type { ReleaseRecord } from "./releaseRepository.js";
import { chunksFor, fromStamp, stamp, type Store, type Tx } from "./store.js";

export interface OutboxMessage {
  /** <release id>/<status> (request/<request id>/<status>): a second message with the same key is never stored. */
  key: string;
  messageId: string;
  /** The release announced; NO_RELEASE for a message about something else (a request). */
  releaseSeq: number;
  topic: string;
  /** The envelope's JSON form (src/domain/envelope.ts). */
  envelope: string;
}

export interface StoredOutboxMessage extends OutboxMessage {
  seq: number;
  createdAt: Date;
  publishedAt: Date | null;
  attempts: number;
}

/** What a release message says of a release: the stored release, but for what only the writer needs. */
export type AnnouncedRelease = Omit<ReleaseRecord, "force" | "forceReason" | "bulk" | "supersededBy" | "nextAttemptAt" | "preflight" | "repoclosureReportId" | "repoclosure">;

/** The Release columns a release message reads. */
const announcedColumns = [
  "seq",
  "id",
  "artifactId",
  "environment",
  "repository",
  "branch",
  "package",
  "trigger",
  "createdBy",
  "status",
  "reason",
  "error",
  "attempts",
  "commitSha",
  "createdAt",
  "updatedAt",
  "pushedAt",
] as const;

/** Columns one outbox row binds: the chunk size of the multi-row insert. */
const OUTBOX_COLUMNS = 6;

/** `releaseSeq` of a message that announces no release (releases count from 1). */
export const NO_RELEASE = 0;

/**
 * Stores messages in the caller's transaction (the change they announce commits with them, or
 * neither does); those whose key is stored already are left out. Returns how many were new.
 */
export async function insertOutboxMessages(tx: Tx, messages: readonly OutboxMessage[], now: Date): Promise<number> {
  const createdAt = stamp(now);
  let added = 0;
  for (const chunk of chunksFor([...messages], OUTBOX_COLUMNS)) {
    const result = await tx
      .insertInto("BusOutbox")
      .values(chunk.map((m) => ({ messageId: m.messageId, key: m.key, releaseSeq: m.releaseSeq, topic: m.topic, envelope: m.envelope, createdAt })))
      .onConflict((c) => c.column("key").doNothing())
      .executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return added;
}

function announcedReleases(tx: Tx) {
  return tx.selectFrom("Release").select(announcedColumns);
}

type AnnouncedRow = Awaited<ReturnType<ReturnType<typeof announcedReleases>["executeTakeFirstOrThrow"]>>;

const asAnnounced = (row: AnnouncedRow): AnnouncedRelease => ({
  ...row,
  status: row.status as ReleaseStatus,
  createdAt: fromStamp(row.createdAt),
  updatedAt: fromStamp(row.updatedAt),
  pushedAt: row.pushedAt === null ? null : fromStamp(row.pushedAt),
});

const toStored = (row: Selectable<BusOutbox>): StoredOutboxMessage => ({
  ...row,
  createdAt: fromStamp(row.createdAt),
  publishedAt: row.publishedAt === null ? null : fromStamp(row.publishedAt),
});

export class BusOutboxRepository {
  constructor(private readonly store: Store) {}

  /** Stores messages; those whose key is stored already are left out. Returns how many were new. */
  async add(messages: OutboxMessage[], now = new Date()): Promise<number> {
    if (messages.length === 0) return 0;
    return this.store.transaction((tx) => insertOutboxMessages(tx, messages, now));
  }

  async unpublished(limit: number): Promise<StoredOutboxMessage[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("BusOutbox").selectAll().where("publishedAt", "is", null).orderBy("seq", "asc").limit(limit).execute());
    return rows.map(toStored);
  }

  async markPublished(seqs: number[], now = new Date()): Promise<void> {
    const publishedAt = stamp(now);
    // Besides the list the statement binds the time.
    await this.updateEach(seqs, 1, (tx, chunk) => tx.updateTable("BusOutbox").set({ publishedAt }).where("seq", "in", chunk).execute());
  }

  async countAttempt(seqs: number[]): Promise<void> {
    // Besides the list the statement binds the increment.
    await this.updateEach(seqs, 1, (tx, chunk) =>
      tx
        .updateTable("BusOutbox")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("seq", "in", chunk)
        .execute(),
    );
  }

  private async updateEach(seqs: readonly number[], reserved: number, update: (tx: Tx, chunk: number[]) => Promise<unknown>): Promise<void> {
    if (seqs.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const chunk of chunksFor([...new Set(seqs)], 1, reserved)) await update(tx, chunk);
    });
  }

  async all(): Promise<StoredOutboxMessage[]> {
    const rows = await this.store.read((tx) => tx.selectFrom("BusOutbox").selectAll().orderBy("seq", "asc").execute());
    return rows.map(toStored);
  }

  /**
   * Forgets messages published before `before`, except those of the newest release announced:
   * they say how far announcing got (lastAnnouncedReleaseSeq).
   */
  async prunePublished(before: Date): Promise<number> {
    const newest = await this.lastAnnouncedReleaseSeq();
    if (newest === null) return 0;
    const result = await this.store.transaction((tx) =>
      tx.deleteFrom("BusOutbox").where("publishedAt", "<", stamp(before)).where("releaseSeq", "<", newest).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  /** The newest release announced as queued: announcing resumes after it. */
  async lastAnnouncedReleaseSeq(): Promise<number | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("BusOutbox")
        .select((eb) => eb.fn.max("releaseSeq").as("newest"))
        // Messages about requests announce no release: they say nothing of how far announcing got.
        .where("releaseSeq", ">", NO_RELEASE)
        .executeTakeFirst(),
    );
    return row?.newest ?? null;
  }

  async lastReleaseSeq(): Promise<number> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select((eb) => eb.fn.max("seq").as("newest"))
        .executeTakeFirst(),
    );
    return row?.newest ?? 0;
  }

  /** Releases queued after `seq`, in queue order. */
  async releasesAfter(seq: number, limit: number): Promise<AnnouncedRelease[]> {
    const rows = await this.store.read((tx) => announcedReleases(tx).where("seq", ">", seq).orderBy("seq", "asc").limit(limit).execute());
    return rows.map(asAnnounced);
  }

  async releasesByIds(ids: string[]): Promise<AnnouncedRelease[]> {
    const rows = await this.store.read(async (tx) => {
      const out: AnnouncedRow[] = [];
      for (const chunk of chunksFor([...new Set(ids)], 1)) out.push(...(await announcedReleases(tx).where("id", "in", chunk).execute()));
      return out;
    });
    return rows.map(asAnnounced).sort((a, b) => a.seq - b.seq);
  }
}
