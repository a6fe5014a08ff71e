// The messages relengd publishes about its releases (relengd.release.queued|pushed|failed|blocked):
// built here as fedora-messaging envelopes, and read back (by tests, by anyone consuming them). Pure.
import { z } from "zod";
import { wellFormedString } from "../domain/text.js";
import { parseWith, type Parsed } from "../domain/artifact.js";
import { SCHEMA_HEADER, SENT_AT_HEADER, splitTopic, type Envelope, type HeaderValue } from "../domain/envelope.js";
import { RELEASE_STATUS, type ReleaseStatus } from "../domain/release.js";

/** The release outcomes announced on the bus (superseded releases are not news to anyone). */
export const announcedStatuses = [RELEASE_STATUS.queued, RELEASE_STATUS.pushed, RELEASE_STATUS.failed, RELEASE_STATUS.blocked] as const satisfies readonly ReleaseStatus[];
export type AnnouncedStatus = (typeof announcedStatuses)[number];

/** The outcomes a release ends in that the bus announces (every announced one but `queued`). */
export function isAnnouncedOutcome(status: ReleaseStatus): status is Exclude<AnnouncedStatus, typeof RELEASE_STATUS.queued> {
  return status === RELEASE_STATUS.pushed || status === RELEASE_STATUS.failed || status === RELEASE_STATUS.blocked;
}

export const RELEASE_MESSAGE_SCHEMA = "relengd.release.v1";
export const RELEASE_TOPIC_PREFIX = "relengd.release.";

// fedora-messaging's severities (fedora_messaging.message): INFO, WARNING, ERROR.
const SEVERITY: Record<AnnouncedStatus, number> = { queued: 20, pushed: 20, blocked: 30, failed: 40 };

export function releaseTopic(status: AnnouncedStatus): string {
  return RELEASE_TOPIC_PREFIX + status;
}

export interface ReleaseFacts {
  id: string;
  artifactId: string;
  environment: string;
  repository: string;
  branch: string;
  package: string;
  trigger: string;
  createdBy: string;
  reason: string | null;
  error: string | null;
  attempts: number;
  commitSha: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const releaseBodySchema = z.strictObject({
  id: wellFormedString().min(1),
  status: z.enum(announcedStatuses),
  artifactId: wellFormedString().min(1),
  environment: wellFormedString().min(1),
  package: wellFormedString().min(1),
  repository: wellFormedString().min(1),
  branch: wellFormedString().min(1),
  trigger: wellFormedString().min(1),
  createdBy: wellFormedString().min(1),
  createdAt: z.iso.datetime(),
  commitSha: wellFormedString().regex(/^[0-9a-f]{40}$/).optional(),
  reason: wellFormedString().optional(),
  error: wellFormedString().optional(),
  attempts: z.number().int().min(0).optional(),
});

export const releaseMessageBodySchema = z.strictObject({
  /** Who or what asked for the release (fedora-messaging's `agent_name`). */
  agent: wellFormedString().min(1),
  release: releaseBodySchema,
});

export type ReleaseMessageBody = z.output<typeof releaseMessageBodySchema>;

/**
 * One release outcome as a fedora-messaging message. `id` is chosen by the caller and kept
 * with the message until it is published: a republished message has the same id, and
 * consumers that remember ids (relengd's own consumer does) see a duplicate.
 */
export function renderReleaseMessage(release: ReleaseFacts, status: AnnouncedStatus, id: string, sentAt: Date): Envelope {
  const final = status !== RELEASE_STATUS.queued;
  const body: ReleaseMessageBody = {
    agent: release.createdBy,
    release: {
      id: release.id,
      status,
      artifactId: release.artifactId,
      environment: release.environment,
      package: release.package,
      repository: release.repository,
      branch: release.branch,
      trigger: release.trigger,
      createdBy: release.createdBy,
      createdAt: release.createdAt.toISOString(),
      ...(status === RELEASE_STATUS.pushed && release.commitSha ? { commitSha: release.commitSha } : {}),
      ...(status === RELEASE_STATUS.blocked && release.reason ? { reason: release.reason } : {}),
      ...(status === RELEASE_STATUS.failed && release.error ? { error: release.error } : {}),
      ...(final ? { attempts: release.attempts } : {}),
    },
  };
  // fedora-messaging's routing headers: consumers filter on the package and the person.
  const headers: Record<string, HeaderValue> = {
    [SENT_AT_HEADER]: sentAt.toISOString(),
    [SCHEMA_HEADER]: RELEASE_MESSAGE_SCHEMA,
    fedora_messaging_severity: SEVERITY[status],
    [`fedora_messaging_rpm_${release.package}`]: true,
  };
  const user = /^user:(.+)$/.exec(release.trigger)?.[1];
  if (user) headers[`fedora_messaging_user_${user}`] = true;
  return { id, topic: releaseTopic(status), headers, body };
}

/** Reads a release message back; its topic and the status it carries must agree. */
export function parseReleaseMessage(envelope: Envelope): Parsed<ReleaseMessageBody> {
  const parsed = parseWith(releaseMessageBodySchema, envelope.body);
  if (!parsed.ok) return { ok: false, issues: parsed.issues.map((i) => ({ ...i, path: `/body${i.path === "/" ? "" : i.path}` })) };
  const topic = splitTopic(envelope.topic).topic;
  if (topic !== releaseTopic(parsed.value.release.status)) {
    return { ok: false, issues: [{ path: "/topic", message: `must be ${releaseTopic(parsed.value.release.status)} for a ${parsed.value.release.status} release` }] };
  }
  if (envelope.headers[SCHEMA_HEADER] !== RELEASE_MESSAGE_SCHEMA) return { ok: false, issues: [{ path: `/headers/${SCHEMA_HEADER}`, message: `must be ${RELEASE_MESSAGE_SCHEMA}` }] };
  return parsed;
}
