// BodhiUpdate: a desired Bodhi update, in Bodhi's own field names (bodhi.server.schemas).
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { KOJI_TAG_PATTERN } from "../artifact.js";
import { parseNvr } from "../nvr.js";
import { repoPath } from "../paths.js";
import { documentSchema, renderYaml, type DocumentMetadata } from "./envelope.js";

// Bodhi's enums (bodhi.server.models.UpdateType / UpdateSeverity / UpdateRequest).
export const bodhiUpdateTypes = ["newpackage", "security", "bugfix", "enhancement", "unspecified"] as const;
export const bodhiSeverities = ["unspecified", "low", "medium", "high", "urgent"] as const;
export const bodhiRequests = ["testing", "stable"] as const;
// Bodhi release names: F44, F44F, EPEL-9, EPEL-10.1, ELN.
export const BODHI_RELEASE_PATTERN = /^[A-Z][A-Za-z0-9.-]{0,31}$/;
// Bodhi update aliases as Bodhi makes them: a prefix, the year, ten lowercase hex digits
// (FEDORA-2019-d64d0caab3, FEDORA-EPEL-2023-3b5f9c33da).
export const BODHI_ALIAS_PATTERN = /^[A-Z][A-Za-z0-9-]{4,63}$/;

export const bodhiUpdateSpecSchema = z
  .strictObject({
    release: wellFormedString().regex(BODHI_RELEASE_PATTERN, "must be a Bodhi release name like F44 or EPEL-9"),
    builds: z.array(wellFormedString().refine((v) => parseNvr(v).ok, "must be a valid NVR")).min(1).max(200),
    type: z.enum(bodhiUpdateTypes),
    severity: z.enum(bodhiSeverities),
    notes: wellFormedString().max(10_000),
    bugs: z.array(z.number().int().positive()).max(100).default([]),
    request: z.enum(bodhiRequests),
    autokarma: z.boolean(),
    stable_karma: z.number().int().min(1).max(100),
    unstable_karma: z.number().int().min(-100).max(-1),
    autotime: z.boolean(),
    stable_days: z.number().int().min(0).max(365),
    from_tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji side tag").optional(),
    alias: wellFormedString().regex(BODHI_ALIAS_PATTERN, "must be a Bodhi update alias").optional(),
  })
  .refine((s) => s.builds.length === 1 || s.from_tag !== undefined, {
    message: "an update of several builds must come from a side tag (from_tag)",
    path: ["from_tag"],
  })
  .refine((s) => s.type !== "security" || s.severity !== "unspecified", {
    message: "a security update needs a severity (Bodhi refuses unspecified)",
    path: ["severity"],
  });

export const bodhiUpdateSchema = documentSchema("BodhiUpdate", bodhiUpdateSpecSchema);
export type BodhiUpdateDocument = z.output<typeof bodhiUpdateSchema>;

/** The file key: the side tag of a multi-build update, else the one build's package. */
export function bodhiUpdateKey(spec: { builds: string[]; from_tag?: string | undefined }): string {
  if (spec.from_tag) return spec.from_tag;
  const first = parseNvr(spec.builds[0] ?? "");
  if (!first.ok) throw new Error("bodhi update without a valid build");
  return first.nvr.name;
}

export function bodhiUpdatePath(spec: { release: string; builds: string[]; from_tag?: string | undefined }): string {
  return repoPath("bodhi", spec.release, bodhiUpdateKey(spec)) + ".yaml";
}

export function buildBodhiUpdate(spec: BodhiUpdateDocument["spec"], metadata: DocumentMetadata): BodhiUpdateDocument {
  return { apiVersion: "relengd/v1", kind: "BodhiUpdate", metadata, spec };
}

export function renderBodhiUpdate(doc: BodhiUpdateDocument): string {
  return renderYaml(doc);
}
