// What the request use cases (record, submit, decide by a person, merge) are given, and what they answer.
import type { UnreviewedReport } from "../domain/requests/unreviewed.js";
import type { Principal } from "../domain/token.js";
import type { RequestRecord, RequestRepository } from "../store/requestRepository.js";

/** A problem of a proposed document, as `relengd lint` prints it: `path:line: /field message`. */
export interface RequestProblem {
  path: string;
  line: number;
  field?: string;
  message: string;
}

export type SubmitOutcome =
  /** Recorded (201), judged already: status approved, needs-review or denied. `created` false: the same revision was submitted before. */
  | { status: "recorded"; request: RequestRecord; created: boolean }
  /** The document does not lint (422, code request-invalid). */
  | { status: "invalid"; problems: RequestProblem[] }
  /** The token's package scope does not cover what the document asks for (403). */
  | { status: "forbidden"; reason: string }
  /** The GitOps repository could not be read or written (503). */
  | { status: "unavailable"; reason: string };

export type PersonDecisionOutcome =
  | { status: "decided"; request: RequestRecord }
  | { status: "not-found" }
  /** The token's role or package scope does not let it decide this request (403). */
  | { status: "forbidden"; reason: string }
  /** Not in a status a person can decide from (409, code request-not-decidable). */
  | { status: "not-decidable"; request: RequestRecord; reason: string };

/** The request use cases as the API and the CLI's server verbs call them. */
export interface RequestService {
  requests: RequestRepository;
  /** POST /api/v1/requests: `text` is the YAML of one proposed document; `path` where it goes (a SideTag: by default under the subject). */
  submit(principal: Principal, input: { text: string; path?: string }): Promise<SubmitOutcome>;
  /** POST /api/v1/requests/{id}/approve|deny. */
  decide(principal: Principal, input: { id: string; approve: boolean; reason: string }): Promise<PersonDecisionOutcome>;
  /**
   * GET /api/v1/requests/unreviewed: what the poller last found on the target branch (a report
   * with a null head before its first look); undefined when no repository takes requests.
   */
  unreviewed?: () => Promise<UnreviewedReport | undefined>;
}
