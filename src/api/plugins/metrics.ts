// Prometheus metrics: the one registry relengd exposes at GET /metrics, and the metrics in it.
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Counter, Registry } from "prom-client";
import type { BusOutcome } from "../../domain/busMapping.js";

/**
 * Topics come from the bus (and from POST /api/v1/events): past this many distinct ones, new
 * topics are counted under "other" so that a stream of odd routing keys cannot grow the
 * metric without bound.
 */
export const MAX_TOPIC_LABELS = 200;

export class Metrics {
  /** Add further metrics to this registry (one per process, never prom-client's global one). */
  readonly registry = new Registry();
  private readonly busMessages = new Counter({
    name: "relengd_bus_messages_total",
    help: "Messages consumed from the Fedora message bus (and POST /api/v1/events), by topic without its prefix and outcome",
    labelNames: ["topic", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly topics = new Set<string>();

  /** One message consumed: accepted, waiting, deferred, ignored, rejected or duplicate. */
  readonly countBusMessage = (topic: string, outcome: BusOutcome): void => {
    if (!this.topics.has(topic) && this.topics.size < MAX_TOPIC_LABELS) this.topics.add(topic);
    this.busMessages.inc({ topic: this.topics.has(topic) ? topic : "other", outcome });
  };
}

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** GET /metrics (no token, as Prometheus scrapes it) in the Prometheus text format. */
export const metricsPlugin = fp(async (app: FastifyInstance, opts: { metrics: Metrics }) => {
  app.decorate("metrics", opts.metrics);
  app.get("/metrics", async (_request, reply) => {
    const text = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(text);
  });
});
