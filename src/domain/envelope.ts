// The fedora-messaging envelope (id, topic, headers, JSON body): parsed from an AMQP delivery or its JSON form, rendered back to both.
import { createHash } from "node:crypto";
import { z } from "zod";
import { wellFormedString, describeValue } from "./text.js";
import { parseWith, type FieldIssue, type Parsed } from "./artifact.js";
import { jsonTextDepthIssue, jsonValueIssue } from "./jsonInput.js";

/**
 * The prefixes Fedora's and CentOS's brokers put in front of a topic (fedora-messaging's
 * `topic_prefix`). Longest first is not needed: none is a prefix of another.
 */
export const TOPIC_PREFIXES = ["org.fedoraproject.prod.", "org.fedoraproject.stg.", "org.centos.prod.", "org.centos.stage."] as const;
export type TopicPrefix = (typeof TOPIC_PREFIXES)[number];

/** Larger messages are refused before they are decoded (Koji's biggest are tens of KiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** fedora-messaging's own headers (fedora_messaging/message.py). */
export const SENT_AT_HEADER = "sent-at";
export const SCHEMA_HEADER = "fedora_messaging_schema";

export type HeaderValue = string | number | boolean | null | HeaderValue[] | { [key: string]: HeaderValue };

export interface Envelope {
  /** The message id (AMQP `message_id`; a UUID on today's bus). */
  id: string;
  /** The topic as published, prefix included; it is also the AMQP routing key. */
  topic: string;
  headers: Record<string, HeaderValue>;
  body: Record<string, unknown>;
}

/** What an AMQP client hands over for one message, reduced to what the envelope needs. */
export interface AmqpDelivery {
  routingKey: string;
  content: Uint8Array;
  properties: {
    messageId?: unknown;
    headers?: unknown;
    contentType?: unknown;
    contentEncoding?: unknown;
  };
}

/** What to publish for an envelope: the AMQP routing key, body bytes and message properties. */
export interface AmqpPublication {
  routingKey: string;
  content: Uint8Array;
  properties: {
    messageId: string;
    headers: Record<string, HeaderValue>;
    contentType: "application/json";
    contentEncoding: "utf-8";
    /** 2 = persistent, as fedora-messaging publishes. */
    deliveryMode: 2;
  };
}

export const MESSAGE_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;
// AMQP routing keys are at most 255 bytes; topic words are letters, digits, _, + and -.
const TOPIC_PATTERN = /^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*$/;

const headersSchema = z
  .record(wellFormedString().min(1).max(255), z.json())
  .superRefine((headers, ctx) => {
    const sentAt = headers[SENT_AT_HEADER];
    if (sentAt !== undefined && (typeof sentAt !== "string" || Number.isNaN(Date.parse(sentAt)))) {
      ctx.addIssue({ code: "custom", path: [SENT_AT_HEADER], message: "must be an ISO 8601 time" });
    }
    const schema = headers[SCHEMA_HEADER];
    if (schema !== undefined && typeof schema !== "string") {
      ctx.addIssue({ code: "custom", path: [SCHEMA_HEADER], message: "must be a schema name" });
    }
  });

export const envelopeSchema = z.strictObject({
  id: wellFormedString().regex(MESSAGE_ID_PATTERN, "must be a message id of 1-255 printable characters without spaces"),
  topic: wellFormedString().max(255).regex(TOPIC_PATTERN, "must be a dotted topic like org.fedoraproject.prod.buildsys.tag"),
  headers: headersSchema.default({}),
  body: z.record(wellFormedString(), z.unknown(), "must be a JSON object"),
});

/**
 * Top-level keys of the JSON form that start with this are annotations beside the message (a
 * fixture's `_source`: where and when it was captured), not part of it: they are dropped before
 * the envelope is checked. Any other key the envelope does not know is refused.
 */
export const ANNOTATION_PREFIX = "_";

/** The JSON form without its annotations; anything that is not an object is left to the schema to refuse. */
export function withoutAnnotations(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).filter(([key]) => !key.startsWith(ANNOTATION_PREFIX)));
}

/**
 * The JSON form as it is accepted (`relengd bus replay`, POST /api/v1/events): annotations
 * dropped, then the envelope's own fields, nothing else.
 */
export const envelopeInputSchema = z.preprocess(withoutAnnotations, envelopeSchema).meta({
  description: `A fedora-messaging message: \`id\`, \`topic\`, \`headers\`, \`body\`. Top-level keys starting with \`${ANNOTATION_PREFIX}\` (a captured fixture's \`_source\`) are annotations and are ignored; any other unknown key is refused.`,
});

/** Validates the JSON form (`{id, topic, headers, body}`) used by fixtures and POST /api/v1/events. */
export function parseEnvelope(input: unknown): Parsed<Envelope> {
  // The headers' and the body's nesting is bounded first: zod's z.json() and JSON.stringify recurse.
  if (typeof input === "object" && input !== null) {
    for (const part of ["headers", "body"] as const) {
      const issue = jsonValueIssue((input as Record<string, unknown>)[part]);
      if (issue) return fail(`/${part}${issue.path === "/" ? "" : issue.path}`, issue.message);
    }
  }
  const parsed = parseWith(envelopeInputSchema, input);
  return parsed.ok ? { ok: true, value: parsed.value } : parsed;
}

