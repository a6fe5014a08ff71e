// The bus event log: every message consumed (or POSTed) once per message id, with what became of it.
import type { BusEventStatus } from "../domain/busMapping.js";
import { decodeCursor, encodeCursor } from "./artifactRepository.js";
import { chunksFor, type Prisma, type Tx } from "./database.js";
import { WaiverRepository } from "./waiverRepository.js";
import { KojiTagRepository } from "./kojiTagRepository.js";
import { ConcurrentShadowChange, ShadowRepository } from "./shadowRepository.js";
import { inList, sqlRunnerOf } from "./sql.js";
import type { Store } from "./store.js";

export interface BusEventRecord {
  seq: number;
  messageId: string;
  topic: string;
  bareTopic: string;
  status: BusEventStatus;
  reason: string;
  artifactId: string | null;
  nvr: string | null;
  deliveries: number;
  receivedAt: Date;
  updatedAt: Date;
  parsed: boolean;
  envelope: string;
}

export type NewBusEvent = Omit<BusEventRecord, "seq" | "deliveries" | "receivedAt" | "updatedAt">;

/** What a message's effect made of it, decided inside the transaction that records it. */
export type BusEventOutcome = Pick<BusEventRecord, "status" | "reason" | "artifactId" | "nvr">;

/** Ingests racing on one update or one tagged build are retried this many times before failing. */
const CONCURRENT_RETRIES = 5;

export interface BusEventQuery {
  /** A status, or "duplicate": events delivered more than once. */
  status?: BusEventStatus | "duplicate";
  /** Matched against the bare topic, or against the full topic when it carries a prefix. */
  topic?: { bare: string } | { full: string };
  limit: number;
  cursor?: string;
}

export interface BusEventPage {
  items: BusEventRecord[];
  nextCursor: string | null;
}

/** A second insert of the same message id (another consumer, or a redelivery racing the first). */
function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "P2002";
}

function toRecord(row: Omit<BusEventRecord, "status"> & { status: string }): BusEventRecord {
  return { ...row, status: row.status as BusEventStatus };
}

const BUS_EVENT_COLUMNS = `"seq", "messageId", "topic", "bareTopic", "status", "reason", "artifactId", "nvr", "deliveries", "receivedAt", "updatedAt", "parsed", "envelope"`;
/** A row as the drivers give it with plain SQL: SQLite's booleans 0/1, timestamps text, integers maybe BigInt. */
type BusEventRow = Omit<BusEventRecord, "seq" | "deliveries" | "receivedAt" | "updatedAt" | "parsed" | "status"> & {
  seq: number | bigint;
  deliveries: number | bigint;
  receivedAt: Date | string;
  updatedAt: Date | string;
  parsed: boolean | number | bigint;
  status: string;
};
const fromRow = (row: BusEventRow): BusEventRecord =>
  toRecord({ ...row, seq: Number(row.seq), deliveries: Number(row.deliveries), receivedAt: new Date(row.receivedAt), updatedAt: new Date(row.updatedAt), parsed: Boolean(Number(row.parsed)) });

export class BusEventRepository {
  /** What the bus observed besides the event log: written in the same transaction as an event. */
  readonly shadow: ShadowRepository;
  readonly kojiTags: KojiTagRepository;
  readonly waivers: WaiverRepository;

  constructor(
    private readonly prisma: Prisma,
    store: Store,
  ) {
    this.shadow = new ShadowRepository(prisma);
    this.kojiTags = new KojiTagRepository(prisma);
    this.waivers = new WaiverRepository(store);
  }

  async find(messageId: string): Promise<BusEventRecord | null> {
    const row = await this.prisma.busEvent.findUnique({ where: { messageId } });
    return row ? toRecord(row) : null;
  }

  /**
   * Records a message seen for the first time; "duplicate" when its id is already recorded (the
   * delivery is then counted on the existing event).
   */
  async record(event: NewBusEvent, now = new Date()): Promise<"recorded" | "duplicate"> {
    try {
      await this.prisma.busEvent.create({ data: { ...event, receivedAt: now, updatedAt: now } });
      return "recorded";
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await this.countDelivery(event.messageId, now);
      return "duplicate";
    }
  }

