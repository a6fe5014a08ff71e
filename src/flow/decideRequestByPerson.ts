// Use case: a releaser approves or denies a request that waits for a person (`relengd request
// approve|deny ID --reason`); a token scoped to package globs decides only requests about them.
import { parseProposedText } from "../domain/requests/index.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import { RequestStateChanged, type RequestRecord, type RequestRepository } from "../store/requestRepository.js";
import { packagesOf } from "./requestAccess.js";
import type { PersonDecisionOutcome } from "./requestDeps.js";

export interface DecideRequestDeps {
  requests: RequestRepository;
  now?: () => Date;
  /** Told of each decision (the writer merges an approved request). */
  onDecided?: (request: RequestRecord) => void;
}

/** The packages a request's documents are about; a document that no longer parses names none. */
function packagesOfRequest(request: RequestRecord): string[] {
  return request.documents.flatMap((d) => {
    const parsed = parseProposedText(d.content);
    return parsed.ok ? packagesOf(parsed.value) : [];
  });
}

export async function decideRequestByPerson(deps: DecideRequestDeps, principal: Principal, input: { id: string; approve: boolean; reason: string }): Promise<PersonDecisionOutcome> {
  if (!roleAtLeast(principal.role, "releaser")) return { status: "forbidden", reason: `deciding a request needs the releaser role; the token has ${principal.role}` };
  const request = await deps.requests.get(input.id);
  if (!request) return { status: "not-found" };
  if (principal.packages !== undefined) {
    const packages = packagesOfRequest(request);
    const outside = packages.filter((p) => !mayTouchPackage(principal, p));
    // A scoped token decides only what it can see all of: a request about no package is beyond it.
    if (packages.length === 0 || outside.length > 0) return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages.join(", ")} and may not decide a request about ${outside.length > 0 ? outside.slice(0, 5).join(", ") : "no package"}` };
  }
  try {
    const decided = await deps.requests.decideByPerson(input.id, { approve: input.approve, user: principal.subject, reason: input.reason }, deps.now?.() ?? new Date());
    if (!decided) return { status: "not-found" };
    deps.onDecided?.(decided);
    return { status: "decided", request: decided };
  } catch (err) {
    if (err instanceof RequestStateChanged) return { status: "not-decidable", request: err.request, reason: err.message };
    throw err;
  }
}
