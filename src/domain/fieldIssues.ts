// What a schema refuses, said in words: the field as a JSON pointer and what it must be. The one
// place zod's issues become messages, for the API's 400s, `relengd lint` and every file the CLI reads.
import type { z } from "zod";

/** One failing field: `path` is a JSON pointer into the input (`/items/0/nvr`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

type RawIssue = z.core.$ZodRawIssue;

const plural = (n: number | bigint, noun: string) => `${n} ${noun}${n === 1 || n === 1n ? "" : "s"}`;

// zod's type names as a person says them.
const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "an object (a mapping of field names to values)",
  array: "a list",
  record: "an object (a mapping of keys to values)",
  date: "a date",
  null: "null",
  undefined: "absent",
  map: "a mapping",
  set: "a set",
  tuple: "a list",
  literal: "a fixed value",
};

/** What kind of JSON value `input` is, in words (what a reader sees in the file). */
function receivedWords(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  switch (typeof input) {
    case "string":
      return "a string";
    case "number":
      return Number.isInteger(input) ? "a whole number" : "a number with a fraction";
    case "boolean":
      return input ? "true" : "false";
    case "object":
      return "an object";
    default:
      return typeof input;
  }
}

const quoted = (v: unknown) => (typeof v === "string" ? `"${v}"` : String(v));

function sizeWords(origin: string, bound: number | bigint, inclusive: boolean, side: "least" | "most"): string {
  const n = inclusive ? bound : side === "least" ? Number(bound) + 1 : Number(bound) - 1;
  switch (origin) {
    case "string":
      return side === "least" && n === 1 ? "must not be empty" : `must be at ${side} ${plural(n, "character")} long`;
    case "array":
    case "set":
      return side === "least" && n === 1 ? "must have at least one item" : `must have at ${side} ${plural(n, "item")}`;
    case "file":
      return `must be at ${side} ${plural(n, "byte")}`;
    case "date":
      return side === "least" ? `must be on or after ${new Date(Number(bound)).toISOString()}` : `must be on or before ${new Date(Number(bound)).toISOString()}`;
    default:
      if (inclusive) return `must be at ${side} ${bound}`;
      return side === "least" ? `must be greater than ${bound}` : `must be less than ${bound}`;
  }
}

const FORMAT_WORDS: Record<string, string> = {
  url: "a URL",
  email: "an email address",
  datetime: "a date and time in ISO 8601 form, like 2026-11-25T05:00:00Z",
  date: "a date like 2026-11-25",
  time: "a time like 05:00:00",
  duration: "an ISO 8601 duration like P7D",
  uuid: "a UUID",
  ulid: "a ULID",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  base64: "base64 text",
  base64url: "base64url text",
  jwt: "a JSON Web Token",
};

/** The first expected type of each alternative that failed on the value's own type. */
function unionWords(issue: Extract<RawIssue, { code: "invalid_union" }>): string {
  if ("discriminator" in issue && issue.discriminator !== undefined) {
    const options = (issue as { options?: unknown[] }).options ?? [];
    return `must be one of ${options.map(quoted).join(", ")}`;
  }
  const expected = (issue.errors ?? []).map((branch) => {
    const own = branch.find((i) => i.path.length === 0 && i.code === "invalid_type");
    return own && own.code === "invalid_type" ? (TYPE_WORDS[own.expected] ?? own.expected) : undefined;
  });
  if (expected.length > 0 && expected.every((e) => e !== undefined)) {
    const words = [...new Set(expected)].join(" or ");
    return issue.input === undefined ? `is required: ${words}` : `must be ${words}, not ${receivedWords(issue.input)}`;
  }
  // A missing field is missing, whatever forms it may take.
  if (issue.input === undefined) return `is required (in one of ${plural(expected.length, "allowed form")})`;
  return `matches none of the ${plural(expected.length, "allowed form")}`;
}

/** Whether the schema that refused a value is `z.number().int()`: zod reports it as expecting a number. */
function wholeNumberSchema(issue: RawIssue): boolean {
  if (issue.code !== "invalid_type" || issue.expected !== "number") return false;
  // zod 4 gives the error map the schema instance; `.int()` is one of its checks, with an integer format.
  const checks = (issue.inst as { _zod?: { def?: { checks?: { _zod?: { def?: { format?: unknown } } }[] } } } | undefined)?._zod?.def?.checks ?? [];
  return checks.some((c) => {
    const format = c._zod?.def?.format;
    return typeof format === "string" && format.includes("int");
  });
}

/**
 * The message for one issue, naming what is expected in words. Undefined for a custom issue
 * (a refinement's own sentence is kept). Used as zod's error map, so a message a schema gives
 * itself (`regex(…, "must be a koji package name")`) still wins.
 */
export function describeIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      const expected = TYPE_WORDS[wholeNumberSchema(issue) ? "int" : issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `is required: ${expected}`;
      return `must be ${expected}, not ${receivedWords(issue.input)}`;
    }
    case "too_small":
      return sizeWords(issue.origin, issue.minimum, issue.inclusive ?? true, "least");
    case "too_big":
      return sizeWords(issue.origin, issue.maximum, issue.inclusive ?? true, "most");
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${quoted(issue.values[0])}` : `must be one of ${issue.values.map(quoted).join(", ")}`;
    case "invalid_format": {
      if (issue.format === "regex") return `must match the pattern ${issue.pattern ?? ""}`.trimEnd();
      if (issue.format === "starts_with") return `must start with "${(issue as { prefix?: string }).prefix ?? ""}"`;
      if (issue.format === "ends_with") return `must end with "${(issue as { suffix?: string }).suffix ?? ""}"`;
      if (issue.format === "includes") return `must contain "${(issue as { includes?: string }).includes ?? ""}"`;
      return `must be ${FORMAT_WORDS[issue.format] ?? `a valid ${issue.format}`}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `has unknown ${issue.keys.length === 1 ? "field" : "fields"} ${issue.keys.map(quoted).join(", ")}`;
    case "invalid_key":
      return `is not an allowed key${issue.issues[0] ? `: it ${issue.issues[0].message}` : ""}`;
    case "invalid_element":
      return `has a value that is not allowed${issue.issues[0] ? `: it ${issue.issues[0].message}` : ""}`;
    case "invalid_union":
      return unionWords(issue);
    default:
      return undefined;
  }
}

/** describeIssue as zod's per-parse error map. */
export const fieldErrorMap: z.core.$ZodErrorMap = (issue) => describeIssue(issue);

/** A JSON pointer (RFC 6901) to `path`. */
export const jsonPointer = (path: PropertyKey[]) => "/" + path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

/**
 * The issues of a failed parse, one per field: an unknown key is reported at its own path (so
 * a file's line points at it), everything else where zod found it.
 */
export function fieldIssuesOf(error: z.ZodError): { path: PropertyKey[]; message: string }[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys" ? issue.keys.map((k) => ({ path: [...issue.path, k], message: "is not a known field" })) : [{ path: issue.path, message: issue.message }],
  );
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return fieldIssuesOf(error).map((i) => ({ path: jsonPointer(i.path), message: i.message }));
}

/** Parses untrusted input with `schema`, each refusal said in words. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(input, { error: fieldErrorMap });
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: toFieldIssues(result.error) };
}
