// The release-artifact format: its schema, limits, canonical rendering and parsing.
// This module is the only place that knows how an artifact looks on the wire and at rest.
import { createHash } from "node:crypto";
import { z } from "zod";
import { wellFormed, wellFormedString } from "./text.js";
import { parseWith, type Parsed } from "./fieldIssues.js";
import { MAX_NVR_LENGTH, parseNvr } from "./nvr.js";

// Where issues are said in words; re-exported because callers have always found them here.
export { parseWith, toFieldIssues, type FieldIssue, type Parsed } from "./fieldIssues.js";

export const MAX_NVR_LENGTH_FOR_QUERY = MAX_NVR_LENGTH;

export const ARTIFACT_FORMAT_VERSION = 1;

export const artifactLimits = {
  /** Bytes of a request body carrying one artifact. */
  bodyBytes: 256 * 1024,
  items: 500,
  contextEntries: 100,
  contextValueLength: 4096,
  resultsPerAppend: 200,
  resultsPerArtifact: 5000,
} as const;

export const ARTIFACT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}$/;
// Koji package names: letters, digits and ._+- (gtk+, libsigc++20, perl-Foo-Bar).
export const PACKAGE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;
// Distro releases as Fedora names them: rawhide, f41, epel9, eln, epel10.1.
export const RELEASE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const KOJI_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;
export const TESTCASE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._:/+-]{0,254}$/;
export const COMPOSE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export const sourceEvents = ["push", "tag", "pr", "build", "mirror"] as const;
export const ciOutcomes = ["PASSED", "FAILED", "INFO", "NEEDS_INSPECTION", "ERROR", "QUEUED", "RUNNING"] as const;
// Pungi's compose states (pungi.compose.status.change).
export const composeStatuses = ["STARTED", "FINISHED", "FINISHED_INCOMPLETE", "DOOMED", "TERMINATED"] as const;
export const composeTypes = ["nightly", "test", "production", "ci"] as const;

const text = (max: number) => wellFormedString().min(1).max(max);
const url = wellFormed(z.url({ protocol: /^(https?|git|ssh|file)$/ })).max(2048);

const nvr = wellFormedString()
  .superRefine((value, ctx) => {
    const parsed = parseNvr(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: `NVR "${value}" ${parsed.reason}` });
  });

export const kojiBuildItemSchema = z.strictObject({
  kind: z.literal("koji-build"),
  nvr,
  buildId: z.number().int().positive().optional(),
  taskId: z.number().int().positive().optional(),
  target: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji target name").optional(),
  sideTag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name").optional(),
  owner: text(128).optional(),
});

export const ciResultItemSchema = z.strictObject({
  kind: z.literal("ci-result"),
  testcase: wellFormedString().regex(TESTCASE_PATTERN, "must be a testcase name like fedora-ci.koji-build.tier0.functional"),
  outcome: z.enum(ciOutcomes),
  refUrl: url.optional(),
  scenario: text(255).optional(),
  note: text(4096).optional(),
  // Greenwave's rule: of the results of one (testcase, scenario), the latest decides; a re-run
  // sent late or a message redelivered out of order must not be taken for the newer one.
  submittedAt: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "When the result was submitted (RFC 3339). Of the results of one testcase and scenario the latest decides; without it, the one that arrived last." }),
});

export const composeItemSchema = z.strictObject({
  kind: z.literal("compose"),
  composeId: wellFormedString().regex(COMPOSE_ID_PATTERN, "must be a compose id like Fedora-Rawhide-20230502.n.0"),
  status: z.enum(composeStatuses),
  type: z.enum(composeTypes).optional(),
  label: wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a compose label like RC-1.2").optional(),
});

export const linkItemSchema = z.strictObject({
  kind: z.literal("link"),
  name: text(128),
  url,
});

export const artifactItemSchema = z.discriminatedUnion("kind", [
  kojiBuildItemSchema,
  ciResultItemSchema,
  composeItemSchema,
  linkItemSchema,
]);

export const sourceSchema = z.strictObject({
  repo: text(2048),
  sha: wellFormedString().regex(/^[0-9a-f]{7,64}$/, "must be a hex commit id (7 to 64 lowercase hex digits)"),
  branch: text(255).optional(),
  event: z.enum(sourceEvents),
  pr: z.union([z.number().int().positive(), text(64)]).optional(),
  author: text(256).optional(),
  committer: text(256).optional(),
  message: wellFormedString().max(8192).optional(),
  url: url.optional(),
});

