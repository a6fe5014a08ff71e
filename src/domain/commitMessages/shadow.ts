// The commit messages of the shadow repository: a subject line and trailers naming the bus
// message each commit mirrors. Ingest renders them, the shadow writer's crash recovery and tests
// parse them back.
import { readMessage, renderMessage, TRAILER, trailerValue, trailerValues, type Trailer } from "./trailers.js";

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
  /** A releng/fedora-scm-requests ticket's number (issue 17). */
  scmTicket: "Relengd-Scm-Ticket",
  /** On the commit that closes or merges a ticket's merge request: relengd's agreement with the bot. */
  agreement: "Relengd-Shadow-Agreement",
  /** Where the document does not fit relengd/v1 (one trailer each). */
  problem: "Relengd-Schema-Problem",
} as const;

/** Shadow commits are mirrors: the same trigger word as a mirror release. */
export const SHADOW_TRIGGER = "mirror";

/** The message of the shadow repository's first commit, the one that adds its README. */
export const SHADOW_ROOT_MESSAGE = "shadow repository\n";

/** Any shadow commit: an update's commit on its merge request, a merge into main, a compose on main. */
export interface ShadowCommitInfo {
  subject: string;
  messageId: string;
  topic: string;
  alias?: string;
  closed?: string;
  merge?: string;
  composeId?: string;
  composeStatus?: string;
  scmTicket?: string;
  agreement?: string;
  nvrs: string[];
  problems: string[];
}

// The trailers a shadow commit may carry, in the order they are written.
const OPTIONAL_FIELDS = ["alias", "merge", "closed", "composeId", "composeStatus", "scmTicket", "agreement"] as const;

export function renderShadowCommitMessage(info: ShadowCommitInfo): string {
  const trailers: Trailer[] = [
    { name: TRAILER.trigger, value: SHADOW_TRIGGER },
    { name: SHADOW_TRAILER.messageId, value: info.messageId },
    { name: SHADOW_TRAILER.topic, value: info.topic },
    ...OPTIONAL_FIELDS.flatMap((field) => {
      const value = info[field];
      return value === undefined ? [] : [{ name: SHADOW_TRAILER[field], value }];
    }),
    ...info.nvrs.map((value) => ({ name: TRAILER.nvr, value })),
    ...info.problems.map((value) => ({ name: SHADOW_TRAILER.problem, value })),
  ];
  return renderMessage(info.subject, trailers);
}

/** Parses a commit message; undefined when it is not a shadow commit. A merge commit is one too. */
export function parseShadowCommitMessage(message: string): ShadowCommitInfo | undefined {
  const read = readMessage(message);
  if (!read) return undefined;
  const one = (name: string) => trailerValue(read, name);
  const messageId = one(SHADOW_TRAILER.messageId);
  const topic = one(SHADOW_TRAILER.topic);
  if (!messageId || !topic || one(TRAILER.trigger) !== SHADOW_TRIGGER) return undefined;
  const info: ShadowCommitInfo = {
    subject: read.subject,
    messageId,
    topic,
    nvrs: trailerValues(read, TRAILER.nvr),
    problems: trailerValues(read, SHADOW_TRAILER.problem),
  };
  for (const field of OPTIONAL_FIELDS) {
    const value = one(SHADOW_TRAILER[field]);
    if (value !== undefined) info[field] = value;
  }
  return info;
}

/** The merge of an update's merge request into main, which Bodhi pushed to stable. */
export interface ShadowMergeInfo {
  messageId: string;
  topic: string;
  alias: string;
  /** The merge request's branch. */
  branch: string;
  /** What happened, in words ("pushed to stable"). */
  summary: string;
  nvrs: string[];
}

const mergeSubjectStart = (info: Pick<ShadowMergeInfo, "branch" | "alias">) => `Merge ${info.branch}: ${info.alias}`;

export function renderShadowMergeMessage(info: ShadowMergeInfo): string {
  const { messageId, topic, alias, branch, nvrs } = info;
  return renderShadowCommitMessage({ subject: `${mergeSubjectStart(info)} ${info.summary}`, messageId, topic, alias, merge: branch, nvrs, problems: [] });
}

/** Parses a commit message; undefined when it is not a shadow merge commit. */
export function parseShadowMergeMessage(message: string): ShadowMergeInfo | undefined {
  const commit = parseShadowCommitMessage(message);
  if (commit?.merge === undefined || commit.alias === undefined) return undefined;
  const { messageId, topic, alias, merge: branch, nvrs, subject } = commit;
  const start = mergeSubjectStart({ branch, alias });
  if (subject !== start && !subject.startsWith(`${start} `)) return undefined;
  return { messageId, topic, alias, branch, summary: subject.slice(start.length + 1), nvrs };
}
