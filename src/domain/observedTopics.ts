// The publishers' topic prefixes of the observed topics (issue 17 T): fedora-messaging's
// `topic_prefix` of pagure.io (io.pagure.<env>.), dist-git, Koji and fedocal
// (org.fedoraproject.<env>.). envelope.ts's TOPIC_PREFIXES know neither io.pagure. nor dev.
// Pure.

export type PublisherEnv = "prod" | "stg" | "dev";

export interface PublishedTopic {
  /** org.fedoraproject | io.pagure; null for a bare topic (no prefix: POST /api/v1/events, a replay). */
  publisher: "org.fedoraproject" | "io.pagure" | null;
  env: PublisherEnv | null;
  /** The topic without the prefix (pagure.git.branch.creation). */
  bare: string;
}

const PREFIX = /^(org\.fedoraproject|io\.pagure)\.(prod|stg|dev)\.(.+)$/;

export function publishedTopic(topic: string): PublishedTopic {
  const m = PREFIX.exec(topic);
  if (!m) return { publisher: null, env: null, bare: topic };
  return { publisher: m[1] as PublishedTopic["publisher"], env: m[2] as PublisherEnv, bare: m[3] as string };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as short words for a Relengd-Schema-Problem trailer (one line, bounded, well-formed). */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = text.toWellFormed().replace(/[\x00-\x1f\x7f]/g, " ");
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
