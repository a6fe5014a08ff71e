// The bus event log: every message consumed (or POSTed) once per message id, with what became of it.
import type { Selectable } from "kysely";
import type { BusEventStatus } from "../domain/busMapping.js";
import { decodeCursor, encodeCursor } from "./artifactRepository.js";
import type { BusEvent } from "./generated/kysely/types.js";
import { KojiTagRepository, ConcurrentTagChange } from "./kojiTagRepository.js";
import { ConcurrentShadowChange, ShadowRepository } from "./shadowRepository.js";
import { ScmTicketRepository } from "./scmTicketRepository.js";

import { ObservedRepository } from "./observedRepository.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";
import { isUniqueViolation } from "./storeErrors.js";
import { WaiverRepository } from "./waiverRepository.js";

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

/** The event's message id was recorded by another transaction first: its effect is rolled back. */
class EventRecordedMeanwhile extends Error {}

function toRecord(row: Selectable<BusEvent>): BusEventRecord {
  return {
    ...row,
    status: row.status as BusEventStatus,
    receivedAt: fromStamp(row.receivedAt),
    updatedAt: fromStamp(row.updatedAt),
    parsed: row.parsed === 1,
  };
}

/** The row of an event recorded now. */
function rowOf(event: NewBusEvent, now: Date) {
  return { ...event, parsed: flag(event.parsed), receivedAt: stamp(now), updatedAt: stamp(now) };
}

export class BusEventRepository {
  /** What the bus observed besides the event log: written in the same transaction as an event. */
  readonly shadow: ShadowRepository;
  readonly kojiTags: KojiTagRepository;
  readonly waivers: WaiverRepository;
  /** releng/fedora-scm-requests tickets mirrored into the shadow repository (issue 17). */
  readonly scmTickets: ScmTicketRepository;

  /** issue 17 T: dist-git branches, Koji side tags, fedocal meetings. */
  readonly observed: ObservedRepository;

  constructor(private readonly store: Store) {
    this.shadow = new ShadowRepository(store);
    this.kojiTags = new KojiTagRepository(store);
    this.waivers = new WaiverRepository(store);
    this.scmTickets = new ScmTicketRepository(store);

    this.observed = new ObservedRepository(store);
  }

  async find(messageId: string): Promise<BusEventRecord | null> {
    const row = await this.store.read((tx) => tx.selectFrom("BusEvent").selectAll().where("messageId", "=", messageId).executeTakeFirst());
    return row ? toRecord(row) : null;
  }

  /**
   * Records a message seen for the first time; "duplicate" when its id is already recorded (the
   * delivery is then counted on the existing event).
   */
  async record(event: NewBusEvent, now = new Date()): Promise<"recorded" | "duplicate"> {
    return this.store.transaction(async (tx) => {
      const inserted = await tx
        .insertInto("BusEvent")
        .values(rowOf(event, now))
        .onConflict((c) => c.column("messageId").doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows !== 0n) return "recorded";
      await countDeliveryIn(tx, event.messageId, now);
      return "duplicate";
    });
  }

