// The commit message of a shadow-repository commit: a subject line and trailers naming the bus
// message it mirrors. Ingest renders it, the shadow writer's crash recovery and tests parse it back.
import { TRAILER } from "../domain/trailers.js";

export const SHADOW_TRAILER = {
  messageId: "Relengd-Bus-Message-Id",
  topic: "Relengd-Bus-Topic",
  alias: "Relengd-Bodhi-Alias",
  /** On the commit that closes a merge request: obsolete, revoke or unpush. */
  closed: "Relengd-Shadow-Closed",
  /** On the merge commit: the merge request's branch. */
  merge: "Relengd-Shadow-Merge",
  composeId: "Relengd-Compose-Id",
  composeStatus: "Relengd-Compose-Status",
  /** Where the document does not fit relengd/v1 (one trailer each). */
  problem: "Relengd-Schema-Problem",
} as const;

/** Shadow commits are mirrors: the same trigger word as a mirror release. */
export const SHADOW_TRIGGER = "mirror";

export interface ShadowCommitInfo {
  subject: string;
  messageId: string;
  topic: string;
  alias?: string;
  closed?: string;
  merge?: string;
  composeId?: string;
  composeStatus?: string;
  nvrs: string[];
  problems: string[];
}

// A newline inside a value would forge another trailer.
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, " ").trim();
}

export function renderShadowCommitMessage(info: ShadowCommitInfo): string {
  const optional = (key: string, value: string | undefined) => (value === undefined ? [] : [`${key}: ${oneLine(value)}`]);
  const lines = [
    oneLine(info.subject),
    "",
    `${TRAILER.trigger}: ${SHADOW_TRIGGER}`,
    `${SHADOW_TRAILER.messageId}: ${oneLine(info.messageId)}`,
    `${SHADOW_TRAILER.topic}: ${oneLine(info.topic)}`,
    ...optional(SHADOW_TRAILER.alias, info.alias),
    ...optional(SHADOW_TRAILER.merge, info.merge),
    ...optional(SHADOW_TRAILER.closed, info.closed),
    ...optional(SHADOW_TRAILER.composeId, info.composeId),
    ...optional(SHADOW_TRAILER.composeStatus, info.composeStatus),
    ...info.nvrs.map((n) => `${TRAILER.nvr}: ${oneLine(n)}`),
    ...info.problems.map((p) => `${SHADOW_TRAILER.problem}: ${oneLine(p)}`),
  ];
  return lines.join("\n") + "\n";
}

/** Parses a commit message; undefined when it is not a shadow commit. */
export function parseShadowCommitMessage(message: string): ShadowCommitInfo | undefined {
  const lines = message.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const lastBlank = lines.lastIndexOf("");
  if (lastBlank === -1) return undefined;
  const values = new Map<string, string[]>();
  for (const line of lines.slice(lastBlank + 1)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m?.[1]) values.set(m[1], [...(values.get(m[1]) ?? []), m[2] ?? ""]);
  }
  const one = (key: string) => values.get(key)?.[0];
  const messageId = one(SHADOW_TRAILER.messageId);
  const topic = one(SHADOW_TRAILER.topic);
  if (!messageId || !topic || one(TRAILER.trigger) !== SHADOW_TRIGGER) return undefined;
  const info: ShadowCommitInfo = { subject: lines[0] ?? "", messageId, topic, nvrs: values.get(TRAILER.nvr) ?? [], problems: values.get(SHADOW_TRAILER.problem) ?? [] };
  for (const field of ["alias", "closed", "merge", "composeId", "composeStatus"] as const) {
    const value = one(SHADOW_TRAILER[field]);
    if (value !== undefined) info[field] = value;
  }
  return info;
}

/** The branch of an update's git-native merge request. */
export function mergeRequestBranch(alias: string): string {
  return `mr/${alias}`;
}

/** The shadow repository's main branch: merged updates and finished composes. */
export const SHADOW_MAIN = "main";
