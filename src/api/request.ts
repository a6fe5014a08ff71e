// Validates request parts against zod schemas, or throws the problem naming the field.
import type { FastifySchemaCompiler } from "fastify";
import { z } from "zod";
import { parseWith, PACKAGE_PATTERN } from "../domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../domain/documents/envelope.js";
import { wellFormedString } from "../domain/text.js";
import { invalid, type ProblemLocation } from "./problem.js";

export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: ProblemLocation): z.output<S> {
  const parsed = parseWith(schema, value);
  if (!parsed.ok) throw invalid(where, parsed.issues);
  return parsed.value;
}

// fastify's names for the parts of a request, as problems name them.
const LOCATIONS: Record<string, ProblemLocation> = { body: "body", querystring: "query", params: "params", headers: "header" };

/**
 * fastify's validator for route schemas (`schema.body`, `.querystring`, `.params`): the same
 * zod parse and the same problem as parseRequest, so a field fails the same way whether a
 * route declares its schema or checks by hand. A schema that is not zod is refused when the
 * route is compiled: the OpenAPI document could not describe it.
 */
export const requestValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, method, url }) => {
  if (!(schema instanceof z.ZodType)) throw new Error(`${method} ${url}: schema.${httpPart ?? "?"} must be a zod schema`);
  const where = LOCATIONS[httpPart ?? ""] ?? "body";
  return (data: unknown) => {
    const parsed = parseWith(schema, data);
    return parsed.ok ? { value: parsed.value } : { error: invalid(where, parsed.issues) };
  };
};

/** The query of a route that takes none: an unknown parameter is refused by name, as everywhere. */
export const noQuery = z.strictObject({});

// Request fields that several resources take (releases, rollbacks, holds, environments).
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The path parameters of a resource relengd gave an id (a release, a hold). */
export function idParams(what: string) {
  return z.strictObject({ id: wellFormedString().regex(ULID, `must be a ${what} id`) });
}

export const environmentName = wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name");
export const packageName = wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name");
/** Why a person released, rolled back or held: recorded with it. */
export const reasonText = wellFormedString().trim().min(1).max(500);
