// The one rule for text in every schema: well-formed Unicode, so no lone UTF-16 surrogate reaches the store.
import { z } from "zod";

// ES2024's String methods: Node 20 has them, the project's TypeScript lib (ES2023) does not
// declare them yet.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/**
 * JSON's `\ud83d` escapes can carry half of a surrogate pair into a JavaScript string; such a
 * string has no UTF-8 form, so PostgreSQL, SQLite and Prisma's query encoder refuse or mangle it
 * (a 500 for the caller). Every schema refuses it at the edge, naming the field.
 */
export const NOT_WELL_FORMED = "must be well-formed Unicode text (it holds a lone UTF-16 surrogate)";

export function isWellFormedText(value: string): boolean {
  return value.isWellFormed();
}

/** The same text with each lone surrogate replaced by U+FFFD, for messages about text that broke the rule. */
export function wellFormedText(value: string): string {
  return value.toWellFormed();
}

/**
 * `z.string()` under the rule. Checked first and aborting, so a lone surrogate is reported as
 * such and not as a pattern mismatch. eslint refuses a bare `z.string()` in src.
 */
export function wellFormedString(params?: Parameters<typeof z.string>[0]) {
  // eslint-disable-next-line no-restricted-syntax -- the one place the rule is built from a bare string schema
  return z.string(params).check(z.refine(isWellFormedText, { message: NOT_WELL_FORMED, abort: true }));
}

/** The rule added to another string schema (`z.url()`). */
export function wellFormed<S extends z.ZodType<string>>(schema: S): S {
  return schema.check(z.refine(isWellFormedText, { message: NOT_WELL_FORMED, abort: true }));
}

/**
 * A value of unknown type as words for a message: strings and numbers as themselves, anything
 * else as its JSON (cut to 200 characters), never "[object Object]".
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value === null || value === undefined) return String(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  const text = json ?? Object.prototype.toString.call(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
