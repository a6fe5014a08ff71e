// Freeze windows of an environment: when policy releases stop, and who is excepted.
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { ARTIFACT_ID_PATTERN } from "./artifact.js";
import { GLOB_PATTERN, matchesGlobs } from "./glob.js";

export const freezeSchema = z
  .strictObject({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    reason: wellFormedString().min(1).max(200),
    exceptions: z
      .strictObject({
        packages: z.array(wellFormedString().regex(GLOB_PATTERN, "must be a package glob")).max(200).default([]),
        artifacts: z.array(wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id")).max(200).default([]),
      })
      .default({ packages: [], artifacts: [] }),
  })
  .refine((f) => Date.parse(f.start) < Date.parse(f.end), { message: "end must be after start", path: ["end"] });

export type Freeze = z.output<typeof freezeSchema>;

export interface ActiveFreeze {
  freeze: Freeze;
  /** When the environment opens again. */
  until: Date;
}

/**
 * The freeze that stops `artifact` (of `pkg`) from going to an environment at `now`, if any. An
 * exception lets the artifact or package through; overlapping freezes: the one ending last wins.
 */
export function activeFreeze(freezes: readonly Freeze[], now: Date, pkg: string, artifactId: string): ActiveFreeze | undefined {
  let found: ActiveFreeze | undefined;
  for (const f of freezes) {
    const start = Date.parse(f.start);
    const end = Date.parse(f.end);
    if (now.getTime() < start || now.getTime() >= end) continue;
    if (f.exceptions.artifacts.includes(artifactId)) continue;
    if (f.exceptions.packages.length > 0 && matchesGlobs(pkg, f.exceptions.packages)) continue;
    if (!found || end > found.until.getTime()) found = { freeze: f, until: new Date(end) };
  }
  return found;
}

export function describeFreeze(environment: string, active: ActiveFreeze): string {
  return `environment ${environment} frozen until ${active.until.toISOString().slice(0, 10)} (${active.freeze.reason})`;
}
