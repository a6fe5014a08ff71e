// The fedora-messaging consumer: a durable queue bound to a topic exchange, acks only after the effect is durable, reconnects with backoff.
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { AmqpDelivery } from "../domain/envelope.js";
import { BrokerLink, useExchange, type BrokerConnectionOptions, type LinkSetUp } from "./brokerLink.js";

export interface ConsumerOptions extends BrokerConnectionOptions {
  /** A topic exchange; fedora-messaging publishes to amq.topic. */
  exchange: string;
  /** Durable, shared by every replica (the broker hands each message to one of them). */
  queue: string;
  /** Binding keys: topics with their prefix, * and # wildcards. */
  topics: string[];
  /** Unacked messages the broker may send ahead; bounds memory and the redelivery after a drop. */
  prefetch: number;
  /**
   * Makes one message's effect durable (store, event log). Resolving means it may be acked; a
   * rejection means the store failed and the message must come again.
   */
  handle: (delivery: AmqpDelivery) => Promise<unknown>;
  /** Periodic work serialised with the messages (results waiting for their build). */
  sweep?: { run: () => Promise<unknown>; everyMs: number };
}

export interface ConsumerStats {
  /** Successful connections (the first one included). */
  connects: number;
  /** Connections lost (broker restart, server-side close, network) or dropped after a store failure. */
  disconnects: number;
  /** Messages whose effect was made durable and acked. */
  acked: number;
  /** Messages whose handling failed (left to the broker to redeliver). */
  failures: number;
}

/**
 * Messages are handled one at a time in delivery order (a build before the results about it),
 * while `prefetch` keeps the next ones in flight. A message is acked only after `handle`
 * resolved, on the channel it came on; if that channel is gone by then the broker redelivers it
 * and the event log recognises the duplicate.
 */
export class BusConsumer {
  private readonly link: BrokerLink;
  private stopping = false;
  private started = false;
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  readonly stats: ConsumerStats = { connects: 0, disconnects: 0, acked: 0, failures: 0 };

  constructor(private readonly opts: ConsumerOptions) {
    this.link = new BrokerLink(opts, { label: "bus", connectionName: "relengd" }, { setUp: (link) => this.setUp(link), onLost: (conn) => this.onLost(conn) });
  }

  /** Starts connecting in the background: a broker that is down delays the bus, not the server. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.opts.sweep) {
      const { run, everyMs } = this.opts.sweep;
      this.sweepTimer = setInterval(() => {
        this.chain = this.chain.then(() =>
          run().then(
            () => undefined,
            (err: unknown) => this.opts.logger.error({ err }, "bus: sweep of waiting results failed"),
          ),
        );
      }, everyMs);
      this.sweepTimer.unref();
    }
    this.link.start();
  }

  /** Resolves once consuming (now, if already). */
  whenConnected(): Promise<void> {
    if (this.channel && this.consumerTag) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once every message received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Stops consuming, lets messages already received finish (and be acked), then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.link.stop();
    clearInterval(this.sweepTimer);
    const { channel, consumerTag, connection } = this;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
    await this.chain;
    this.channel = undefined;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async setUp({ conn, watch, lost }: LinkSetUp): Promise<void> {
    const { logger, exchange, queue, topics, prefetch } = this.opts;
    const ch = watch(await conn.createChannel());
    await useExchange(ch, exchange);
    await ch.assertQueue(queue, { durable: true });
    for (const topic of topics) await ch.bindQueue(queue, exchange, topic);
    await ch.prefetch(prefetch);
    if (lost()) {
      await conn.close().catch(() => undefined);
      return;
    }
    // Current before consuming: the first deliveries may arrive before consume() resolves.
    this.connection = conn;
    this.channel = ch;
    const { consumerTag } = await ch.consume(queue, (msg) => this.receive(ch, conn, msg), { noAck: false });
    // Lost meanwhile (a reconnect is scheduled), or stop() ran and closed this connection.
    if (lost()) return;
    this.consumerTag = consumerTag;
    this.stats.connects++;
    logger.info({ exchange, queue, topics, prefetch, reconnect: this.stats.connects > 1 }, "bus: consuming");
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private onLost(conn: ChannelModel): void {
    if (this.connection !== conn) return;
    this.connection = undefined;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.stats.disconnects++;
  }

  private receive(ch: Channel, conn: ChannelModel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (the queue was deleted): reconnect, which declares it again.
      this.opts.logger.warn({ queue: this.opts.queue }, "bus: consumer cancelled by the broker");
      conn.close().catch(() => undefined);
      return;
    }
    this.chain = this.chain.then(() => this.process(ch, conn, msg));
  }

  private async process(ch: Channel, conn: ChannelModel, msg: ConsumeMessage): Promise<void> {
    // From a channel that is gone: unacked, so the broker has already put it back in the queue.
    if (this.channel !== ch) return;
    try {
      await this.opts.handle({
        routingKey: msg.fields.routingKey,
        content: msg.content,
        properties: {
          messageId: msg.properties.messageId,
          headers: msg.properties.headers,
          contentType: msg.properties.contentType,
          contentEncoding: msg.properties.contentEncoding,
        },
      });
    } catch (err) {
      // The effect is not durable (the store failed). Closing the connection returns every
      // unacked message to the queue, and the reconnect backoff paces the retries while the
      // store is down.
      this.stats.failures++;
      this.opts.logger.error({ err, routingKey: msg.fields.routingKey, messageId: msg.properties.messageId }, "bus: message not handled; it will be redelivered");
      if (this.channel === ch) this.channel = undefined;
      await conn.close().catch(() => undefined);
      return;
    }
    try {
      ch.ack(msg);
      this.stats.acked++;
      // Reset only here, not on connecting: while the store fails, each message drops the
      // connection again, and the backoff is what paces those retries.
      this.link.resetBackoff();
    } catch (err) {
      // The channel closed while the message was handled: the broker redelivers it, and the
      // event log answers "duplicate" without applying it again.
      this.opts.logger.warn({ err, messageId: msg.properties.messageId }, "bus: could not ack; the message will come again as a duplicate");
    }
  }
}
