// Validates a request part against a zod schema, or throws the problem naming the field.
import type { z } from "zod";
import { parseWith } from "../domain/artifact.js";
import { invalid, type ProblemLocation } from "./problem.js";

export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: ProblemLocation): z.output<S> {
  const parsed = parseWith(schema, value);
  if (!parsed.ok) throw invalid(where, parsed.issues);
  return parsed.value;
}