/** The JSON form's text. */
export function renderEnvelopeJson(envelope: Envelope): string {
  return JSON.stringify({ id: envelope.id, topic: envelope.topic, headers: envelope.headers, body: envelope.body });
}

export function parseEnvelopeJson(text: string): Parsed<Envelope> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, issues: [{ path: "/", message: `not JSON: ${(err as Error).message}` }] };
  }
  return parseEnvelope(raw);
}

/** The envelope as fedora-messaging publishes it: routing key = topic, JSON body, id and headers as properties. */
export function renderAmqp(envelope: Envelope): AmqpPublication {
  return {
    routingKey: envelope.topic,
    content: new TextEncoder().encode(JSON.stringify(envelope.body)),
    properties: {
      messageId: envelope.id,
      headers: envelope.headers,
      contentType: "application/json",
      contentEncoding: "utf-8",
      deliveryMode: 2,
    },
  };
}

// Where each envelope field comes from in a delivery, for problems that name the AMQP field.
const DELIVERY_PATHS: Record<string, string> = {
  "/id": "/properties/messageId",
  "/topic": "/routingKey",
  "/headers": "/properties/headers",
  "/body": "/content",
};

function deliveryPath(path: string): string {
  for (const [from, to] of Object.entries(DELIVERY_PATHS)) {
    if (path === from || path.startsWith(from + "/")) return to + path.slice(from.length);
  }
  return path;
}

/** Parses an AMQP delivery; a problem names the AMQP field (`/properties/messageId`, `/content`). */
export function parseAmqp(delivery: AmqpDelivery): Parsed<Envelope> {
  const { content, properties } = delivery;
  if (content.byteLength > MAX_MESSAGE_BYTES) {
    return fail("/content", `is ${content.byteLength} bytes, more than the ${MAX_MESSAGE_BYTES} accepted`);
  }
  const encoding = properties.contentEncoding;
  if (encoding !== undefined && encoding !== null && !(typeof encoding === "string" && /^utf-?8$/i.test(encoding))) {
    return fail("/properties/contentEncoding", `is ${describeValue(encoding)}; fedora-messaging bodies are utf-8`);
  }
  const type = properties.contentType;
  if (type !== undefined && type !== null && !(typeof type === "string" && /^application\/json\b/i.test(type))) {
    return fail("/properties/contentType", `is ${describeValue(type)}; fedora-messaging bodies are application/json`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    return fail("/content", "is not valid UTF-8");
  }
  const depth = jsonTextDepthIssue(text);
  if (depth) return fail(`/content${depth.path === "/" ? "" : depth.path}`, depth.message);
  const headerDepth = jsonValueIssue(properties.headers);
  if (headerDepth) return fail(`/properties/headers${headerDepth.path === "/" ? "" : headerDepth.path}`, headerDepth.message);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return fail("/content", `is not JSON: ${(err as Error).message}`);
  }
  const parsed = parseEnvelope({
    id: properties.messageId ?? undefined,
    topic: delivery.routingKey,
    headers: properties.headers === undefined || properties.headers === null ? {} : normalizeHeaders(properties.headers),
    body,
  });
  if (parsed.ok) return parsed;
  return { ok: false, issues: parsed.issues.map((i) => ({ ...i, path: deliveryPath(i.path) })) };
}

function fail(path: string, message: string): { ok: false; issues: FieldIssue[] } {
  return { ok: false, issues: [{ path, message }] };
}

/**
 * AMQP header tables as an AMQP client decodes them, made JSON: byte strings become text,
 * 64-bit integers numbers (or text when they do not fit a double).
 */
export function normalizeHeaders(value: unknown): HeaderValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalizeHeaders);
  if (typeof value === "object") {
    const out: Record<string, HeaderValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeHeaders(v);
    return out;
  }
  return describeValue(value);
}

/**
 * A stable key for a delivery that has no usable message id: the same bytes on the same
 * routing key give the same key, so a redelivered broken message is still recognised.
 */
export function deliveryKey(delivery: Pick<AmqpDelivery, "routingKey" | "content">): string {
  return "sha256:" + createHash("sha256").update(delivery.routingKey).update("\n").update(delivery.content).digest("hex");
}

export interface TopicParts {
  /** The broker prefix, or null when the topic had none of the known ones. */
  prefix: TopicPrefix | null;
  /** The topic without it: `buildsys.build.state.change`. */
  topic: string;
}

export function splitTopic(topic: string): TopicParts {
  for (const prefix of TOPIC_PREFIXES) {
    if (topic.startsWith(prefix) && topic.length > prefix.length) return { prefix, topic: topic.slice(prefix.length) };
  }
  return { prefix: null, topic };
}

export function bareTopic(topic: string): string {
  return splitTopic(topic).topic;
}

/** The time the publisher stamped (`sent-at`), when it did. */
export function sentAt(envelope: Envelope): Date | undefined {
  const value = envelope.headers[SENT_AT_HEADER];
  return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? new Date(value) : undefined;
}

/** The fedora-messaging schema class that published the message (`koji_fedoramessaging.build.BuildStateChangeV1`). */
export function schemaName(envelope: Envelope): string | undefined {
  const value = envelope.headers[SCHEMA_HEADER];
  return typeof value === "string" ? value : undefined;
}
