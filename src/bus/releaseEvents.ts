// Release outcomes as bus messages: what the writer and the queue report becomes relengd.release.*
// messages in the outbox, from where the publisher sends them.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { Drain } from "../concurrency/index.js";
import { renderEnvelopeJson } from "../domain/envelope.js";
import type { BatchResult } from "../gitops/writer.js";
import type { AnnouncedRelease, BusOutboxRepository, OutboxMessage } from "../store/busOutboxRepository.js";
import { RELEASE_STATUS } from "../domain/release.js";
import { isAnnouncedOutcome, releaseTopic, renderReleaseMessage, type AnnouncedStatus } from "./releaseMessage.js";

/** What the release flow and the writer tell about releases; the bus announces it. */
export interface ReleaseEvents {
  /** Releases were queued (the announcer finds which in the store). */
  queued(): void;
  /** A writer batch ended: its releases were pushed, blocked, superseded or failed an attempt. */
  written(result: BatchResult): void;
  /** The repoclosure gate blocked releases before the writer saw them. */
  blockedAtGate(ids: string[]): void;
}

export interface ReleaseAnnouncerOptions {
  /** How often the store is looked at for releases queued by anyone (other replicas, policies). */
  pollMs: number;
  /** Releases read per look. */
  batchSize: number;
  /** Published messages are forgotten after this long (looked at hourly). */
  keepPublishedMs: number;
}

/**
 * Queued releases are found in the store by queue order, so releases queued by other replicas
 * or while the bus was down are announced too. A release's final outcome comes from the
 * writer's batch result, read back from the store (an attempt that failed but will be retried
 * is not `failed` yet). Each (release, outcome) is stored once in the outbox: announcing twice
 * is harmless, and a release the queue scan has not reached yet is announced queued first.
 */
export class ReleaseAnnouncer implements ReleaseEvents {
  private readonly options: ReleaseAnnouncerOptions;
  private cursor = 0;
  /** Every store write, one at a time in the order told. */
  private chain: Promise<void> = Promise.resolve();
  /** The scan for queued releases: each pass runs in its turn on the chain. */
  private readonly scan = new Drain(() => this.serial(() => this.announceQueued()), { onError: (err) => this.failed(err) });
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: { outbox: BusOutboxRepository; logger: Logger; /** Something was added to the outbox. */ added?: () => void },
    options: Partial<ReleaseAnnouncerOptions> = {},
  ) {
    this.options = { pollMs: 1000, batchSize: 500, keepPublishedMs: 7 * 24 * 3600 * 1000, ...options };
  }

  /** Resumes after the last release announced; a first start announces only releases queued from now on. */
  async start(): Promise<void> {
    this.cursor = (await this.deps.outbox.lastAnnouncedReleaseSeq()) ?? (await this.deps.outbox.lastReleaseSeq());
    this.timer = setInterval(() => this.queued(), this.options.pollMs);
    this.timer.unref();
    this.pruneTimer = setInterval(() => this.enqueue(async () => void (await this.deps.outbox.prunePublished(new Date(Date.now() - this.options.keepPublishedMs)))), 3_600_000);
    this.pruneTimer.unref();
  }

  queued(): void {
    if (this.stopped) return;
    this.scan.wake();
  }

  private async announceQueued(): Promise<void> {
    for (;;) {
      const releases = await this.deps.outbox.releasesAfter(this.cursor, this.options.batchSize);
      if (releases.length === 0) return;
      await this.announce(releases.map((r) => [r, RELEASE_STATUS.queued]));
      this.cursor = Math.max(this.cursor, ...releases.map((r) => r.seq));
    }
  }

  written(result: BatchResult): void {
    const ids = [...result.pushed.map((p) => p.id), ...result.blocked, ...result.failed];
    if (ids.length === 0 || this.stopped) return;
    this.enqueue(async () => {
      const releases = await this.deps.outbox.releasesByIds(ids);
      const announced: [AnnouncedRelease, AnnouncedStatus][] = [];
      for (const r of releases) if (isAnnouncedOutcome(r.status)) announced.push([r, RELEASE_STATUS.queued], [r, r.status]);
      await this.announce(announced);
    });
  }

  blockedAtGate(ids: string[]): void {
    // The same announcement as a writer's block: relengd.release.blocked with the reason.
    this.written({ repository: "", pushed: [], superseded: [], blocked: ids, failed: [] });
  }

  /** Resolves once everything told so far is in the outbox. */
  async settled(): Promise<void> {
    // A scan pass joins the chain when it starts: wait for the scan, then for the chain, until neither has more.
    do {
      await this.scan.settled();
      await this.chain;
    } while (this.scan.busy);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    await this.scan.stop();
    await this.chain;
  }

  /** Runs `work` after everything chained before it; its failure is the caller's to report. */
  private serial(work: () => Promise<void>): Promise<void> {
    const done = this.chain.then(work);
    this.chain = done.catch(() => undefined);
    return done;
  }

  private enqueue(work: () => Promise<void>): void {
    this.serial(work).catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.deps.logger.error({ err }, "release announcements not stored; the next poll tries again");
  }

  private async announce(items: (readonly [AnnouncedRelease, AnnouncedStatus])[]): Promise<void> {
    if (items.length === 0) return;
    const now = new Date();
    const messages: OutboxMessage[] = items.map(([release, status]) => {
      const id = randomUUID();
      return {
        key: `${release.id}/${status}`,
        messageId: id,
        releaseSeq: release.seq,
        topic: releaseTopic(status),
        envelope: renderEnvelopeJson(renderReleaseMessage(release, status, id, now)),
      };
    });
    if ((await this.deps.outbox.add(messages, now)) > 0) this.deps.added?.();
  }
}

/** Writer deps that also tell `events` each batch's outcome, after whatever they told before. */
export function announcingWrites<T extends { onWritten?: (result: BatchResult) => void }>(deps: T, events: ReleaseEvents | undefined): T {
  if (!events) return deps;
  const before = deps.onWritten;
  return {
    ...deps,
    onWritten: (result: BatchResult) => {
      before?.(result);
      events.written(result);
    },
  };
}
