// A real RabbitMQ for tests (TEST_AMQP_URL): a publisher as fedora-messaging publishes, queue clean-up, and closing a connection from the server side.
import { execFileSync } from "node:child_process";
import { connect, type ConfirmChannel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { parseAmqp, renderAmqp, type Envelope, type HeaderValue } from "../../src/domain/envelope.js";

/** The broker the RabbitMQ suites run against; unset, they are skipped (global-setup says so). */
export const amqpUrl = process.env.TEST_AMQP_URL;

/**
 * Every message a test publishes carries this header with the test run's id: the broker may be
 * shared (other test runs publish the same Fedora topics to amq.topic), and a test counts only
 * its own messages.
 */
export const TEST_RUN_HEADER = "x-relengd-test-run";

export interface Publisher {
  /** Publishes an envelope the way fedora-messaging does (routing key = topic, persistent). */
  publish(envelope: Envelope, extraHeaders?: Record<string, HeaderValue>): void;
  /** Publishes arbitrary bytes and properties (broken messages). */
  publishRaw(routingKey: string, content: Buffer, properties: { messageId?: string; headers?: Record<string, HeaderValue>; contentType?: string }): void;
  /** Resolves once the broker confirmed everything published so far. */
  confirmed(): Promise<void>;
  close(): Promise<void>;
}

export async function openPublisher(url: string, exchange = "amq.topic"): Promise<Publisher> {
  const connection: ChannelModel = await connect(url);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  return {
    publish(envelope, extraHeaders = {}) {
      const out = renderAmqp(envelope);
      channel.publish(exchange, out.routingKey, Buffer.from(out.content), { ...out.properties, headers: { ...out.properties.headers, ...extraHeaders } });
    },
    publishRaw(routingKey, content, properties) {
      channel.publish(exchange, routingKey, content, { ...properties, deliveryMode: 2 });
    },
    confirmed: () => channel.waitForConfirms(),
    async close() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

export async function deleteQueue(url: string, queue: string): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Whether `rabbitmqctl` can talk to the local broker (it must run on the broker's host, as root or rabbitmq). */
export function rabbitmqctlWorks(): boolean {
  try {
    execFileSync("rabbitmqctl", ["-q", "list_connections", "pid"], { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Closes, from the broker's side, the connections whose client named itself `name`
 * (amqplib's clientProperties.connection_name): what a broker restart or an operator's
 * `rabbitmqctl close_connection` does to a consumer. Only those connections, not every one on a
 * shared broker as `close_all_connections` would. Returns how many were closed.
 */
export function closeConnectionsNamed(name: string, reason = "relengd test: server-side close"): number {
  const listing = execFileSync("rabbitmqctl", ["-q", "list_connections", "pid", "client_properties"], { encoding: "utf8", timeout: 30_000 });
  const pids = listing
    .split("\n")
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split("\t")[0] as string);
  for (const pid of pids) execFileSync("rabbitmqctl", ["-q", "close_connection", pid, reason], { stdio: "ignore", timeout: 30_000 });
  return pids.length;
}

/** A queue of the test's own bound to `bindingKey` on amq.topic: what a subscriber to relengd's messages sees. */
export async function subscribe(url: string, queue: string, bindingKey: string): Promise<{ received: Envelope[]; close(): Promise<void> }> {
  const connection: ChannelModel = await connect(url);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, "amq.topic", bindingKey);
  const received: Envelope[] = [];
  await channel.consume(
    queue,
    (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const parsed = parseAmqp({ routingKey: msg.fields.routingKey, content: msg.content, properties: msg.properties });
      if (parsed.ok) received.push(parsed.value);
    },
    { noAck: true },
  );
  return {
    received,
    async close() {
      await connection.close().catch(() => undefined);
    },
  };
}
