// KojiTag: "<package> in <tag> is <nvr>" — declarative, the latest document wins.
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { KOJI_TAG_PATTERN, PACKAGE_PATTERN } from "../artifact.js";
import { parseNvr } from "../nvr.js";
import { repoPath } from "../paths.js";
import { documentSchema, renderYaml, type DocumentMetadata } from "./envelope.js";

export const kojiTagSpecSchema = z
  .strictObject({
    tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name"),
    package: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name"),
    nvr: wellFormedString().refine((v) => parseNvr(v).ok, "must be a valid NVR"),
  })
  .superRefine((s, ctx) => {
    const p = parseNvr(s.nvr);
    // An unparsable NVR is reported once, by the field check above.
    if (p.ok && p.nvr.name !== s.package) ctx.addIssue({ code: "custom", message: `${s.nvr} is a build of ${p.nvr.name}, not of package ${s.package}`, path: ["nvr"] });
  });

export const kojiTagSchema = documentSchema("KojiTag", kojiTagSpecSchema);
export type KojiTagDocument = z.output<typeof kojiTagSchema>;

export function kojiTagPath(spec: { tag: string; package: string }): string {
  return repoPath("koji", "tags", spec.tag, spec.package) + ".yaml";
}

export function buildKojiTag(spec: KojiTagDocument["spec"], metadata: DocumentMetadata): KojiTagDocument {
  return { apiVersion: "relengd/v1", kind: "KojiTag", metadata, spec };
}

export function renderKojiTag(doc: KojiTagDocument): string {
  return renderYaml(doc);
}
