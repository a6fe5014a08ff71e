// Which proposed documents on a branch reached it without a relengd merge (someone pushed
// straight to the branch): read from the branch's first-parent history, whose git format is kept here.
import { readMessage, trailerValue, TRAILER } from "../commitMessages/trailers.js";
import { requestRoots } from "./index.js";

/**
 * The git arguments whose output parseFirstParentChanges reads: each first-parent commit that
 * touched a proposed document, newest first, with what it changed against its first parent (a
 * merge's changes are what it brought to the branch). Add the head, then `--` and requestRoots.
 * -z and a record separator before each commit keep any path or message from forging a record.
 */
export const FIRST_PARENT_LOG_ARGS = ["log", "--first-parent", "--diff-merges=first-parent", "--name-status", "--no-renames", "-z", "--format=%x1e%H%x00%B"] as const;

/** `FIRST_PARENT_LOG_ARGS`, the head and the paths, ready to run; with `since`, only what came after it. */
export function firstParentLogArgs(head: string, since?: string): string[] {
  return [...FIRST_PARENT_LOG_ARGS, head, ...(since ? [`^${since}`] : []), "--", ...requestRoots];
}

/**
 * `newer` (newest first) in front of `older`, keeping only the changes that are still the last
 * change of one of their files: what the unreviewed check needs, bounded by the number of
 * documents instead of the length of the history.
 */
export function latestChanges(newer: readonly FirstParentChange[], older: readonly FirstParentChange[]): FirstParentChange[] {
  const seen = new Set<string>();
  const out: FirstParentChange[] = [];
  for (const change of [...newer, ...older]) {
    let last = false;
    for (const f of change.files) {
      if (!seen.has(f.path)) {
        seen.add(f.path);
        last = true;
      }
    }
    if (last) out.push(change);
  }
  return out;
}

export interface FileChange {
  /** git's status letter: A added, M modified, D deleted, T type changed. */
  status: string;
  path: string;
}

export interface FirstParentChange {
  commit: string;
  message: string;
  files: FileChange[];
}

const HEADER = /^\n?\x1e([0-9a-f]{40,64})$/;
const STATUS = /^\n?([ACDMRTUXB])[0-9]*$/;

/** Parses the output of `git firstParentLogArgs(head)`: commits newest first. */
export function parseFirstParentChanges(output: string): FirstParentChange[] {
  const tokens = output.split("\0");
  const out: FirstParentChange[] = [];
  let current: FirstParentChange | undefined;
  // Read by position: a header, the message, then status/path pairs. A message or a path is
  // taken whole wherever it is, so no text inside one is ever read as a header.
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const header = HEADER.exec(token);
    if (header) {
      current = { commit: header[1] as string, message: tokens[i + 1] ?? "", files: [] };
      out.push(current);
      i++;
      continue;
    }
    const status = STATUS.exec(token);
    if (status && current && i + 1 < tokens.length) {
      current.files.push({ status: status[1] as string, path: tokens[i + 1] as string });
      i++;
    }
  }
  return out;
}

export interface UnreviewedDocument {
  path: string;
  /** The request id a merge's trailer names, when the last change is one (checked against the store where there is one). */
  requestId?: string;
  /** The commit that last changed the document on the branch; null when the history given does not reach it. */
  commit: string | null;
  subject: string | null;
}

/**
 * Proposed documents on a target branch that no relengd merge brought there, as of `head`: what
 * the request poller last found (GET /api/v1/requests/unreviewed). Before the first look `head`
 * and `checkedAt` are null and `documents` empty.
 */
export interface UnreviewedReport {
  repository: string;
  branch: string;
  head: string | null;
  documents: UnreviewedDocument[];
  checkedAt: Date | null;
}

/** Whether a commit is relengd's merge of a request: it carries the request id trailer. */
export function isRequestMerge(message: string): boolean {
  const read = readMessage(message);
  return read !== undefined && (trailerValue(read, TRAILER.requestId) ?? "").trim() !== "";
}

/**
 * Of the proposed documents present at the branch's head (`present`), those whose last
 * first-parent change (`changes`, newest first) is not a relengd merge of a request.
 */
export function unreviewedDocuments(changes: readonly FirstParentChange[], present: Iterable<string>): UnreviewedDocument[] {
  const last = new Map<string, FirstParentChange>();
  for (const change of changes) {
    for (const file of change.files) if (!last.has(file.path)) last.set(file.path, change);
  }
  const out: UnreviewedDocument[] = [];
  for (const path of [...new Set(present)].sort()) {
    const change = last.get(path);
    if (!change) out.push({ path, commit: null, subject: null });
    else if (!isRequestMerge(change.message)) out.push({ path, commit: change.commit, subject: readMessage(change.message)?.subject ?? change.message.split("\n")[0] ?? "" });
  }
  return out;
}

/** The request id a commit message's trailer names, if any. */
export function requestIdOf(message: string): string | undefined {
  const read = readMessage(message);
  const id = read ? trailerValue(read, TRAILER.requestId)?.trim() : undefined;
  return id || undefined;
}

/** Every request id the trailers of `changes` name (to look up which relengd really merged). */
export function requestIdsNamed(changes: readonly FirstParentChange[]): string[] {
  return [...new Set(changes.flatMap((c) => requestIdOf(c.message) ?? []))];
}

/** Each present document's last first-parent change (`changes` newest first). */
function lastChanges(changes: readonly FirstParentChange[]): Map<string, FirstParentChange> {
  const last = new Map<string, FirstParentChange>();
  for (const change of changes) {
    for (const file of change.files) if (!last.has(file.path)) last.set(file.path, change);
  }
  return last;
}

/**
 * The request ids named by the last change of a document in `present`: the only ones whose merge
 * needs a witness (an older merge's id cannot make a document reviewed), so a long history asks
 * the store, or the API, about as many ids as there are documents at most.
 */
export function requestIdsToWitness(changes: readonly FirstParentChange[], present: Iterable<string>): string[] {
  const last = lastChanges(changes);
  const ids = new Set<string>();
  for (const path of present) {
    const change = last.get(path);
    const id = change ? requestIdOf(change.message) : undefined;
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/**
 * unreviewedDocuments, with the store as witness: a document is reviewed only when its last
 * change is the very commit relengd recorded as the merge of the request its trailer names
 * (`mergeCommits`: request id → merge commit). A trailer anyone can type proves nothing alone.
 */
export function unreviewedDocumentsWitnessed(changes: readonly FirstParentChange[], present: Iterable<string>, mergeCommits: ReadonlyMap<string, string>): UnreviewedDocument[] {
  const last = lastChanges(changes);
  const out: UnreviewedDocument[] = [];
  for (const path of [...new Set(present)].sort()) {
    const change = last.get(path);
    if (!change) {
      out.push({ path, commit: null, subject: null });
      continue;
    }
    const requestId = requestIdOf(change.message);
    if (requestId !== undefined && mergeCommits.get(requestId) === change.commit) continue;
    const subject = readMessage(change.message)?.subject ?? change.message.split("\n")[0] ?? "";
    out.push({ path, commit: change.commit, subject, ...(requestId !== undefined ? { requestId } : {}) });
  }
  return out;
}
