// Which packages a request is about, for the package scope of the token that submits or decides it.
import type { ProposedDocument } from "../domain/requests/index.js";

/** BranchRequest and RepoRequest: their repo; SideTag: every package it will hold. */
export function packagesOf(doc: ProposedDocument): string[] {
  switch (doc.kind) {
    case "BranchRequest":
    case "RepoRequest":
      return [doc.spec.repo];
    case "SideTag":
      return [...doc.spec.packages];
  }
}