  /**
   * Applies a message's effect and records the event in one transaction, so the effect is
   * durable exactly when the event is (the consumer acks after this resolves). "duplicate" when
   * the message id was recorded meanwhile: the effect is rolled back with it. A race with
   * another ingest on the same state (ConcurrentShadowChange, or a first insert that lost on a
   * unique key) retries the whole transaction on fresh state.
   */
  async recordWith(
    event: Pick<NewBusEvent, "messageId" | "topic" | "bareTopic" | "parsed" | "envelope">,
    apply: (tx: Tx) => Promise<BusEventOutcome>,
    now = new Date(),
  ): Promise<{ status: "recorded"; outcome: BusEventOutcome } | { status: "duplicate" }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.prisma.$transaction(async (tx) => {
          const decided = await apply(tx);
          await tx.busEvent.create({ data: { ...event, ...decided, receivedAt: now, updatedAt: now } });
          return decided;
        });
        return { status: "recorded", outcome };
      } catch (err) {
        const raced = err instanceof ConcurrentShadowChange || isUniqueViolation(err);
        if (!raced) throw err;
        if (await this.countDelivery(event.messageId, now)) return { status: "duplicate" };
        if (attempt >= CONCURRENT_RETRIES) throw err;
      }
    }
  }

  /** One more delivery of a message already recorded. */
  async countDelivery(messageId: string, now = new Date()): Promise<BusEventRecord | null> {
    const result = await this.prisma.busEvent.updateMany({ where: { messageId }, data: { deliveries: { increment: 1 }, updatedAt: now } });
    return result.count > 0 ? this.find(messageId) : null;
  }

  async list(query: BusEventQuery): Promise<BusEventPage> {
    const rows = await this.prisma.busEvent.findMany({
      where: {
        ...(query.status === "duplicate" ? { deliveries: { gt: 1 } } : query.status ? { status: query.status } : {}),
        ...(query.topic ? ("bare" in query.topic ? { bareTopic: query.topic.bare } : { topic: query.topic.full }) : {}),
        ...(query.cursor ? { seq: { lt: decodeCursor(query.cursor) } } : {}),
      },
      orderBy: { seq: "desc" },
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(toRecord), nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null };
  }

  /** Counts per status (for summaries and tests). */
  async countByStatus(): Promise<Record<string, number>> {
    const groups = await this.prisma.busEvent.groupBy({ by: ["status"], _count: { _all: true } });
    return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
  }

  /** Waiting results about any of these NVRs, oldest first. */
  async waitingFor(nvrs: string[], limit = 500): Promise<BusEventRecord[]> {
    if (nvrs.length === 0) return [];
    const found: BusEventRecord[] = [];
    await sqlRunnerOf(this.prisma).read(async (tx) => {
      // The oldest `limit` of each chunk: together they hold the oldest `limit` of all.
      for (const chunk of chunksFor([...new Set(nvrs)], 1, 1)) {
        const rows = await tx.all<BusEventRow>(`SELECT ${BUS_EVENT_COLUMNS} FROM "BusEvent" WHERE "status" = 'waiting' AND "nvr" IN (${inList(chunk.length)}) ORDER BY "seq" LIMIT ?`, [...chunk, limit]);
        found.push(...rows.map(fromRow));
      }
    });
    return found.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /** Waiting results whose build some artifact now carries (pushed by CI, or mirrored), oldest first. */
  async waitingWithArtifacts(limit = 500): Promise<BusEventRecord[]> {
    const waiting = await this.prisma.busEvent.findMany({
      where: { status: "waiting", nvr: { not: null } },
      select: { nvr: true },
      distinct: ["nvr"],
      take: 5000,
    });
    const nvrs = waiting.map((w) => w.nvr).filter((n): n is string => n !== null);
    if (nvrs.length === 0) return [];
    const built = new Set<string>();
    await sqlRunnerOf(this.prisma).read(async (tx) => {
      for (const chunk of chunksFor(nvrs, 1)) {
        for (const b of await tx.all<{ nvr: string }>(`SELECT DISTINCT "nvr" FROM "ArtifactBuild" WHERE "nvr" IN (${inList(chunk.length)})`, chunk)) built.add(b.nvr);
      }
    });
    return this.waitingFor([...built], limit);
  }

  /**
   * Settles a waiting event (its result was appended); false when it was no longer waiting
   * (another replica settled it first).
   */
  async settle(messageId: string, change: { status: BusEventStatus; reason: string; artifactId: string | null }, now = new Date()): Promise<boolean> {
    const result = await this.prisma.busEvent.updateMany({ where: { messageId, status: "waiting" }, data: { ...change, updatedAt: now } });
    return result.count > 0;
  }
}
