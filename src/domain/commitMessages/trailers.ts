// What every commit message relengd writes is made of: a subject line, a blank line, and one
// paragraph of git trailers. The message kinds beside this file each choose their trailers; the
// layout, the trailer names they share and the one-line rule are kept here, once.

export const TRAILER = {
  releaseId: "Relengd-Release-Id",
  artifactId: "Relengd-Artifact-Id",
  environment: "Relengd-Environment",
  trigger: "Relengd-Trigger",
  nvr: "Relengd-Nvr",
  forceReason: "Relengd-Force-Reason",
  requestId: "Relengd-Request-Id",
  requestKind: "Relengd-Request-Kind",
  approvedBy: "Relengd-Approved-By",
  repoclosure: "Relengd-Repoclosure",
  repoclosureReport: "Relengd-Repoclosure-Report",
} as const;

/** One trailer line: its name and its value as given (the line itself holds the value made one line). */
export interface Trailer {
  name: string;
  value: string;
}

/** A trailer paragraph as read back, in order. */
export interface ReadMessage {
  subject: string;
  trailers: Trailer[];
}

// Subjects and trailer values are single lines: a newline would forge another trailer.
export function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, " ").trim();
}

export function renderMessage(subject: string, trailers: readonly Trailer[]): string {
  return [oneLine(subject), "", ...trailers.map((t) => `${t.name}: ${oneLine(t.value)}`)].join("\n") + "\n";
}

// The `s` flag: a value may hold U+2028 or U+2029, which `.` alone would not match.
const TRAILER_LINE = /^([A-Za-z0-9-]+):\s*(.*)$/s;

/** The subject and the trailers of the last paragraph; undefined when the message has a single paragraph. */
export function readMessage(message: string): ReadMessage | undefined {
  const lines = message.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const lastBlank = lines.lastIndexOf("");
  if (lastBlank === -1) return undefined;
  const trailers: Trailer[] = [];
  for (const line of lines.slice(lastBlank + 1)) {
    const m = TRAILER_LINE.exec(line);
    if (m?.[1]) trailers.push({ name: m[1], value: m[2] ?? "" });
  }
  return { subject: lines[0] ?? "", trailers };
}

/** The values of every `name` trailer, in order. */
export function trailerValues(read: ReadMessage, name: string): string[] {
  return read.trailers.filter((t) => t.name === name).map((t) => t.value);
}

/** The first `name` trailer's value. */
export function trailerValue(read: ReadMessage, name: string): string | undefined {
  return read.trailers.find((t) => t.name === name)?.value;
}

/**
 * Every release id a commit message carries: one for a release commit, many for a bulk commit.
 * The writer's history scan reads any commit of the branch with it, its own or a person's.
 */
export function parseReleaseIds(message: string): string[] {
  const read = readMessage(message);
  if (!read) return [];
  return trailerValues(read, TRAILER.releaseId)
    .map((id) => id.trim())
    .filter(Boolean);
}
