// Proposed documents as a whole (requests a person writes): the kinds, their paths, parsing any
// of them from a file, rendering, and their JSON Schemas.
import { z } from "zod";
import { parseEnvelope, validateDocument, type DocumentEnvelope, type DocumentIssue, type DocumentParse } from "../documents/envelope.js";
import { UnsafePathError } from "../paths.js";
import { branchRequestPath, branchRequestSchema, renderBranchRequest, type BranchRequestDocument } from "./branchRequest.js";
import { renderRepoRequest, repoRequestPath, repoRequestSchema, type RepoRequestDocument } from "./repoRequest.js";
import { renderSideTag, sideTagPath, sideTagPlaceOf, sideTagSchema, type SideTagDocument, type SideTagPlace } from "./sideTag.js";
import { calendarEntryPath, calendarEntryPlaceOf, calendarEntrySchema, renderCalendarEntry, type CalendarEntryDocument, type CalendarEntryPlace } from "./calendarEntry.js";
import { eventRequestPath, eventRequestSchema, renderEventRequest, type EventRequestDocument } from "./eventRequest.js";
import { massBranchPath, massBranchSchema, renderMassBranch, type MassBranchDocument } from "./massBranch.js";
import { massRebuildPath, massRebuildRelease, massRebuildSchema, renderMassRebuild, type MassRebuildDocument } from "./massRebuild.js";
import { renderSigRequest, sigRequestPath, sigRequestSchema, type SigRequestDocument } from "./sigRequest.js";

export const requestKinds = ["BranchRequest", "RepoRequest", "SideTag", "MassBranch", "MassRebuild", "SigRequest", "EventRequest", "CalendarEntry"] as const;
export type RequestKind = (typeof requestKinds)[number];
export type ProposedDocument =
  | BranchRequestDocument
  | RepoRequestDocument
  | SideTagDocument
  | MassBranchDocument
  | MassRebuildDocument
  | SigRequestDocument
  | EventRequestDocument
  | CalendarEntryDocument;

/** Where a document lives when its spec does not say it all: a SideTag's owner and label, a CalendarEntry's calendar and slug. */
export type ProposedPlace = SideTagPlace | CalendarEntryPlace;

/** The folders of the GitOps repo that hold proposed documents (lint walks them; the request poller reads them). */
export const requestRoots = ["distgit/", "koji/sidetags/", "releases/", "rebuilds/", "sigs/", "events/", "calendar/"] as const;

const schemas = {
  BranchRequest: branchRequestSchema,
  RepoRequest: repoRequestSchema,
  SideTag: sideTagSchema,
  MassBranch: massBranchSchema,
  MassRebuild: massRebuildSchema,
  SigRequest: sigRequestSchema,
  EventRequest: eventRequestSchema,
  CalendarEntry: calendarEntrySchema,
} as const;

export function isRequestKind(kind: string): kind is RequestKind {
  return (requestKinds as readonly string[]).includes(kind);
}

/** Whether a repo-relative path is where proposed documents live (by folder; the content decides the kind). */
export function isProposedDocumentPath(path: string): boolean {
  return requestRoots.some((root) => path.startsWith(root)) && /\.ya?ml$/.test(path);
}

const isSideTagPlace = (place: ProposedPlace | undefined): place is SideTagPlace => place !== undefined && "owner" in place && "label" in place;
const isCalendarPlace = (place: ProposedPlace | undefined): place is CalendarEntryPlace => place !== undefined && "calendar" in place && "slug" in place;

/**
 * Where a proposed document lives in the GitOps repo; throws UnsafePathError for unsafe
 * segments. A SideTag's path names its owner and label, a CalendarEntry's its calendar and slug,
 * which their specs do not: give `place`.
 */
export function proposedDocumentPath(doc: ProposedDocument, place?: ProposedPlace): string {
  switch (doc.kind) {
    case "BranchRequest":
      return branchRequestPath(doc.spec);
    case "RepoRequest":
      return repoRequestPath(doc.spec);
    case "SideTag":
      if (!isSideTagPlace(place)) throw new UnsafePathError("a SideTag's path names its owner and label (koji/sidetags/<owner>/<label>.yaml): give them");
      return sideTagPath(place);
    case "MassBranch":
      return massBranchPath(doc.spec);
    case "MassRebuild": {
      const path = massRebuildPath(doc.spec);
      if (path === undefined) throw new UnsafePathError(`a MassRebuild lives at rebuilds/f<N>.yaml, N the release of its desttag, and desttag ${JSON.stringify(doc.spec.desttag)} names no Fedora release like f40`);
      return path;
    }
    case "SigRequest":
      return sigRequestPath(doc.spec);
    case "EventRequest":
      return eventRequestPath(doc.spec);
    case "CalendarEntry":
      if (!isCalendarPlace(place)) throw new UnsafePathError("a CalendarEntry's path names its calendar and slug (calendar/<calendar>/<date>-<slug>.yaml): give them");
      return calendarEntryPath(doc.spec, place);
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
    case "MassBranch":
      return renderMassBranch(doc);
    case "MassRebuild":
      return renderMassRebuild(doc);
    case "SigRequest":
      return renderSigRequest(doc);
    case "EventRequest":
      return renderEventRequest(doc);
    case "CalendarEntry":
      return renderCalendarEntry(doc);
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
  if (parsed.value.kind === "CalendarEntry") {
    // The calendar and slug come from the path; the date in it must be the meeting's.
    const place = calendarEntryPlaceOf(path);
    if (!place) return { ok: false, issues: [{ path: "/", message: `a CalendarEntry must live at calendar/<calendar>/<YYYY-MM-DD>-<slug>.yaml (calendar and slug letters, digits and ._+-), not ${path}`, line: 1 }] };
    if (place.date !== parsed.value.spec.meeting_date) {
      return { ok: false, issues: [{ path: "/spec/meeting_date", message: `the path names ${place.date}, the meeting is on ${parsed.value.spec.meeting_date}: a CalendarEntry lives at calendar/<calendar>/<meeting_date>-<slug>.yaml`, line: lineOf(["spec", "meeting_date"]) ?? specLine }] };
    }
    return parsed;
  }
  if (parsed.value.kind === "MassRebuild") {
    const misfit = massRebuildVersionMisfit(parsed.value.spec);
    if (misfit) return { ok: false, issues: [{ path: `/spec/${misfit[0]}`, message: misfit[1], line: lineOf(["spec", misfit[0]]) ?? specLine }] };
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

/** A rebuild's version or rawhide_version that is not the release of its desttag (f40 with rawhide_version 41). */
function massRebuildVersionMisfit(spec: MassRebuildDocument["spec"]): [string, string] | undefined {
  const n = massRebuildRelease(spec);
  if (n === undefined) return undefined;
  if (spec.version !== "rawhide" && spec.version !== n) return ["version", `must be ${n} (or rawhide), the release of desttag ${spec.desttag}`];
  if (spec.rawhide_version !== undefined && spec.rawhide_version !== n) return ["rawhide_version", `must be ${n}, the release of desttag ${spec.desttag}`];
  return undefined;
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

export type {
  BranchRequestDocument,
  CalendarEntryDocument,
  CalendarEntryPlace,
  EventRequestDocument,
  MassBranchDocument,
  MassRebuildDocument,
  RepoRequestDocument,
  SideTagDocument,
  SideTagPlace,
  SigRequestDocument,
};
