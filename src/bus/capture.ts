// Captured bus messages read back into envelopes, for `relengd bus replay`: relengd's own JSON form
// ({id, topic, headers, body}, as in test/fixtures/fedora-messages and GET /api/v1/events), and
// datagrepper's export of datanommer's messages ({msg_id, topic, timestamp, msg, headers}, alone
// or as a page {raw_messages: [...]}). Pure.
import type { FieldIssue } from "../domain/artifact.js";
import { parseEnvelope, SENT_AT_HEADER, type Envelope, type HeaderValue } from "../domain/envelope.js";

/** One message found in a capture: an envelope, or why the entry is not one. */
export type CapturedMessage = { ok: true; envelope: Envelope; where: string } | { ok: false; where: string; topic: string | null; issues: FieldIssue[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A datagrepper message as the envelope it was: `msg` is the body, `msg_id` the id; a message
 * from the fedmsg era has no headers, so its `timestamp` (seconds since the epoch) becomes
 * sent-at, as fedora-messaging would have stamped it.
 */
function fromDatagrepper(raw: Record<string, unknown>): unknown {
  const headers: Record<string, HeaderValue> = isObject(raw.headers) ? { ...(raw.headers as Record<string, HeaderValue>) } : {};
  if (headers[SENT_AT_HEADER] === undefined && typeof raw.timestamp === "number" && Number.isFinite(raw.timestamp)) {
    headers[SENT_AT_HEADER] = new Date(raw.timestamp * 1000).toISOString().replace(/\.000Z$/, "Z");
  }
  return { id: raw.msg_id, topic: raw.topic, headers, body: raw.msg };
}

/** The envelope a captured entry holds, in whichever of the known shapes it comes. */
function envelopeCandidate(entry: Record<string, unknown>): unknown {
  if ("msg" in entry && ("msg_id" in entry || "topic" in entry)) return fromDatagrepper(entry);
  // An event of GET /api/v1/events carries the envelope it was made from.
  if (isObject(entry.envelope) && "messageId" in entry) return entry.envelope;
  // Fixture files carry their provenance (`_source`) beside the envelope: parseEnvelope drops such annotations.
  return entry;
}

/** The entries of one parsed JSON document: a message, a list of them, or a page of them. */
function entriesOf(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (isObject(doc) && Array.isArray(doc.raw_messages)) return doc.raw_messages;
  if (isObject(doc) && Array.isArray(doc.items) && !("topic" in doc)) return doc.items;
  return [doc];
}

function readEntry(entry: unknown, where: string): CapturedMessage {
  if (!isObject(entry)) return { ok: false, where, topic: null, issues: [{ path: "/", message: "is not a message (a JSON object)" }] };
  const candidate = envelopeCandidate(entry);
  const parsed = parseEnvelope(candidate);
  if (parsed.ok) return { ok: true, envelope: parsed.value, where };
  const topic = isObject(candidate) && typeof candidate.topic === "string" ? candidate.topic : null;
  return { ok: false, where, topic, issues: parsed.issues };
}

/**
 * The messages in a capture file's text: one JSON document (a message, an array, a datagrepper
 * page), or JSON lines (one message per line; blank lines skipped). `source` names the file in
 * each message's `where` (`file`, `file:3` for line 3, `file#2` for the third of an array).
 */
export function parseCapture(text: string, source: string): CapturedMessage[] {
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    const entries = entriesOf(whole);
    return entries.map((e, i) => readEntry(e, entries.length === 1 && !Array.isArray(whole) ? source : `${source}#${i}`));
  }
  const out: CapturedMessage[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      out.push({ ok: false, where, topic: null, issues: [{ path: "/", message: `not JSON: ${(err as Error).message}` }] });
      return;
    }
    for (const e of entriesOf(value)) out.push(readEntry(e, where));
  });
  return out;
}

/** An envelope as datagrepper exports it (what `parseCapture` reads back). */
export function renderDatagrepperMessage(envelope: Envelope): Record<string, unknown> {
  const sent = envelope.headers[SENT_AT_HEADER];
  const timestamp = typeof sent === "string" && !Number.isNaN(Date.parse(sent)) ? Date.parse(sent) / 1000 : undefined;
  return { msg_id: envelope.id, topic: envelope.topic, ...(timestamp !== undefined ? { timestamp } : {}), headers: envelope.headers, msg: envelope.body };
}

/**
 * Messages in the order they were sent, when every one says when (sent-at): a datagrepper
 * export lists the newest first. Otherwise they keep the capture's order, and `ordered` is false.
 */
export function inSendingOrder(messages: Envelope[]): { messages: Envelope[]; ordered: boolean } {
  const times = messages.map((m) => {
    const sent = m.headers[SENT_AT_HEADER];
    return typeof sent === "string" ? Date.parse(sent) : Number.NaN;
  });
  if (times.some((t) => Number.isNaN(t))) return { messages, ordered: false };
  // Stable: messages sent in the same second keep the capture's order.
  const order = messages.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  return { messages: order.map((i) => messages[i] as Envelope), ordered: true };
}
