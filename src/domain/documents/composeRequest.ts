// ComposeRequest: a compose for Pungi to run.
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { COMPOSE_ID_PATTERN, RELEASE_PATTERN } from "../artifact.js";
import { repoPath } from "../paths.js";
import { documentSchema, renderYaml, type DocumentMetadata } from "./envelope.js";

export const composeRequestTypes = ["nightly", "test", "production"] as const;
export const COMPOSE_LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const composeRequestSpecSchema = z.strictObject({
  release: wellFormedString().regex(RELEASE_PATTERN, "must be a distro release like rawhide or f44"),
  type: z.enum(composeRequestTypes),
  /** Names the file: a Pungi label (RC-1.2) or the compose date (20261125.n.0). */
  label: wellFormedString().regex(COMPOSE_LABEL_PATTERN, "must be a compose label like RC-1.2 or a date like 20261125.n.0"),
  reason: wellFormedString().min(1).max(2000),
  composeId: wellFormedString().regex(COMPOSE_ID_PATTERN, "must be a compose id").optional(),
});

export const composeRequestSchema = documentSchema("ComposeRequest", composeRequestSpecSchema);
export type ComposeRequestDocument = z.output<typeof composeRequestSchema>;

export function composeRequestPath(spec: { release: string; label: string }): string {
  return repoPath("composes", spec.release, spec.label) + ".yaml";
}

export function buildComposeRequest(spec: ComposeRequestDocument["spec"], metadata: DocumentMetadata): ComposeRequestDocument {
  return { apiVersion: "relengd/v1", kind: "ComposeRequest", metadata, spec };
}

export function renderComposeRequest(doc: ComposeRequestDocument): string {
  return renderYaml(doc);
}
