// The JSON body parser of every route: UTF-8 only, bounded nesting, no prototype keys, well-formed text.
import type { FastifyRequest } from "fastify";
import { jsonTextDepthIssue, jsonValueIssue } from "../domain/jsonInput.js";
import { invalid, Problem } from "./problem.js";

// RFC 8259 §8.1: JSON exchanged between systems is UTF-8. A body declared in another charset
// would be decoded as UTF-8 anyway and its "é" stored as U+FFFD, so it is refused instead.
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;
const UTF8 = /^utf-?8$/i;

const invalidJson = (message: string) =>
  new Problem(400, "Invalid request body", `body is not valid JSON: ${message}`, "invalid-json", {}, [{ path: "/", message: `is not valid JSON: ${message}`, in: "body" }]);

/**
 * fastify content-type parser for application/json (bytes in, value out). The nesting depth is
 * measured on the text before JSON.parse, and the parsed value is walked (without recursion)
 * only when the text could hold what the walk looks for: an escape (a lone surrogate is only
 * reachable as `\uD83D`) or a prototype key.
 */
export function parseJsonBody(request: FastifyRequest, body: Buffer): Promise<unknown> {
  // A refusal thrown while reading becomes the promise's rejection, as fastify expects of a parser.
  return new Promise((resolve) => resolve(readJsonBody(request, body)));
}

/** The 415 of a body declared in a charset other than UTF-8 (`format` names what was sent: JSON, YAML). */
export function charsetProblem(request: FastifyRequest, format: string): Problem | undefined {
  const contentType = request.headers["content-type"] ?? "";
  const declared = CHARSET.exec(contentType);
  const charset = declared ? (declared[1] ?? declared[2] ?? "") : "utf-8";
  if (UTF8.test(charset)) return undefined;
  const mediaType = contentType.split(";")[0]?.trim() || "application/json";
  return new Problem(415, "Unsupported media type", `the body is declared charset=${charset}; relengd reads ${format} as UTF-8 only`, "unsupported-media-type", {}, [
    { path: "/content-type", message: `must be ${mediaType} with no charset or charset=utf-8`, in: "header" },
  ]);
}

function readJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const refused = charsetProblem(request, "JSON");
  if (refused) throw refused;
  if (body.byteLength === 0) throw invalidJson("the body is empty");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new Problem(400, "Invalid request body", "body is not valid UTF-8; JSON must be sent as UTF-8", "invalid-utf8", {}, [{ path: "/", message: "is not valid UTF-8", in: "body" }]);
  }
  const depth = jsonTextDepthIssue(text);
  if (depth) throw invalid("body", [depth]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidJson((err as Error).message);
  }
  if (text.includes("\\u") || text.includes("__proto__") || text.includes("constructor")) {
    const issue = jsonValueIssue(value, { forbidPrototypeKeys: true, wellFormedText: true });
    if (issue) throw invalid("body", [issue]);
  }
  return value;
}
