// One broker connection at a time, for the consumer or the publisher: connected with a timeout,
// lost once however many times the connection and its channel report it, and made again with
// backoff until stopped.
import { connect, type Channel, type ChannelModel } from "amqplib";
import type { Logger } from "pino";
import { backoff } from "../concurrency/index.js";

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/** What a set-up step gets: the new connection, and the means to watch its channel. */
export interface LinkSetUp {
  conn: ChannelModel;
  /** A channel whose close means the link is lost (a broker's channel-level error leaves its connection open). */
  watch: <C extends Channel>(channel: C) => C;
  /** The link was lost (or stopped) while being set up: close and give up. */
  lost: () => boolean;
}

/** What the consumer's and the publisher's options say about their connection. */
export interface BrokerConnectionOptions {
  url: string;
  logger: Logger;
  /** Reconnect delays: initialMs doubling up to maxMs, ±20% jitter. */
  backoff?: Backoff;
  /** Shown by `rabbitmqctl list_connections client_properties` (and in the management UI). */
  connectionName?: string;
}

/** The owner of a link: what it sets up on each new connection, and forgets when it is lost. */
export interface LinkOwner {
  /** Opens the channel and declares what it needs; a throw counts as a loss. */
  setUp(link: LinkSetUp): Promise<void>;
  /** The connection is lost: forget whatever refers to it (it may not have been set up). */
  onLost(conn: ChannelModel): void;
}

export class BrokerLink {
  private attempt = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly delayMs: (retry: number) => number;
  private readonly connectionName: string;
  /** Names the owner in log lines: "bus", "bus publisher". */
  private readonly label: string;

  constructor(
    private readonly opts: BrokerConnectionOptions,
    defaults: { label: string; connectionName: string },
    private readonly owner: LinkOwner,
  ) {
    this.label = defaults.label;
    const { initialMs, maxMs } = opts.backoff ?? DEFAULT_BACKOFF;
    this.delayMs = backoff({ firstMs: initialMs, maxMs, jitter: 0.2 });
    this.connectionName = opts.connectionName ?? defaults.connectionName;
  }

  start(): void {
    void this.connectOnce();
  }

  /** No more reconnecting; closing the current connection is the owner's, after its own draining. */
  stop(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  /** Backoff starts over (after the link proved to work). */
  resetBackoff(): void {
    this.attempt = 0;
  }

  private async connectOnce(): Promise<void> {
    if (this.stopping) return;
    const { logger } = this.opts;
    const { label } = this;
    let conn: ChannelModel;
    try {
      // timeout: a broker that drops packets fails the attempt instead of hanging it.
      conn = await connect(this.opts.url, { clientProperties: { connection_name: this.connectionName }, timeout: 10_000 });
    } catch (err) {
      this.scheduleReconnect(err);
      return;
    }
    if (this.stopping) {
      await conn.close().catch(() => undefined);
      return;
    }
    // The connection and its channel each report loss once or more; the first report wins.
    let lost = false;
    const lose = (why: string, err?: unknown) => {
      if (lost) return;
      lost = true;
      this.owner.onLost(conn);
      conn.close().catch(() => undefined);
      if (!this.stopping) this.scheduleReconnect(err ?? new Error(why));
    };
    conn.on("error", (err: Error) => logger.warn({ err }, `${label}: connection error`));
    conn.on("close", (err?: Error) => lose("connection closed", err));
    const watch = <C extends Channel>(channel: C): C => {
      channel.on("error", (err: Error) => logger.warn({ err }, `${label}: channel error`));
      channel.on("close", () => lose("channel closed"));
      return channel;
    };
    try {
      await this.owner.setUp({ conn, watch, lost: () => lost || this.stopping });
    } catch (err) {
      lose("setup failed", err);
    }
  }

  private scheduleReconnect(err: unknown): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    const delay = this.delayMs(this.attempt);
    this.attempt++;
    this.opts.logger.warn({ err, attempt: this.attempt, delayMs: delay }, `${this.label}: disconnected; reconnecting`);
    this.timer = setTimeout(() => void this.connectOnce(), delay);
  }
}

/** The amq.* exchanges exist on every broker and may not be declared by clients. */
export async function useExchange(channel: Channel, exchange: string): Promise<void> {
  if (exchange.startsWith("amq.")) await channel.checkExchange(exchange);
  else await channel.assertExchange(exchange, "topic", { durable: true });
}
