// RFC 9457 problem details: the one shape of every error relengd answers with.
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
export const forbidden = (detail: string) => new Problem(403, "Forbidden", detail, "forbidden");
export const notFound = (detail: string) => new Problem(404, "Not found", detail, "not-found");
export const conflict = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(409, "Conflict", detail, "conflict", extensions);
export const unprocessable = (detail: string, extensions: Record<string, unknown> = {}) =>
  new Problem(422, "Unprocessable request", detail, "unprocessable", extensions);
