// RFC 9457 problem details: the one shape of every error relengd answers with.
import { z } from "zod";
import type { FieldIssue } from "../domain/artifact.js";
import type { RuleViolation } from "../domain/artifactRules.js";
import { REFUSAL_CODES, refusalCodes, type RefusalCode } from "../domain/refusal.js";
import { wellFormedString } from "../domain/text.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type ProblemLocation = "body" | "query" | "params" | "header";

export interface ProblemFieldIssue extends FieldIssue {
  in: ProblemLocation;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemFieldIssue[];
  [extension: string]: unknown;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly slug: string,
    readonly extensions: Record<string, unknown> = {},
    readonly errors?: ProblemFieldIssue[],
    /** Response headers that belong to the problem (`WWW-Authenticate` of a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  body(instance?: string): ProblemBody {
    return {
      type: `https://relengd.dev/problems/${this.slug}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

export function invalid(where: ProblemLocation, issues: FieldIssue[]): Problem {
  const first = issues[0];
  const fields = issues.map((i) => ({ ...i, in: where }));
  const detail = first
    ? `${where} field ${first.path} ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""}`
    : `${where} is not valid`;
  return new Problem(400, `Invalid request ${where}`, detail, "invalid-request", {}, fields);
}

// RFC 6750 §3: a 401 names the scheme; `invalid_token` when a token was sent and does not verify.
const BEARER_REALM = 'Bearer realm="relengd"';
// error_description allows printable ASCII except the double quote and the backslash (RFC 6750 §3).
const descriptionText = (s: string) => s.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "?");

/** No usable credentials: a missing header, or one that is not `Bearer <token>`. */
export const unauthorized = (detail: string) => new Problem(401, "Unauthorized", detail, "unauthorized", {}, undefined, { "www-authenticate": BEARER_REALM });
/** A bearer token was sent and does not verify (bad signature, expired, revoked, foreign). */
export const invalidToken = (detail: string) =>
  new Problem(401, "Unauthorized", detail, "unauthorized", {}, undefined, {
    "www-authenticate": `${BEARER_REALM}, error="invalid_token", error_description="${descriptionText(detail)}"`,
  });
export const forbidden = (detail: string, errors?: ProblemFieldIssue[]) => new Problem(403, "Forbidden", detail, "forbidden", {}, errors);
export const notFound = (detail: string) => new Problem(404, "Not found", detail, "not-found");
/** A business refusal: the state does not allow it; `code` says which rule (REFUSAL_CODES). */
export const conflict = (code: RefusalCode, detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(409, "Conflict", detail, "conflict", { code, ...extensions });
/** A business refusal: well-formed but cannot be done; `code` says which rule (REFUSAL_CODES). */
export const unprocessable = (code: RefusalCode, detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(422, "Unprocessable request", detail, "unprocessable", { code, ...extensions });

/**
 * An artifact that breaks an ingest rule (see domain/artifactRules): 422 with the rule as `code`;
 * `errors` names the fields when they are the request's own (a push), `violations` otherwise.
 */
export function ruleBroken(detail: string, violations: readonly RuleViolation[], where?: ProblemLocation): Problem {
  const code: RefusalCode | undefined = violations[0]?.rule;
  if (!code) throw new Error("ruleBroken needs at least one violation");
  if (where) return new Problem(422, "Unprocessable request", detail, "unprocessable", { code }, violations.map((v) => ({ path: v.path, message: v.message, in: where })));
  return new Problem(422, "Unprocessable request", detail, "unprocessable", { code, violations: violations.map((v) => ({ rule: v.rule, path: v.path, message: v.message })) });
}

const problemLocations = ["body", "query", "params", "header"] as const satisfies readonly ProblemLocation[];

/**
 * The problem body as the OpenAPI document states it and as responses are checked against.
 * Loose: RFC 9457 lets a problem carry extension members (a conflict's digests, a hold).
 */
export const problemSchema = z
  .looseObject({
    type: wellFormedString(),
    title: wellFormedString(),
    status: z.number().int().min(400).max(599),
    detail: wellFormedString(),
    instance: wellFormedString().optional(),
    code: z
      .enum(refusalCodes)
      .optional()
      .meta({
        description:
          "On 409 and 422 business refusals: which rule refused, for programs to branch on (the `detail` is for people). " +
          Object.entries(REFUSAL_CODES)
            .map(([code, meaning]) => `\`${code}\`: ${meaning}.`)
            .join(" "),
      }),
    errors: z
      .array(
        z.object({
          path: wellFormedString().meta({ description: "JSON pointer to the failing field" }),
          message: wellFormedString(),
          in: z.enum(problemLocations),
        }),
      )
      .optional()
      .meta({ description: "One entry per failing field" }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details (application/problem+json)" });

/** What each status means wherever it is answered; a route may say more in its own description. */
const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "A request field is not valid; `errors` names each one (`path`, `in`)",
  401: "No bearer token, or one that does not verify; `WWW-Authenticate: Bearer` says which (`error=\"invalid_token\"`)",
  403: "The token's role or scope does not allow this",
  404: "No such resource",
  409: "Conflicts with the current state",
  413: "The request body is larger than this route accepts",
  415: "The body is not application/json in UTF-8 (another charset is refused)",
  422: "Well-formed but cannot be done; `code` says which rule refused",
  503: "The database (or an OIDC issuer's signing keys) cannot be reached right now; retry after `Retry-After` seconds",
};

/** A response of the route schema: a problem with this status, as application/problem+json. */
export function problemResponse(status: number, description = PROBLEM_DESCRIPTIONS[status] ?? "Problem") {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } };
}

/** Route-schema responses for these statuses, each with its usual description. */
export function problemResponses(...statuses: number[]): Record<number, ReturnType<typeof problemResponse>> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(s)]));
}
