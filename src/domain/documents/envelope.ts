// What every request document shares: apiVersion, kind, metadata; YAML in and out.
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, stringify } from "yaml";
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { ARTIFACT_ID_PATTERN, type FieldIssue } from "../artifact.js";
import { fieldErrorMap, fieldIssuesOf, jsonPointer } from "../fieldIssues.js";

export const API_VERSION = "relengd/v1";

export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Hand-written documents (a merge request by a person) may leave metadata out. */
export const metadataSchema = z.strictObject({
  artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id").optional(),
  releaseId: wellFormedString().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a relengd release id (ULID)").optional(),
  environment: wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name").optional(),
});

export type DocumentMetadata = z.output<typeof metadataSchema>;

export function documentSchema<K extends string, S extends z.ZodType>(kind: K, spec: S) {
  return z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: metadataSchema.default({}),
    spec,
  });
}

/** A problem in a document file, with the line it is on when known. */
export interface DocumentIssue extends FieldIssue {
  line?: number;
}

export type DocumentParse<T> = { ok: true; value: T } | { ok: false; issues: DocumentIssue[] };

const HEADER = "# Written by relengd. Fields follow the relengd/v1 request-document schema.\n";

/** YAML text of a document; key order is the schema's, so equal documents are equal bytes. */
export function renderYaml(doc: unknown): string {
  return HEADER + stringify(doc, { lineWidth: 0, indent: 2 });
}

/**
 * Parses YAML text into a raw value with a way back from a field path to its line, so lint
 * can say file:line.
 */
export function parseYaml(text: string): { ok: true; value: unknown; lineOf: (path: (string | number)[]) => number | undefined } | { ok: false; issues: DocumentIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: "/", message: `YAML: ${e.message.split("\n")[0]}`, line: lineCounter.linePos(e.pos[0]).line })),
    };
  }
  return {
    ok: true,
    value: doc.toJS(),
    // The line of the key (for a mapping entry) or of the item (for a sequence entry) that a
    // field path names; for a field that is missing, the line of the nearest one present.
    lineOf: (path) => {
      for (let n = path.length; n >= 1; n--) {
        const container = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
        const last = path[n - 1];
        if (isMap(container)) {
          const pair = container.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
          const range = pair && isNode(pair.key) ? pair.key.range : undefined;
          if (range) return lineCounter.linePos(range[0]).line;
        } else if (isSeq(container) && typeof last === "number") {
          const item = container.items[last];
          if (isNode(item) && item.range) return lineCounter.linePos(item.range[0]).line;
        }
      }
      return isNode(doc.contents) && doc.contents.range ? lineCounter.linePos(doc.contents.range[0]).line : undefined;
    },
  };
}

/** A document file read as far as its kind: the YAML mapping, a way to lines, and the kind. */
export interface DocumentEnvelope<K extends string> {
  ok: true;
  raw: object;
  kind: K;
  lineOf: (path: (string | number)[]) => number | undefined;
}

/**
 * Parses a document file up to its kind: YAML, a mapping, apiVersion relengd/v1, and a kind
 * among `kinds`. Each failure is one issue on the line it is about.
 */
export function parseEnvelope<K extends string>(text: string, kinds: readonly K[]): DocumentEnvelope<K> | { ok: false; issues: DocumentIssue[] } {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  const raw = yaml.value as { apiVersion?: unknown; kind?: unknown } | null;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: "/", message: "a document is a YAML mapping", line: 1 }] };
  }
  if (raw.apiVersion !== API_VERSION) {
    return { ok: false, issues: [{ path: "/apiVersion", message: `must be ${API_VERSION}`, line: yaml.lineOf(["apiVersion"]) ?? 1 }] };
  }
  const kind = raw.kind;
  if (typeof kind !== "string" || !(kinds as readonly string[]).includes(kind)) {
    return { ok: false, issues: [{ path: "/kind", message: `must be one of ${kinds.join(", ")}`, line: yaml.lineOf(["kind"]) ?? 1 }] };
  }
  return { ok: true, raw, kind: kind as K, lineOf: yaml.lineOf };
}

/** Validates a raw value with a kind's schema, attaching line numbers where it can. */
export function validateDocument<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  lineOf: (path: (string | number)[]) => number | undefined = () => undefined,
): DocumentParse<z.output<S>> {
  const r = schema.safeParse(raw, { error: fieldErrorMap });
  if (r.success) return { ok: true, value: r.data };
  // An unknown key is reported on its own line, one issue per key.
  const issues = fieldIssuesOf(r.error).map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message }));
  return {
    ok: false,
    issues: issues.map((i) => {
      const pointer = jsonPointer(i.path);
      const line = lineOf(i.path);
      return line === undefined ? { path: pointer, message: i.message } : { path: pointer, message: i.message, line };
    }),
  };
}
