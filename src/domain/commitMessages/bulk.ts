// The commit message of a bulk commit: one commit carrying several releases (bulk mode, e.g. a
// mass rebuild). The trigger comes first, then each release's trailers, a release id opening each.
import { readMessage, renderMessage, TRAILER, type Trailer } from "./trailers.js";

export interface BulkRelease {
  releaseId: string;
  artifactId: string;
  environment: string;
  nvrs: string[];
}

export interface BulkCommitInfo {
  trigger: string;
  releases: BulkRelease[];
}

const SUBJECT_PREFIX = "bulk: ";

export function renderBulkCommitMessage(info: BulkCommitInfo): string {
  const count = info.releases.length;
  const envs = [...new Set(info.releases.map((r) => r.environment))].sort();
  const trailers: Trailer[] = [
    { name: TRAILER.trigger, value: info.trigger },
    ...info.releases.flatMap((r) => [
      { name: TRAILER.releaseId, value: r.releaseId },
      { name: TRAILER.artifactId, value: r.artifactId },
      { name: TRAILER.environment, value: r.environment },
      ...r.nvrs.map((value) => ({ name: TRAILER.nvr, value })),
    ]),
  ];
  return renderMessage(`${SUBJECT_PREFIX}${count} release${count === 1 ? "" : "s"} to ${envs.join(", ")}`, trailers);
}

/**
 * Parses a commit message; undefined when it is not a bulk commit. The subject only says what the
 * trailers say, so it is not read back beyond its prefix.
 */
export function parseBulkCommitMessage(message: string): BulkCommitInfo | undefined {
  const read = readMessage(message);
  if (!read?.subject.startsWith(SUBJECT_PREFIX)) return undefined;
  const [first, ...rest] = read.trailers;
  if (first?.name !== TRAILER.trigger || !first.value) return undefined;
  const releases: Partial<BulkRelease>[] = [];
  for (const { name, value } of rest) {
    const current = releases.at(-1);
    if (name === TRAILER.releaseId) releases.push({ releaseId: value, nvrs: [] });
    else if (!current) return undefined;
    else if (name === TRAILER.artifactId && current.artifactId === undefined) current.artifactId = value;
    else if (name === TRAILER.environment && current.environment === undefined) current.environment = value;
    else if (name === TRAILER.nvr) current.nvrs?.push(value);
    else return undefined;
  }
  const complete = releases.filter((r): r is BulkRelease => Boolean(r.releaseId && r.artifactId && r.environment));
  if (complete.length === 0 || complete.length !== releases.length) return undefined;
  return { trigger: first.value, releases: complete };
}