  /**
   * Applies a message's effect and records the event in one transaction, so the effect is
   * durable exactly when the event is (the consumer acks after this resolves). "duplicate" when
   * the message id was recorded meanwhile: the effect is rolled back with it. A race with
   * another ingest on the same state (ConcurrentShadowChange, ConcurrentTagChange, or a first
   * insert that lost on a unique key) retries the whole transaction on fresh state.
   */
  async recordWith(
    event: Pick<NewBusEvent, "messageId" | "topic" | "bareTopic" | "parsed" | "envelope">,
    apply: (tx: Tx) => Promise<BusEventOutcome>,
    now = new Date(),
  ): Promise<{ status: "recorded"; outcome: BusEventOutcome } | { status: "duplicate" }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.store.transaction(async (tx) => {
          const decided = await apply(tx);
          const inserted = await tx
            .insertInto("BusEvent")
            .values(rowOf({ ...event, ...decided }, now))
            .onConflict((c) => c.column("messageId").doNothing())
            .executeTakeFirst();
          if (inserted.numInsertedOrUpdatedRows === 0n) throw new EventRecordedMeanwhile(`bus event ${event.messageId} was recorded meanwhile`);
          return decided;
        });
        return { status: "recorded", outcome };
      } catch (err) {
        const raced = err instanceof EventRecordedMeanwhile || err instanceof ConcurrentShadowChange || err instanceof ConcurrentTagChange || isUniqueViolation(err);
        if (!raced) throw err;
        if (await this.countDelivery(event.messageId, now)) return { status: "duplicate" };
        if (attempt >= CONCURRENT_RETRIES) throw err;
      }
    }
  }

  /** One more delivery of a message already recorded. */
  async countDelivery(messageId: string, now = new Date()): Promise<BusEventRecord | null> {
    const row = await this.store.transaction((tx) => countDeliveryIn(tx, messageId, now));
    return row ? toRecord(row) : null;
  }

  async list(query: BusEventQuery): Promise<BusEventPage> {
    const rows = await this.store.read((tx) => {
      let q = tx.selectFrom("BusEvent").selectAll();
      if (query.status === "duplicate") q = q.where("deliveries", ">", 1);
      else if (query.status) q = q.where("status", "=", query.status);
      if (query.topic) q = "bare" in query.topic ? q.where("bareTopic", "=", query.topic.bare) : q.where("topic", "=", query.topic.full);
      if (query.cursor) q = q.where("seq", "<", decodeCursor(query.cursor));
      return q.orderBy("seq", "desc").limit(query.limit + 1).execute();
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(toRecord), nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null };
  }

  /** Counts per status (for summaries and tests). */
  async countByStatus(): Promise<Record<string, number>> {
    const groups = await this.store.read((tx) =>
      tx
        .selectFrom("BusEvent")
        .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
        .groupBy("status")
        .execute(),
    );
    return Object.fromEntries(groups.map((g) => [g.status, Number(g.n)]));
  }

  /** Waiting results about any of these NVRs, oldest first. */
  async waitingFor(nvrs: string[], limit = 500): Promise<BusEventRecord[]> {
    if (nvrs.length === 0) return [];
    const found: BusEventRecord[] = [];
    await this.store.read(async (tx) => {
      // The oldest `limit` of each chunk: together they hold the oldest `limit` of all. Besides
      // the list the statement binds the status and the limit.
      for (const chunk of chunksFor([...new Set(nvrs)], 1, 2)) {
        const rows = await tx.selectFrom("BusEvent").selectAll().where("status", "=", "waiting").where("nvr", "in", chunk).orderBy("seq").limit(limit).execute();
        found.push(...rows.map(toRecord));
      }
    });
    return found.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /** Waiting results whose build some artifact now carries (pushed by CI, or mirrored), oldest first. */
  async waitingWithArtifacts(limit = 500): Promise<BusEventRecord[]> {
    const built = await this.store.read(async (tx) => {
      const waiting = await tx.selectFrom("BusEvent").select("nvr").distinct().where("status", "=", "waiting").where("nvr", "is not", null).limit(5000).execute();
      const nvrs = waiting.map((w) => w.nvr).filter((n): n is string => n !== null);
      const out = new Set<string>();
      for (const chunk of chunksFor(nvrs, 1)) {
        for (const b of await tx.selectFrom("ArtifactBuild").select("nvr").distinct().where("nvr", "in", chunk).execute()) out.add(b.nvr);
      }
      return out;
    });
    if (built.size === 0) return [];
    return this.waitingFor([...built], limit);
  }

  /**
   * Settles a waiting event (its result was appended); false when it was no longer waiting
   * (another replica settled it first).
   */
  async settle(messageId: string, change: { status: BusEventStatus; reason: string; artifactId: string | null }, now = new Date()): Promise<boolean> {
    const result = await this.store.transaction((tx) =>
      tx
        .updateTable("BusEvent")
        .set({ status: change.status, reason: change.reason, artifactId: change.artifactId, updatedAt: stamp(now) })
        .where("messageId", "=", messageId)
        .where("status", "=", "waiting")
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }
}

/** Counts one more delivery on a recorded event; its row after, or undefined when none is recorded. */
function countDeliveryIn(tx: Tx, messageId: string, now: Date): Promise<Selectable<BusEvent> | undefined> {
  return tx
    .updateTable("BusEvent")
    .set((eb) => ({ deliveries: eb("deliveries", "+", 1), updatedAt: stamp(now) }))
    .where("messageId", "=", messageId)
    .returningAll()
    .executeTakeFirst();
}
