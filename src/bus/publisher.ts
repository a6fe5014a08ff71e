// The fedora-messaging publisher: sends the outbox's messages to a topic exchange on a confirm
// channel, marks them published once the broker confirmed them, reconnects with backoff.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { parseEnvelopeJson, renderAmqp, splitTopic, type TopicPrefix } from "../domain/envelope.js";
import { Drain } from "../concurrency/index.js";
import type { StoredOutboxMessage } from "../store/busOutboxRepository.js";
import { BrokerLink, useExchange, type BrokerConnectionOptions, type LinkSetUp } from "./brokerLink.js";

export interface PublisherOptions extends BrokerConnectionOptions {
  /** A topic exchange; fedora-messaging publishes to amq.topic. */
  exchange: string;
  /** Messages sent per confirm round. */
  batchSize?: number;
  /** How often the outbox is looked at without being told (messages stored by other replicas). */
  pollMs?: number;
  /**
   * fedora-messaging's topic_prefix: `org.fedoraproject.prod.` makes relengd.release.pushed
   * org.fedoraproject.prod.relengd.release.pushed, as Fedora's own services publish. Applied
   * when sent, so the outbox keeps bare topics and a changed prefix applies to what is pending.
   */
  topicPrefix?: TopicPrefix;
}

/** Where the messages to publish are kept until the broker has them. */
export interface Outbox {
  unpublished(limit: number): Promise<StoredOutboxMessage[]>;
  markPublished(seqs: number[]): Promise<void>;
  countAttempt(seqs: number[]): Promise<void>;
}

export interface PublisherStats {
  connects: number;
  disconnects: number;
  /** Messages the broker confirmed. */
  published: number;
}

/**
 * At least once: a message is marked published only after the broker confirmed it, so a
 * connection lost between sending and confirming sends it again (with the same message id, so
 * that consumers recognise it). A stored message that is not a valid envelope any more is
 * logged and marked, never retried forever.
 */
export class BusPublisher {
  private readonly batchSize: number;
  private readonly link: BrokerLink;
  private connection: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private started = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly sending: Drain;
  readonly stats: PublisherStats = { connects: 0, disconnects: 0, published: 0 };

  constructor(
    private readonly opts: PublisherOptions,
    private readonly outbox: Outbox,
  ) {
    this.batchSize = opts.batchSize ?? 100;
    this.sending = new Drain(() => this.sendUnpublished(), {
      onError: (err) => this.opts.logger.warn({ err }, "bus publisher: messages not confirmed; they are sent again after reconnecting"),
    });
    this.link = new BrokerLink(opts, { label: "bus publisher", connectionName: "relengd-publisher" }, { setUp: (link) => this.setUp(link), onLost: (conn) => this.onLost(conn) });
  }

  /** Connects in the background: a broker that is down delays the messages, not the server. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pollTimer = setInterval(() => this.wake(), this.opts.pollMs ?? 2000);
    this.pollTimer.unref();
    this.link.start();
  }

  /** Messages were added to the outbox. */
  wake(): void {
    if (!this.channel) return;
    this.sending.wake();
  }

  /** Resolves when nothing is being sent. */
  idle(): Promise<void> {
    return this.sending.settled();
  }

  async stop(): Promise<void> {
    const stopped = this.sending.stop();
    this.link.stop();
    clearInterval(this.pollTimer);
    await stopped;
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => undefined);
  }

  /** One drain pass: batches until the outbox is empty; false when there is no channel to send on. */
  private async sendUnpublished(): Promise<boolean> {
    for (;;) {
      const channel = this.channel;
      if (!channel || this.sending.stopped) return false;
      const batch = await this.outbox.unpublished(this.batchSize);
      if (batch.length === 0) return true;
      await this.outbox.countAttempt(batch.map((m) => m.seq));
      const sent: number[] = [];
      for (const message of batch) {
        const envelope = parseEnvelopeJson(message.envelope);
        if (!envelope.ok) {
          this.opts.logger.error({ seq: message.seq, issues: envelope.issues }, "bus publisher: stored message is not an envelope; dropped");
          sent.push(message.seq);
          continue;
        }
        const prefix = this.opts.topicPrefix;
        const out = renderAmqp(prefix ? { ...envelope.value, topic: prefix + splitTopic(envelope.value.topic).topic } : envelope.value);
        const accepted = channel.publish(this.opts.exchange, out.routingKey, Buffer.from(out.content), { ...out.properties, timestamp: Math.floor(Date.now() / 1000) });
        sent.push(message.seq);
        // The channel's buffer is full: let the socket catch up before sending more.
        if (!accepted) {
          await new Promise<void>((resolve) => {
            channel.once("drain", () => resolve());
            // Closed instead: waitForConfirms below fails, and the batch is sent again later.
            channel.once("close", () => resolve());
          });
        }
      }
      await channel.waitForConfirms();
      await this.outbox.markPublished(sent);
      this.stats.published += sent.length;
    }
  }

  private async setUp({ conn, watch, lost }: LinkSetUp): Promise<void> {
    const ch = watch(await conn.createConfirmChannel());
    await useExchange(ch, this.opts.exchange);
    if (lost()) {
      await conn.close().catch(() => undefined);
      return;
    }
    this.connection = conn;
    this.channel = ch;
    this.stats.connects++;
    this.link.resetBackoff();
    this.opts.logger.info({ exchange: this.opts.exchange, reconnect: this.stats.connects > 1 }, "bus publisher: connected");
    this.wake();
  }

  private onLost(conn: ChannelModel): void {
    if (this.connection !== conn) return;
    this.connection = undefined;
    this.channel = undefined;
    this.stats.disconnects++;
  }
}
