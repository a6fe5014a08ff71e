// RFC 9457 problem details: the one shape of every error relengd answers with.
import { z } from "zod";
import type { FieldIssue } from "../domain/artifact.js";

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

export const unauthorized = (detail: string) => new Problem(401, "Unauthorized", detail, "unauthorized");
export const forbidden = (detail: string, errors?: ProblemFieldIssue[]) => new Problem(403, "Forbidden", detail, "forbidden", {}, errors);
export const notFound = (detail: string) => new Problem(404, "Not found", detail, "not-found");
export const conflict = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(409, "Conflict", detail, "conflict", extensions);
export const unprocessable = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(422, "Unprocessable request", detail, "unprocessable", extensions);

/**
 * An artifact that breaks an ingest rule (see domain/artifactRules): 422 with the rule as `code`;
 * `errors` names the fields when they are the request's own (a push), `violations` otherwise.
 */
export function ruleBroken(detail: string, violations: readonly (FieldIssue & { rule: string })[], where?: ProblemLocation): Problem {
  const code = violations[0]?.rule ?? "rule-broken";
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
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(
        z.object({
          path: z.string().meta({ description: "JSON pointer to the failing field" }),
          message: z.string(),
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
  401: "No bearer token, or one that does not verify",
  403: "The token's role or scope does not allow this",
  404: "No such resource",
  409: "Conflicts with the current state",
  413: "The request body is larger than this route accepts",
  415: "The body is not application/json",
  422: "Well-formed but cannot be done",
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
