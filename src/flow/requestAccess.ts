// Which packages a request is about, for the package scope of the token that submits or decides it.
import type { ProposedDocument } from "../domain/requests/index.js";

/** BranchRequest and RepoRequest: their repo; SideTag: every package it will hold; the other kinds: none. */
export function packagesOf(doc: ProposedDocument): string[] {
  switch (doc.kind) {
    case "BranchRequest":
    case "RepoRequest":
      return [doc.spec.repo];
    case "SideTag":
      return [...doc.spec.packages];
    // Releases, rebuilds, SIGs, events and meetings are about no one package: a package-scoped token covers none of them.
    case "MassBranch":
    case "MassRebuild":
    case "SigRequest":
    case "EventRequest":
    case "CalendarEntry":
      return [];
  }
}
