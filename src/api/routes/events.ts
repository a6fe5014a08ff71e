// /api/v1/events: a fedora-messaging envelope over HTTP, through the same mapping as the bus; the event log.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { busEventStatuses, busOutcomes } from "../../domain/busMapping.js";
import { envelopeInputSchema, envelopeSchema, MAX_MESSAGE_BYTES, MESSAGE_ID_PATTERN, splitTopic } from "../../domain/envelope.js";
import { ingestBusMessage, type BusDeps } from "../../flow/ingestBusMessage.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import type { BusEventRecord } from "../../store/busEventRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { invalid, notFound, problemResponse, problemResponses, unprocessable } from "../problem.js";

const listQuery = z.strictObject({
  status: z.enum([...busEventStatuses, "duplicate"]).optional().meta({ description: "`duplicate`: events delivered more than once" }),
  topic: wellFormedString().min(1).max(255).optional().meta({ description: "With a broker prefix it matches the full topic, without one the bare topic" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: wellFormedString().min(1).max(64).optional().meta({ description: "`nextCursor` of the previous page" }),
});

const idParams = z.strictObject({
  id: wellFormedString().regex(MESSAGE_ID_PATTERN, "must be a message id"),
});

const timestamp = z.iso.datetime();

const busEventSchema = z
  .strictObject({
    messageId: wellFormedString(),
    topic: wellFormedString(),
    bareTopic: wellFormedString().meta({ description: "The topic without its broker prefix" }),
    status: z.enum(busEventStatuses),
    reason: wellFormedString(),
    artifactId: wellFormedString().nullable(),
    nvr: wellFormedString().nullable(),
    deliveries: z.number().int().meta({ description: "How many times the message arrived" }),
    receivedAt: timestamp,
    updatedAt: timestamp,
    envelope: envelopeSchema.optional().meta({ description: "The message, when it parsed as an envelope" }),
    raw: wellFormedString().optional().meta({ description: "What arrived, when it did not parse" }),
  })
  .meta({ id: "BusEvent", description: "A bus message as received and what became of it" });

const outcome = z.enum(busOutcomes).meta({ description: "What this delivery did: `duplicate` when the message was seen before" });
// The event as stored, or (when it is no longer there to read back) what the ingest said of it.
const ingestedSchema = z.union([
  busEventSchema.extend({ outcome }),
  z.strictObject({ messageId: wellFormedString(), topic: wellFormedString(), bareTopic: wellFormedString(), outcome, reason: wellFormedString(), artifactId: wellFormedString().nullable() }),
]);

/** What the API shows of an event; the envelope as received (or the raw content that did not parse). */
export function busEventView(event: BusEventRecord) {
  const { seq: _seq, parsed, envelope, ...rest } = event;
  return {
    ...rest,
    receivedAt: event.receivedAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
    ...(parsed ? { envelope: JSON.parse(envelope) as z.output<typeof envelopeSchema> } : { raw: envelope }),
  };
}

export function eventRoutes(app: FastifyInstance, opts: { bus: BusDeps }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const events = opts.bus.events;
  const tags = ["events"];

  // The whole message is accepted (up to the bus's own limit), not just an artifact's worth.
  api.post(
    "/api/v1/events",
    {
      config: { role: "admin" },
      bodyLimit: MAX_MESSAGE_BYTES,
      schema: {
        operationId: "ingestEvent",
        summary: "Ingest a fedora-messaging message",
        description:
          "The JSON form of a message (`id`, `topic`, `headers`, `body`) goes through the same mapping as one consumed from the bus. Top-level keys starting with `_` (a captured fixture's `_source`) are ignored, as `relengd bus replay` ignores them; any other unknown key is refused. A message id seen before is a duplicate and is not applied again.",
        tags,
        body: envelopeInputSchema,
        response: {
          200: jsonResponse("A duplicate: received before, not applied again", ingestedSchema),
          201: jsonResponse("Recorded and applied: accepted, waiting, deferred or ignored", ingestedSchema),
          422: problemResponse(422, "The mapping rejected the message (`event` says why); it is recorded as rejected"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const result = await ingestBusMessage(opts.bus, { ok: true, envelope: request.body });
      const stored = await events.find(result.messageId);
      const view = stored ? { ...busEventView(stored), outcome: result.outcome } : { ...result };
      if (result.outcome === "rejected") {
        throw unprocessable("message-rejected", `message ${result.messageId} rejected: ${result.reason}`, { event: view });
      }
      return reply.code(result.outcome === "duplicate" ? 200 : 201).send(view);
    },
  );

  api.get(
    "/api/v1/events",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listEvents",
        summary: "List bus events",
        description: "Newest first; pages follow `nextCursor`.",
        tags,
        querystring: listQuery,
        response: {
          200: jsonResponse("A page of events, newest first", z.strictObject({ items: z.array(busEventSchema), nextCursor: wellFormedString().nullable() })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const q = request.query;
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
    },
  );

  api.get(
    "/api/v1/events/:id",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getEvent",
        summary: "Show a bus event",
        tags,
        params: idParams,
        response: { 200: jsonResponse("The event", busEventSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const event = await events.find(id);
      if (!event) throw notFound(`no event with message id ${id}`);
      return busEventView(event);
    },
  );
  return Promise.resolve();
}
