// Request documents as a whole: the kinds, their paths, parsing any kind from a file.
import { z } from "zod";
import { canonicalJson } from "../artifact.js";
import { UnsafePathError } from "../paths.js";
import { bodhiUpdatePath, bodhiUpdateSchema, renderBodhiUpdate, type BodhiUpdateDocument } from "./bodhiUpdate.js";
import { composeRequestPath, composeRequestSchema, renderComposeRequest, type ComposeRequestDocument } from "./composeRequest.js";
import { parseEnvelope, validateDocument, type DocumentEnvelope, type DocumentIssue, type DocumentParse } from "./envelope.js";
import { kojiTagPath, kojiTagSchema, renderKojiTag, type KojiTagDocument } from "./kojiTag.js";

export const documentKinds = ["KojiTag", "BodhiUpdate", "ComposeRequest"] as const;
export type DocumentKind = (typeof documentKinds)[number];
export type RequestDocument = KojiTagDocument | BodhiUpdateDocument | ComposeRequestDocument;

const schemas = { KojiTag: kojiTagSchema, BodhiUpdate: bodhiUpdateSchema, ComposeRequest: composeRequestSchema } as const;

/** Where a document lives in the GitOps repo; throws UnsafePathError for unsafe segments. */
export function documentPath(doc: RequestDocument): string {
  switch (doc.kind) {
    case "KojiTag":
      return kojiTagPath(doc.spec);
    case "BodhiUpdate":
      return bodhiUpdatePath(doc.spec);
    case "ComposeRequest":
      return composeRequestPath(doc.spec);
  }
}

export function renderDocument(doc: RequestDocument): string {
  switch (doc.kind) {
    case "KojiTag":
      return renderKojiTag(doc);
    case "BodhiUpdate":
      return renderBodhiUpdate(doc);
    case "ComposeRequest":
      return renderComposeRequest(doc);
  }
}

/**
 * Parses a document file. With `path` (repo-relative), also checks that the path is the one
 * its content says it must live at.
 */
export function parseDocumentText(text: string, path?: string): DocumentParse<RequestDocument> {
  const envelope = parseEnvelope(text, documentKinds);
  if (!envelope.ok) return envelope;
  return validateRequestDocument(envelope, path);
}

/** The rest of parseDocumentText once the kind is known (also the "any document file" dispatcher's). */
export function validateRequestDocument(envelope: DocumentEnvelope<DocumentKind>, path?: string): DocumentParse<RequestDocument> {
  const { kind, raw, lineOf } = envelope;
  const parsed = validateDocument(schemas[kind] as z.ZodType<RequestDocument>, raw, lineOf);
  if (!parsed.ok || path === undefined) return parsed;
  let expected: string;
  try {
    expected = documentPath(parsed.value);
  } catch (err) {
    if (err instanceof UnsafePathError) {
      const line = lineOf(["spec"]);
      return { ok: false, issues: [{ path: "/spec", message: err.message, ...(line === undefined ? {} : { line }) }] };
    }
    throw err;
  }
  if (expected !== path) {
    const issue: DocumentIssue = { path: "/spec", message: `a ${kind} with this spec must live at ${expected}, not ${path}`, line: lineOf(["spec"]) ?? 1 };
    return { ok: false, issues: [issue] };
  }
  return parsed;
}

/** Why a built document fails its own schema (in words), or undefined when it is valid. */
export function documentProblems(doc: RequestDocument): string | undefined {
  const r = validateDocument(schemas[doc.kind] as z.ZodType<RequestDocument>, doc);
  return r.ok ? undefined : r.issues.map((i) => `${i.path} ${i.message}`).join("; ");
}

/**
 * Whether a file's text already requests what `doc` requests: same kind, artifact, environment
 * and spec. Release ids aside, writing `doc` would change nothing.
 */
export function sameRequest(text: string | undefined, doc: RequestDocument): boolean {
  if (text === undefined) return false;
  const parsed = parseDocumentText(text);
  if (!parsed.ok) return false;
  const have = parsed.value;
  return (
    have.kind === doc.kind &&
    have.metadata.artifactId === doc.metadata.artifactId &&
    have.metadata.environment === doc.metadata.environment &&
    canonicalJson(have.spec) === canonicalJson(doc.spec)
  );
}

/** JSON Schemas (2020-12) of each document kind, for editors and forges. */
export function documentJsonSchemas(): Record<DocumentKind, Record<string, unknown>> {
  const out = {} as Record<DocumentKind, Record<string, unknown>>;
  for (const kind of documentKinds) {
    out[kind] = {
      $id: `https://relengd.dev/schemas/${kind}-v1.json`,
      title: `relengd ${kind} request document`,
      ...z.toJSONSchema(schemas[kind], { io: "input" }),
    };
  }
  return out;
}

export type { BodhiUpdateDocument, ComposeRequestDocument, KojiTagDocument };
