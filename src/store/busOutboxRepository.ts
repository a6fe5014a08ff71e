// relengd's own bus messages before and after they are published, and the releases they announce.
import { chunksFor, providerOf, sqlTimestamp, type Prisma, type Provider } from "./database.js";
import { Prisma as Sql } from "./generated/sqlite/client.js";
import type { ReleaseStatus } from "../domain/release.js";
import type { ReleaseRecord } from "./releaseRepository.js";

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

  constructor(private readonly prisma: Prisma) {
    this.provider = providerOf(prisma);
  }

  /** Stores messages; those whose key is stored already are left out. Returns how many were new. */
  async add(messages: OutboxMessage[], now = new Date()): Promise<number> {
    let added = 0;
    const stamp = sqlTimestamp(this.provider, now);
    for (const chunk of chunksFor(messages, 6)) {
      const rows = chunk.map((m) => Sql.sql`(${m.messageId}, ${m.key}, ${m.releaseSeq}, ${m.topic}, ${m.envelope}, ${stamp})`);
      // Both SQLite (3.24+) and PostgreSQL know ON CONFLICT … DO NOTHING.
      added += await this.prisma.$executeRaw(
        Sql.sql`INSERT INTO "BusOutbox" ("messageId", "key", "releaseSeq", "topic", "envelope", "createdAt") VALUES ${Sql.join(rows)} ON CONFLICT ("key") DO NOTHING`,
      );
    }
    return added;
  }

  async unpublished(limit: number): Promise<StoredOutboxMessage[]> {
    return this.prisma.busOutbox.findMany({ where: { publishedAt: null }, orderBy: { seq: "asc" }, take: limit });
  }

  async markPublished(seqs: number[], now = new Date()): Promise<void> {
    if (seqs.length > 0) await this.prisma.busOutbox.updateMany({ where: { seq: { in: seqs } }, data: { publishedAt: now } });
  }

  async countAttempt(seqs: number[]): Promise<void> {
    if (seqs.length > 0) await this.prisma.busOutbox.updateMany({ where: { seq: { in: seqs } }, data: { attempts: { increment: 1 } } });
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
    for (const chunk of chunksFor([...new Set(ids)], 1)) {
      const rows = await this.prisma.release.findMany({ where: { id: { in: chunk } }, orderBy: { seq: "asc" }, select: releaseFields });
      out.push(...rows.map(asAnnounced));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}
