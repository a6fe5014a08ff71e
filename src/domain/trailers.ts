// The commit message of a release: a subject line and machine-readable git trailers.
// The writer renders it, crash recovery and `track` parse it back; nothing else builds it.

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
}

export const TRAILER = {
  releaseId: "Relengd-Release-Id",
  artifactId: "Relengd-Artifact-Id",
  environment: "Relengd-Environment",
  trigger: "Relengd-Trigger",
  nvr: "Relengd-Nvr",
  forceReason: "Relengd-Force-Reason",
} as const;

// Trailer values are single lines: a newline would forge another trailer.
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, " ").trim();
}

/** A release commit's trailers as name and value, in the order the commit message has them. */
export function releaseTrailers(info: Omit<ReleaseCommitInfo, "subject">): { name: string; value: string }[] {
  return [
    { name: TRAILER.releaseId, value: info.releaseId },
    { name: TRAILER.artifactId, value: info.artifactId },
    { name: TRAILER.environment, value: info.environment },
    { name: TRAILER.trigger, value: info.trigger },
    ...info.nvrs.map((value) => ({ name: TRAILER.nvr, value })),
    ...(info.forceReason ? [{ name: TRAILER.forceReason, value: info.forceReason }] : []),
  ];
}

export function renderCommitMessage(info: ReleaseCommitInfo): string {
  const lines = [oneLine(info.subject), "", ...releaseTrailers(info).map((t) => `${t.name}: ${oneLine(t.value)}`)];
  return lines.join("\n") + "\n";
}

/** Parses a commit message; undefined when it is not a relengd release commit. */
export function parseCommitMessage(message: string): ReleaseCommitInfo | undefined {
  const lines = message.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const subject = lines[0] ?? "";
  // Trailers are the last paragraph.
  const lastBlank = lines.lastIndexOf("");
  const block = lastBlank === -1 ? [] : lines.slice(lastBlank + 1);
  const values = new Map<string, string[]>();
  for (const line of block) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    values.set(m[1], [...(values.get(m[1]) ?? []), m[2] ?? ""]);
  }
  const one = (key: string) => values.get(key)?.[0];
  const releaseId = one(TRAILER.releaseId);
  const artifactId = one(TRAILER.artifactId);
  const environment = one(TRAILER.environment);
  const trigger = one(TRAILER.trigger);
  if (!releaseId || !artifactId || !environment || !trigger) return undefined;
  const forceReason = one(TRAILER.forceReason);
  return {
    subject,
    releaseId,
    artifactId,
    environment,
    trigger,
    nvrs: values.get(TRAILER.nvr) ?? [],
    ...(forceReason ? { forceReason } : {}),
  };
}

/** One commit carrying several releases (bulk mode, e.g. a mass rebuild). */
export interface BulkCommitInfo {
  trigger: string;
  releases: { releaseId: string; artifactId: string; environment: string; nvrs: string[] }[];
}

export function renderBulkCommitMessage(info: BulkCommitInfo): string {
  const envs = [...new Set(info.releases.map((r) => r.environment))].sort();
  const lines = [
    oneLine(`bulk: ${info.releases.length} release${info.releases.length === 1 ? "" : "s"} to ${envs.join(", ")}`),
    "",
    `${TRAILER.trigger}: ${oneLine(info.trigger)}`,
    ...info.releases.flatMap((r) => [
      `${TRAILER.releaseId}: ${oneLine(r.releaseId)}`,
      `${TRAILER.artifactId}: ${oneLine(r.artifactId)}`,
      `${TRAILER.environment}: ${oneLine(r.environment)}`,
      ...r.nvrs.map((n) => `${TRAILER.nvr}: ${oneLine(n)}`),
    ]),
  ];
  return lines.join("\n") + "\n";
}

/** Every release id a commit message carries: one for a release commit, many for a bulk commit. */
export function parseReleaseIds(message: string): string[] {
  const lines = message.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const lastBlank = lines.lastIndexOf("");
  if (lastBlank === -1) return [];
  const prefix = `${TRAILER.releaseId}:`;
  return lines
    .slice(lastBlank + 1)
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim())
    .filter(Boolean);
}
