// Any document file of the GitOps repo, whoever writes it: a release document (relengd's) or a
// proposed document (a person's request), told apart by its kind. What lint and the request
// recorder call.
import { documentKinds, validateRequestDocument, type DocumentKind, type RequestDocument } from "./documents/index.js";
import { parseEnvelope, type DocumentParse } from "./documents/envelope.js";
import { isRequestKind, requestKinds, validateProposedDocument, type ProposedDocument, type RequestKind } from "./requests/index.js";

export const anyDocumentKinds = [...documentKinds, ...requestKinds] as const;
export type AnyDocumentKind = DocumentKind | RequestKind;
export type AnyDocument = RequestDocument | ProposedDocument;

/** Parses a document file of any kind at repo-relative `path`, checking the path its content names. */
export function parseAnyDocumentText(text: string, path: string): DocumentParse<AnyDocument> {
  const envelope = parseEnvelope<AnyDocumentKind>(text, anyDocumentKinds);
  if (!envelope.ok) return envelope;
  const { kind } = envelope;
  return isRequestKind(kind) ? validateProposedDocument({ ...envelope, kind }, path) : validateRequestDocument({ ...envelope, kind }, path);
}

export function isProposedDocument(doc: AnyDocument): doc is ProposedDocument {
  return isRequestKind(doc.kind);
}