export const contextSchema = z
  .record(
    wellFormedString().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, "context keys are variable names"),
    wellFormedString().max(artifactLimits.contextValueLength),
  )
  .refine((c) => Object.keys(c).length <= artifactLimits.contextEntries, {
    message: `at most ${artifactLimits.contextEntries} context entries`,
  });

export const artifactSchema = z.strictObject({
  id: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be 1-200 characters of letters, digits and ._:+- starting with a letter or digit"),
  package: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name"),
  release: wellFormedString().regex(RELEASE_PATTERN, "must be a distro release like rawhide, f41 or epel9"),
  source: sourceSchema,
  items: z.array(artifactItemSchema).max(artifactLimits.items).default([]),
  context: contextSchema.default({}),
});

export const appendResultsSchema = z.strictObject({
  results: z.array(ciResultItemSchema).min(1).max(artifactLimits.resultsPerAppend),
});

export type Artifact = z.output<typeof artifactSchema>;
export type ArtifactInput = z.input<typeof artifactSchema>;
export type ArtifactItem = z.output<typeof artifactItemSchema>;
export type KojiBuildItem = z.output<typeof kojiBuildItemSchema>;
export type CiResultItem = z.output<typeof ciResultItemSchema>;
export type ComposeItem = z.output<typeof composeItemSchema>;
export type LinkItem = z.output<typeof linkItemSchema>;
export type ArtifactSource = z.output<typeof sourceSchema>;
export type SourceEvent = (typeof sourceEvents)[number];
export type CiOutcome = (typeof ciOutcomes)[number];

/** Validates untrusted input (a request body, a file) into an artifact. */
export function parseArtifact(input: unknown): Parsed<Artifact> {
  return parseWith(artifactSchema, input);
}

/**
 * The canonical JSON text of an artifact: keys sorted at every level, no whitespace. Two
 * pushes with the same content render byte-identically whatever their key order, which is
 * what makes a re-push a no-op and a different body a conflict.
 */
export function renderArtifact(artifact: Artifact): string {
  return canonicalJson(artifact);
}

/** Parses text produced by renderArtifact (or any JSON artifact). */
export function parseArtifactJson(text: string): Parsed<Artifact> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, issues: [{ path: "/", message: `not JSON: ${(err as Error).message}` }] };
  }
  return parseArtifact(raw);
}

export function artifactDigest(artifact: Artifact): string {
  return digestOfRendered(renderArtifact(artifact));
}

/** The digest of text renderArtifact produced (when the caller needs the text too). */
export function digestOfRendered(rendered: string): string {
  return createHash("sha256").update(rendered).digest("hex");
}

export function kojiBuilds(artifact: Pick<Artifact, "items">): KojiBuildItem[] {
  return artifact.items.filter((i): i is KojiBuildItem => i.kind === "koji-build");
}

/**
 * Adds items to a list the way a pipeline means it: an item already present is not added
 * twice, and a ci-result with the same (testcase, refUrl) replaces the earlier outcome.
 */
export function mergeItems(current: ArtifactItem[], added: ArtifactItem[]): ArtifactItem[] {
  const out = [...current];
  for (const item of added) {
    if (item.kind === "ci-result") {
      const at = out.findIndex((i) => i.kind === "ci-result" && resultKey(i) === resultKey(item));
      if (at !== -1) {
        out[at] = item;
        continue;
      }
    }
    if (!out.some((i) => canonicalJson(i) === canonicalJson(item))) out.push(item);
  }
  return out;
}

/** The (testcase, refUrl) pair that identifies a result: re-sending it updates, never duplicates. */
export function resultKey(result: Pick<CiResultItem, "testcase" | "refUrl">): string {
  return `${result.testcase}\u0000${result.refUrl ?? ""}`;
}

/** JSON Schema (2020-12) of the artifact format, for CI pipelines that validate before pushing. */
export function artifactJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://relengd.dev/schemas/artifact-v1.json",
    title: "relengd release artifact",
    ...z.toJSONSchema(artifactSchema, { io: "input" }),
  };
}

/** JSON with keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * Reads an artifact back from the store. The text was produced by renderArtifact after the
 * artifact passed validation, so it is not validated again on every read (a hot path).
 */
export function readStoredArtifact(text: string): Artifact {
  return JSON.parse(text) as Artifact;
}

/** The package name of a koji-build NVR that already passed validation. */
export function parseNvrName(nvr: string): string {
  const parsed = parseNvr(nvr);
  if (!parsed.ok) throw new Error(`invalid NVR reached the store: ${nvr}`);
  return parsed.nvr.name;
}
