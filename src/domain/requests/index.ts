// Proposed documents as a whole (requests a person writes): the kinds, their paths, parsing any
// of them from a file, rendering, and their JSON Schemas.
import { z } from "zod";
import { parseEnvelope, validateDocument, type DocumentEnvelope, type DocumentIssue, type DocumentParse } from "../documents/envelope.js";
import { UnsafePathError } from "../paths.js";
import { branchRequestPath, branchRequestSchema, renderBranchRequest, type BranchRequestDocument } from "./branchRequest.js";
import { renderRepoRequest, repoRequestPath, repoRequestSchema, type RepoRequestDocument } from "./repoRequest.js";
import { renderSideTag, sideTagPath, sideTagPlaceOf, sideTagSchema, type SideTagDocument, type SideTagPlace } from "./sideTag.js";

export const requestKinds = ["BranchRequest", "RepoRequest", "SideTag"] as const;
export type RequestKind = (typeof requestKinds)[number];
export type ProposedDocument = BranchRequestDocument | RepoRequestDocument | SideTagDocument;

/** The folders of the GitOps repo that hold proposed documents (lint walks them; the request poller reads them). */
export const requestRoots = ["distgit/", "koji/sidetags/"] as const;

const schemas = { BranchRequest: branchRequestSchema, RepoRequest: repoRequestSchema, SideTag: sideTagSchema } as const;

export function isRequestKind(kind: string): kind is RequestKind {
  return (requestKinds as readonly string[]).includes(kind);
}

/** Whether a repo-relative path is where proposed documents live (by folder; the content decides the kind). */
export function isProposedDocumentPath(path: string): boolean {
  return requestRoots.some((root) => path.startsWith(root)) && /\.ya?ml$/.test(path);
}

/**
 * Where a proposed document lives in the GitOps repo; throws UnsafePathError for unsafe
 * segments. A SideTag's path names its owner and label, which its spec does not: give `place`.
 */
export function proposedDocumentPath(doc: ProposedDocument, place?: SideTagPlace): string {
  switch (doc.kind) {
    case "BranchRequest":
      return branchRequestPath(doc.spec);
    case "RepoRequest":
      return repoRequestPath(doc.spec);
    case "SideTag":
      if (!place) throw new UnsafePathError("a SideTag's path names its owner and label (koji/sidetags/<owner>/<label>.yaml): give them");
      return sideTagPath(place);
  }
}

/** YAML of a proposed document, with no "Written by relengd" header: the file is the person's. */
export function renderProposedDocument(doc: ProposedDocument): string {
  switch (doc.kind) {
    case "BranchRequest":
      return renderBranchRequest(doc);
    case "RepoRequest":
      return renderRepoRequest(doc);
    case "SideTag":
      return renderSideTag(doc);
  }
}

/**
 * Parses a proposed document file, each problem on its line. With `path` (repo-relative), also
 * checks that the path is the one its content names.
 */
export function parseProposedText(text: string, path?: string): DocumentParse<ProposedDocument> {
  const envelope = parseEnvelope(text, requestKinds);
  if (!envelope.ok) return envelope;
  return validateProposedDocument(envelope, path);
}

/** The rest of parseProposedText once the kind is known (also the "any document file" dispatcher's). */
export function validateProposedDocument(envelope: DocumentEnvelope<RequestKind>, path?: string): DocumentParse<ProposedDocument> {
  const { kind, raw, lineOf } = envelope;
  const parsed = validateDocument(schemas[kind] as z.ZodType<ProposedDocument>, raw, lineOf);
  if (!parsed.ok || path === undefined) return parsed;
  const specLine = lineOf(["spec"]) ?? 1;
  let expected: string;
  if (parsed.value.kind === "SideTag") {
    // The owner and label come from the path; only its shape can be checked.
    if (sideTagPlaceOf(path)) return parsed;
    return { ok: false, issues: [{ path: "/", message: `a SideTag must live at koji/sidetags/<owner>/<label>.yaml (owner a user name: lowercase letters, digits and _.-), not ${path}`, line: 1 }] };
  }
  try {
    expected = proposedDocumentPath(parsed.value);
  } catch (err) {
    if (err instanceof UnsafePathError) return { ok: false, issues: [{ path: "/spec", message: err.message, line: specLine }] };
    throw err;
  }
  if (expected !== path) {
    const issue: DocumentIssue = { path: "/spec", message: `a ${kind} with this spec must live at ${expected}, not ${path}`, line: specLine };
    return { ok: false, issues: [issue] };
  }
  return parsed;
}

/** Why a built proposed document fails its own schema (in words), or undefined when it is valid. */
export function proposedDocumentProblems(doc: ProposedDocument): string | undefined {
  const r = validateDocument(schemas[doc.kind] as z.ZodType<ProposedDocument>, doc);
  return r.ok ? undefined : r.issues.map((i) => `${i.path} ${i.message}`).join("; ");
}

/** JSON Schemas (2020-12) of each proposed document kind, for editors and forges. */
export function proposedJsonSchemas(): Record<RequestKind, Record<string, unknown>> {
  const out = {} as Record<RequestKind, Record<string, unknown>>;
  for (const kind of requestKinds) {
    out[kind] = {
      $id: `https://relengd.dev/schemas/${kind}-v1.json`,
      title: `relengd ${kind} request`,
      ...z.toJSONSchema(schemas[kind], { io: "input" }),
    };
  }
  return out;
}

export type { BranchRequestDocument, RepoRequestDocument, SideTagDocument, SideTagPlace };
