// The messages relengd publishes about requests (relengd.request.proposed|approved|needs-review|
// denied|merged|superseded|withdrawn): built here as fedora-messaging envelopes, and read back (by
// tests, by anyone consuming them). Pure.
import { z } from "zod";
import { parseWith, type Parsed } from "../domain/artifact.js";
import { SCHEMA_HEADER, SENT_AT_HEADER, splitTopic, type Envelope, type HeaderValue } from "../domain/envelope.js";
import { requestStatuses, type RequestStatus } from "../domain/requests/status.js";
import { wellFormedString } from "../domain/text.js";

export const REQUEST_MESSAGE_SCHEMA = "relengd.request.v1";
export const REQUEST_TOPIC_PREFIX = "relengd.request.";

// fedora-messaging's severities (fedora_messaging.message): INFO, WARNING.
const SEVERITY: Record<RequestStatus, number> = { proposed: 20, approved: 20, "needs-review": 20, denied: 30, merged: 20, superseded: 20, withdrawn: 20 };

/** Reasons carried at most (the record keeps them all; a message stays small). */
const MAX_REASONS = 20;
const MAX_REASON_CHARS = 1000;
const MAX_DOCUMENTS = 100;

export function requestTopic(status: RequestStatus): string {
  return REQUEST_TOPIC_PREFIX + status;
}

/** What a request message says of a request (the stored record but its documents' contents). */
export interface RequestFacts {
  id: string;
  status: RequestStatus;
  repository: string;
  branch: string;
  revision: string;
  kind: string;
  path: string | null;
  documents: readonly { path: string; kind: string }[];
  author: string | null;
  verified: boolean;
  source: string;
  reasons: readonly string[];
  approvedBy: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  mergeCommit: string | null;
  supersededBy: string | null;
  seenAt: Date;
}

const requestBodySchema = z.strictObject({
  id: wellFormedString().min(1),
  status: z.enum(requestStatuses),
  repository: wellFormedString().min(1),
  branch: wellFormedString().min(1),
  revision: wellFormedString().min(1),
  kind: wellFormedString().min(1),
  path: wellFormedString().nullable(),
  documents: z.array(z.strictObject({ path: wellFormedString().min(1), kind: wellFormedString().min(1) })),
  author: wellFormedString().nullable(),
  verified: z.boolean(),
  source: wellFormedString().min(1),
  seenAt: z.iso.datetime(),
  reasons: z.array(wellFormedString()).optional(),
  approvedBy: wellFormedString().optional(),
  decidedBy: wellFormedString().optional(),
  decisionReason: wellFormedString().optional(),
  mergeCommit: wellFormedString().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/).optional(),
  supersededBy: wellFormedString().optional(),
});

export const requestMessageBodySchema = z.strictObject({
  /** Who or what gave the request this status (fedora-messaging's `agent_name`). */
  agent: wellFormedString().min(1),
  request: requestBodySchema,
});

export type RequestMessageBody = z.output<typeof requestMessageBodySchema>;

/** Who gave a request this status: a person's decision, the policy that approved it, its author, or relengd itself. */
function agentOf(r: RequestFacts, status: RequestStatus): string {
  const person = /^user:(.+)$/.exec(r.decidedBy ?? "")?.[1];
  if ((status === "approved" || status === "denied" || status === "needs-review") && person) return person;
  if (status === "approved" && r.approvedBy) return r.approvedBy;
  if (status === "proposed" && r.author) return r.author;
  return "relengd";
}

// Packages a request's documents touch, read from their paths (distgit/<branches|repos>/rpms/<name>/…): consumers filter on them.
function packagesOf(r: RequestFacts): string[] {
  const names = r.documents.flatMap((d) => {
    const m = /^distgit\/[^/]+\/rpms\/([^/]+?)(?:\.yaml)?(?:\/|$)/.exec(d.path);
    return m?.[1] ? [m[1]] : [];
  });
  return [...new Set(names)].slice(0, MAX_DOCUMENTS);
}

/**
 * One status of a request as a fedora-messaging message. `id` is chosen by the caller and kept
 * with the message until it is published (a republished message has the same id).
 */
export function renderRequestMessage(r: RequestFacts, status: RequestStatus, id: string, sentAt: Date): Envelope {
  const current = status === r.status;
  const body: RequestMessageBody = {
    agent: agentOf(r, status),
    request: {
      id: r.id,
      status,
      repository: r.repository,
      branch: r.branch,
      revision: r.revision,
      kind: r.kind,
      path: r.path,
      documents: r.documents.slice(0, MAX_DOCUMENTS).map((d) => ({ path: d.path, kind: d.kind })),
      author: r.author,
      verified: r.verified,
      source: r.source,
      seenAt: r.seenAt.toISOString(),
      // What led to this status; a `proposed` announced together with the verdict carries none of it.
      ...(current && r.reasons.length > 0 ? { reasons: r.reasons.slice(0, MAX_REASONS).map((x) => x.slice(0, MAX_REASON_CHARS)) } : {}),
      ...(current && status === "approved" && r.approvedBy ? { approvedBy: r.approvedBy } : {}),
      ...(current && r.decidedBy && status !== "proposed" ? { decidedBy: r.decidedBy, ...(r.decisionReason ? { decisionReason: r.decisionReason.slice(0, MAX_REASON_CHARS) } : {}) } : {}),
      ...(current && status === "merged" && r.mergeCommit ? { mergeCommit: r.mergeCommit } : {}),
      ...(current && status === "superseded" && r.supersededBy ? { supersededBy: r.supersededBy } : {}),
    },
  };
  const headers: Record<string, HeaderValue> = {
    [SENT_AT_HEADER]: sentAt.toISOString(),
    [SCHEMA_HEADER]: REQUEST_MESSAGE_SCHEMA,
    fedora_messaging_severity: SEVERITY[status],
  };
  for (const p of packagesOf(r)) headers[`fedora_messaging_rpm_${p}`] = true;
  if (r.author && r.verified) headers[`fedora_messaging_user_${r.author}`] = true;
  return { id, topic: requestTopic(status), headers, body };
}

/** Reads a request message back; its topic and the status it carries must agree. */
export function parseRequestMessage(envelope: Envelope): Parsed<RequestMessageBody> {
  const parsed = parseWith(requestMessageBodySchema, envelope.body);
  if (!parsed.ok) return { ok: false, issues: parsed.issues.map((i) => ({ ...i, path: `/body${i.path === "/" ? "" : i.path}` })) };
  const topic = splitTopic(envelope.topic).topic;
  if (topic !== requestTopic(parsed.value.request.status)) {
    return { ok: false, issues: [{ path: "/topic", message: `must be ${requestTopic(parsed.value.request.status)} for a ${parsed.value.request.status} request` }] };
  }
  if (envelope.headers[SCHEMA_HEADER] !== REQUEST_MESSAGE_SCHEMA) return { ok: false, issues: [{ path: `/headers/${SCHEMA_HEADER}`, message: `must be ${REQUEST_MESSAGE_SCHEMA}` }] };
  return parsed;
}
