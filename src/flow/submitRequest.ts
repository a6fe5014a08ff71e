// Use case: `relengd request submit FILE` — the server makes the request branch for the caller
// (as `fedpkg request-branch` files a ticket), with the token's subject as its verified author.
import type { ResolvedRepository } from "../domain/environmentSet.js";
import { parseProposedText, proposedDocumentPath, type ProposedDocument } from "../domain/requests/index.js";
import { isSideTagOwner } from "../domain/requests/sideTag.js";
import { UnsafePathError } from "../domain/paths.js";
import type { RequestRevision } from "../domain/requests/revision.js";
import { mayTouchPackage, type Principal } from "../domain/token.js";
import { recordRequest, type RecordRequestDeps } from "./recordRequest.js";
import { packagesOf } from "./requestAccess.js";
import type { SubmitOutcome } from "./requestDeps.js";
import type { RequestRecord } from "../store/requestRepository.js";

/** The git side of a submission (gitops/requestSubmission.ts). */
export interface SubmissionPort {
  serialized<T>(repo: ResolvedRepository, work: () => Promise<T>): Promise<T>;
  prepare(input: { repo: ResolvedRepository; branch: string; path: string; content: string; subject: string; message: string; now: Date }): Promise<{ revision: RequestRevision; unchanged: boolean; push(): Promise<void> }>;
}

export interface SubmitRequestDeps extends RecordRequestDeps {
  /** The repository requests go to; undefined when none is declared. */
  repository: () => ResolvedRepository | undefined;
  submissions: SubmissionPort;
  /** The branch is on the remote now (the writer may merge an approved request). */
  onPushed?: (request: RequestRecord) => void;
}

const slug = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 80) || "x";

/** Where a submitted document goes: its spec's path; a SideTag under the caller's name. */
function placeOf(doc: ProposedDocument, subject: string, givenPath: string | undefined): { path: string } | { error: string } {
  if (givenPath !== undefined) return { path: givenPath };
  // A meeting's calendar is named by its path only: the caller says which calendar.
  if (doc.kind === "CalendarEntry") return { error: "a CalendarEntry's calendar is named by its path: give the document's path (calendar/<calendar>/<meeting_date>-<slug>.yaml)" };
  if (doc.kind !== "SideTag") {
    try {
      return { path: proposedDocumentPath(doc) };
    } catch (err) {
      if (err instanceof UnsafePathError) return { error: err.message };
      throw err;
    }
  }
  if (!isSideTagOwner(subject)) return { error: `the token's subject "${subject}" cannot own a side tag; give the document's path (koji/sidetags/<owner>/<label>.yaml)` };
  const label = slug(doc.spec.suffix ?? `${doc.spec.base_tag}-${doc.spec.packages[0] ?? "side"}`);
  return { path: proposedDocumentPath(doc, { owner: subject, label }) };
}

export async function submitRequest(deps: SubmitRequestDeps, principal: Principal, input: { text: string; path?: string }): Promise<SubmitOutcome> {
  const first = parseProposedText(input.text);
  if (!first.ok) return { status: "invalid", problems: first.issues.map((i) => ({ path: input.path ?? "document", line: i.line ?? 1, ...(i.path !== "/" ? { field: i.path } : {}), message: i.message })) };
  const doc = first.value;
  const place = placeOf(doc, principal.subject, input.path);
  if ("error" in place) return { status: "invalid", problems: [{ path: "document", line: 1, message: place.error }] };
  // With the path known, the document must be the one that path holds.
  const parsed = parseProposedText(input.text, place.path);
  if (!parsed.ok) return { status: "invalid", problems: parsed.issues.map((i) => ({ path: place.path, line: i.line ?? 1, ...(i.path !== "/" ? { field: i.path } : {}), message: i.message })) };
  const outside = packagesOf(doc).filter((p) => !mayTouchPackage(principal, p));
  if (outside.length > 0) return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not request for ${outside.slice(0, 5).join(", ")}` };
  const repo = deps.repository();
  if (!repo) return { status: "unavailable", reason: "no repository is declared for requests" };
  const branch = `requests/${slug(principal.subject)}/${slug(place.path.replace(/\.ya?ml$/, "").replace(/\//g, "-"))}`;
  const now = deps.now?.() ?? new Date();
  try {
    return await deps.submissions.serialized(repo, async () => {
      const prepared = await deps.submissions.prepare({ repo, branch, path: place.path, content: input.text, subject: principal.subject, message: `request: ${place.path}\n\nSubmitted by ${principal.subject} through the relengd API.\n`, now });
      // Recorded before it is pushed: the poller then finds the revision known, never unverified.
      const { request, created } = await recordRequest(deps, prepared.revision);
      try {
        await prepared.push();
      } catch (err) {
        if (created) await deps.requests.withdraw(request.id, deps.now?.() ?? new Date());
        return { status: "unavailable", reason: `the request branch ${branch} could not be pushed: ${err instanceof Error ? err.message : String(err)}` } as const;
      }
      deps.onPushed?.(request);
      return { status: "recorded", request: (await deps.requests.get(request.id)) ?? request, created } as const;
    });
  } catch (err) {
    return { status: "unavailable", reason: err instanceof Error ? err.message : String(err) };
  }
}
