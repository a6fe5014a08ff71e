// The commit message of a release: a subject line and machine-readable git trailers.
// The writer renders it, crash recovery and `track` parse it back; nothing else builds it.
import { readMessage, renderMessage, TRAILER, trailerValue, trailerValues, type Trailer } from "./trailers.js";

export interface ReleaseCommitInfo {
  subject: string;
  releaseId: string;
  artifactId: string;
  environment: string;
  /** policy/<name> | user:<subject> | rollback | mirror */
  trigger: string;
  nvrs: string[];
  /** Why a release was forced past a hold or freeze. */
  forceReason?: string;
  /** What the repoclosure gate found before the release was queued (`3 unresolved (aarch64 x86_64)`). */
  repoclosure?: string;
  /** The broken-deps report's URL. */
  repoclosureReport?: string;
}

/** A release commit's trailers, in the order the writer writes them (the dashboard shows them so). */
export function releaseTrailers(info: ReleaseCommitInfo): Trailer[] {
  return [
    { name: TRAILER.releaseId, value: info.releaseId },
    { name: TRAILER.artifactId, value: info.artifactId },
    { name: TRAILER.environment, value: info.environment },
    { name: TRAILER.trigger, value: info.trigger },
    ...info.nvrs.map((value) => ({ name: TRAILER.nvr, value })),
    ...(info.forceReason ? [{ name: TRAILER.forceReason, value: info.forceReason }] : []),
    ...(info.repoclosure ? [{ name: TRAILER.repoclosure, value: info.repoclosure }] : []),
    ...(info.repoclosureReport ? [{ name: TRAILER.repoclosureReport, value: info.repoclosureReport }] : []),
  ];
}

export function renderReleaseCommitMessage(info: ReleaseCommitInfo): string {
  return renderMessage(info.subject, releaseTrailers(info));
}

/** Parses a commit message; undefined when it is not a relengd release commit. */
export function parseReleaseCommitMessage(message: string): ReleaseCommitInfo | undefined {
  const read = readMessage(message);
  if (!read) return undefined;
  const one = (name: string) => trailerValue(read, name);
  const releaseId = one(TRAILER.releaseId);
  const artifactId = one(TRAILER.artifactId);
  const environment = one(TRAILER.environment);
  const trigger = one(TRAILER.trigger);
  if (!releaseId || !artifactId || !environment || !trigger) return undefined;
  const forceReason = one(TRAILER.forceReason);
  const repoclosure = one(TRAILER.repoclosure);
  const repoclosureReport = one(TRAILER.repoclosureReport);
  return {
    subject: read.subject,
    releaseId,
    artifactId,
    environment,
    trigger,
    nvrs: trailerValues(read, TRAILER.nvr),
    ...(forceReason ? { forceReason } : {}),
    ...(repoclosure ? { repoclosure } : {}),
    ...(repoclosureReport ? { repoclosureReport } : {}),
  };
}
