// /api/v1/events: a fedora-messaging envelope over HTTP, through the same mapping as the bus; the event log.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { busEventStatuses } from "../../domain/busMapping.js";
import { envelopeSchema, MAX_MESSAGE_BYTES, MESSAGE_ID_PATTERN, splitTopic } from "../../domain/envelope.js";
import { ingestBusMessage, type BusDeps } from "../../flow/ingestBusMessage.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import type { BusEventRecord } from "../../store/busEventRepository.js";
import { invalid, notFound, unprocessable } from "../problem.js";
import { parseRequest } from "../request.js";

const listQuery = z.strictObject({
  status: z.enum([...busEventStatuses, "duplicate"]).optional(),
  topic: z.string().min(1).max(255).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(64).optional(),
});

const idParams = z.strictObject({
  id: z.string().regex(MESSAGE_ID_PATTERN, "must be a message id"),
});

/** What the API shows of an event; the envelope as received (or the raw content that did not parse). */
export function busEventView(event: BusEventRecord) {
  const { seq: _seq, parsed, envelope, ...rest } = event;
  return {
    ...rest,
    receivedAt: event.receivedAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
    ...(parsed ? { envelope: JSON.parse(envelope) as unknown } : { raw: envelope }),
  };
}

export async function eventRoutes(app: FastifyInstance, opts: { bus: BusDeps }): Promise<void> {
  const events = opts.bus.events;

  // The whole message is accepted (up to the bus's own limit), not just an artifact's worth.
  app.post("/api/v1/events", { config: { role: "admin" }, bodyLimit: MAX_MESSAGE_BYTES }, async (request, reply) => {
    const envelope = parseRequest(envelopeSchema, request.body, "body");
    const result = await ingestBusMessage(opts.bus, { ok: true, envelope });
    const stored = await events.find(result.messageId);
    const view = stored ? { ...busEventView(stored), outcome: result.outcome } : { ...result };
    if (result.outcome === "rejected") {
      throw unprocessable(`message ${result.messageId} rejected: ${result.reason}`, { event: view });
    }
    return reply.code(result.outcome === "duplicate" ? 200 : 201).send(view);
  });

  app.get("/api/v1/events", { config: { role: "reader" } }, async (request) => {
    const q = parseRequest(listQuery, request.query, "query");
    const topic = q.topic ? (splitTopic(q.topic).prefix ? { full: q.topic } : { bare: q.topic }) : undefined;
    try {
      const page = await events.list({
        ...(q.status ? { status: q.status } : {}),
        ...(topic ? { topic } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: q.limit,
      });
      return { items: page.items.map(busEventView), nextCursor: page.nextCursor };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw invalid("query", [{ path: "/cursor", message: err.message }]);
      throw err;
    }
  });

  app.get("/api/v1/events/:id", { config: { role: "reader" } }, async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const event = await events.find(id);
    if (!event) throw notFound(`no event with message id ${id}`);
    return busEventView(event);
  });
}
