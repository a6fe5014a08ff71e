// relengd's own bus messages before and after they are published, and the releases they announce.
import { chunksFor, providerOf, sqlTimestamp, type Prisma, type Provider } from "./database.js";
import { inList, sqlRunnerOf, valuesList, type SqlRunner } from "./sql.js";
import type { ReleaseStatus } from "../domain/release.js";
import type { ReleaseRecord } from "./releaseRepository.js";

// Rows read through the SQL runner come back as the driver gives them: on SQLite booleans are
// 0/1, timestamps ISO text and integers may be BigInt. Until this repository is on the store
// (whose rows ReleaseRepository's releaseFromRow maps), it reads them here.
const RELEASE_COLUMNS = `"seq", "id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "force", "forceReason", "bulk", "status", "reason", "supersededBy", "error", "attempts", "nextAttemptAt", "commitSha", "createdAt", "updatedAt", "pushedAt"`;
type Timestamp = Date | string;
type ReleaseRow = Omit<ReleaseRecord, "seq" | "force" | "bulk" | "attempts" | "status" | "nextAttemptAt" | "createdAt" | "updatedAt" | "pushedAt"> & {
  seq: number | bigint;
  force: boolean | number | bigint;
  bulk: boolean | number | bigint;
  attempts: number | bigint;
  status: string;
  nextAttemptAt: Timestamp | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  pushedAt: Timestamp | null;
};
const dateOrNull = (value: Timestamp | null): Date | null => (value === null ? null : new Date(value));
function releaseFromRow(row: ReleaseRow): ReleaseRecord {
  return {
    ...row,
    seq: Number(row.seq),
    force: Boolean(Number(row.force)),
    bulk: Boolean(Number(row.bulk)),
    attempts: Number(row.attempts),
    status: row.status as ReleaseStatus,
    nextAttemptAt: dateOrNull(row.nextAttemptAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    pushedAt: dateOrNull(row.pushedAt),
  };
}

export interface OutboxMessage {
  /** <release id>/<status>: a second message with the same key is never stored. */
  key: string;
  messageId: string;
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
export type AnnouncedRelease = Omit<ReleaseRecord, "force" | "forceReason" | "bulk" | "supersededBy" | "nextAttemptAt">;

const releaseFields = {
  seq: true,
  id: true,
  artifactId: true,
  environment: true,
  repository: true,
  branch: true,
  package: true,
  trigger: true,
  createdBy: true,
  status: true,
  reason: true,
  error: true,
  attempts: true,
  commitSha: true,
  createdAt: true,
  updatedAt: true,
  pushedAt: true,
} as const;

const asAnnounced = (row: Omit<AnnouncedRelease, "status"> & { status: string }): AnnouncedRelease => ({ ...row, status: row.status as ReleaseStatus });

export class BusOutboxRepository {
  private readonly provider: Provider;
  private readonly sql: SqlRunner;

  constructor(private readonly prisma: Prisma) {
    this.provider = providerOf(prisma);
    this.sql = sqlRunnerOf(prisma);
  }

  /** Stores messages; those whose key is stored already are left out. Returns how many were new. */
  async add(messages: OutboxMessage[], now = new Date()): Promise<number> {
    if (messages.length === 0) return 0;
    const stamp = sqlTimestamp(this.provider, now);
    return this.sql.transaction(async (tx) => {
      let added = 0;
      for (const chunk of chunksFor(messages, 6)) {
        // Both SQLite (3.24+) and PostgreSQL know ON CONFLICT … DO NOTHING.
        added += await tx.run(
          `INSERT INTO "BusOutbox" ("messageId", "key", "releaseSeq", "topic", "envelope", "createdAt") VALUES ${valuesList(chunk.length, 6)} ON CONFLICT ("key") DO NOTHING`,
          chunk.flatMap((m) => [m.messageId, m.key, m.releaseSeq, m.topic, m.envelope, stamp]),
        );
      }
      return added;
    });
  }

  async unpublished(limit: number): Promise<StoredOutboxMessage[]> {
    return this.prisma.busOutbox.findMany({ where: { publishedAt: null }, orderBy: { seq: "asc" }, take: limit });
  }

  async markPublished(seqs: number[], now = new Date()): Promise<void> {
    const stamp = sqlTimestamp(this.provider, now);
    await this.updateEach(seqs, `"publishedAt" = ?`, [stamp]);
  }

  async countAttempt(seqs: number[]): Promise<void> {
    await this.updateEach(seqs, `"attempts" = "attempts" + 1`, []);
  }

  private async updateEach(seqs: readonly number[], set: string, setParams: readonly (string | Date)[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (const chunk of chunksFor([...new Set(seqs)], 1, setParams.length)) {
        await tx.run(`UPDATE "BusOutbox" SET ${set} WHERE "seq" IN (${inList(chunk.length)})`, [...setParams, ...chunk]);
      }
    });
  }

  async all(): Promise<StoredOutboxMessage[]> {
    return this.prisma.busOutbox.findMany({ orderBy: { seq: "asc" } });
  }

  /**
   * Forgets messages published before `before`, except those of the newest release announced:
   * they say how far announcing got (lastAnnouncedReleaseSeq).
   */
  async prunePublished(before: Date): Promise<number> {
    const newest = await this.lastAnnouncedReleaseSeq();
    if (newest === null) return 0;
    const result = await this.prisma.busOutbox.deleteMany({ where: { publishedAt: { lt: before }, releaseSeq: { lt: newest } } });
    return result.count;
  }

  /** The newest release announced as queued: announcing resumes after it. */
  async lastAnnouncedReleaseSeq(): Promise<number | null> {
    const r = await this.prisma.busOutbox.aggregate({ _max: { releaseSeq: true } });
    return r._max.releaseSeq ?? null;
  }

  async lastReleaseSeq(): Promise<number> {
    const r = await this.prisma.release.aggregate({ _max: { seq: true } });
    return r._max.seq ?? 0;
  }

  /** Releases queued after `seq`, in queue order. */
  async releasesAfter(seq: number, limit: number): Promise<AnnouncedRelease[]> {
    const rows = await this.prisma.release.findMany({ where: { seq: { gt: seq } }, orderBy: { seq: "asc" }, take: limit, select: releaseFields });
    return rows.map(asAnnounced);
  }

  async releasesByIds(ids: string[]): Promise<AnnouncedRelease[]> {
    const out: AnnouncedRelease[] = [];
    await this.sql.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1)) {
        for (const row of await tx.all<ReleaseRow>(`SELECT ${RELEASE_COLUMNS} FROM "Release" WHERE "id" IN (${inList(chunk.length)})`, chunk)) {
          const r = releaseFromRow(row);
          out.push(Object.fromEntries(Object.keys(releaseFields).map((k) => [k, r[k as keyof typeof releaseFields]])) as AnnouncedRelease);
        }
      }
    });
    return out.sort((a, b) => a.seq - b.seq);
  }
}
