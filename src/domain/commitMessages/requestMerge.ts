// The merge commit of a request: what was merged, by whose approval, with the trailers that let
// a restarted writer find the merge and a reader tell a reviewed document from an unreviewed one.
import { readMessage, renderMessage, TRAILER, trailerValue, trailerValues, type Trailer } from "./trailers.js";

export interface RequestMergeInfo {
  requestId: string;
  /** The request branch, e.g. requests/nethack-f44. */
  branch: string;
  /** The kinds of the documents merged, one trailer each. */
  kinds: string[];
  /** policy/<name> or user:<name>. */
  approvedBy: string;
  /** The first document's path: the subject names it. */
  path: string | null;
  /** Documents merged besides the first one. */
  more: number;
}

export function renderRequestMergeMessage(info: RequestMergeInfo): string {
  const what = info.path === null ? "no document" : `${info.path}${info.more > 0 ? ` and ${info.more} more` : ""}`;
  const subject = `request: merge ${info.branch} (${what})`;
  const trailers: Trailer[] = [
    { name: TRAILER.requestId, value: info.requestId },
    ...[...new Set(info.kinds)].map((value) => ({ name: TRAILER.requestKind, value })),
    { name: TRAILER.approvedBy, value: info.approvedBy },
  ];
  return renderMessage(subject, trailers);
}

/** What a request merge commit's message says; undefined when it is not one. */
export function parseRequestMergeMessage(message: string): Pick<RequestMergeInfo, "requestId" | "kinds" | "approvedBy"> | undefined {
  const read = readMessage(message);
  if (!read) return undefined;
  const requestId = trailerValue(read, TRAILER.requestId)?.trim();
  const approvedBy = trailerValue(read, TRAILER.approvedBy)?.trim();
  if (!requestId || !approvedBy) return undefined;
  return { requestId, kinds: trailerValues(read, TRAILER.requestKind).map((k) => k.trim()), approvedBy };
}
