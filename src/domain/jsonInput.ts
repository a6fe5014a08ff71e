// What any JSON relengd reads may hold: a nesting depth, no prototype keys, well-formed text; checked without recursion.
import type { FieldIssue } from "./artifact.js";
import { NOT_WELL_FORMED } from "./text.js";

/**
 * Deepest nesting accepted in a JSON input (HTTP body, bus body, bus headers). The deepest real
 * message in the recorded Fedora corpus (bodhi.update.complete.testing) nests 8 levels, its body
 * 7; artifacts nest 3. Past this, recursive code (JSON.stringify, zod's z.json(), Prisma's Json
 * encoder) can exhaust the stack: a 20,000-deep message did.
 */
export const MAX_JSON_DEPTH = 128;

/** Keys that address an object's prototype when code merges or assigns what it parsed. */
export const FORBIDDEN_JSON_KEYS = ["__proto__", "constructor"] as const;

const pointerSegment = (key: string | number) => String(key).replace(/~/g, "~0").replace(/\//g, "~1");
const tooDeep = (limit: number) => `nests deeper than ${limit} levels of arrays and objects`;

/**
 * The first place JSON text nests deeper than `limit`, found by one linear scan of the text
 * (strings skipped) before anything recursive sees it. Only when the limit is passed is the
 * text read again to name the JSON pointer of the value that goes too deep.
 */
export function jsonTextDepthIssue(text: string, limit = MAX_JSON_DEPTH): FieldIssue | undefined {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return { path: pointerAt(text, i), message: tooDeep(limit) };
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return undefined;
}

// Where the string opened at `open` ends: the next quote not escaped by an odd run of backslashes
// (indexOf keeps the scan of long strings at native speed). The text's end if it never does.
function closingQuote(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return text.length;
}

interface Frame {
  array: boolean;
  index: number;
  key: string;
}

// The JSON pointer of the value that starts at `end`, reading the text up to there.
function pointerAt(text: string, end: number): string {
  const frames: Frame[] = [];
  let lastString = "";
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      i = closingQuote(text, i);
      lastString = text.slice(start, i + 1);
    } else if (c === 0x5b || c === 0x7b) {
      frames.push({ array: c === 0x5b, index: 0, key: "" });
    } else if (c === 0x5d || c === 0x7d) {
      frames.pop();
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.array) top.index++;
    } else if (c === 0x3a) {
      const top = frames[frames.length - 1];
      if (top && !top.array) top.key = decodeKey(lastString);
    }
  }
  return "/" + frames.map((f) => pointerSegment(f.array ? f.index : f.key)).join("/");
}

function decodeKey(quoted: string): string {
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === "string" ? key : quoted;
  } catch {
    return quoted.slice(1, -1);
  }
}

export interface JsonValueRules {
  /** Deepest nesting accepted; MAX_JSON_DEPTH unless said. */
  limit?: number;
  /** Refuse `__proto__` and `constructor` keys. */
  forbidPrototypeKeys?: boolean;
  /** Refuse strings and keys that hold a lone UTF-16 surrogate. */
  wellFormedText?: boolean;
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => {
  if (Array.isArray(v)) return true;
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * The first breach of `rules` in a value already in memory (parsed JSON, an AMQP header table),
 * walked with an explicit stack so that depth costs heap, not call stack. Anything that is not
 * an array or a plain object (a Buffer, a Date) is a leaf.
 */
export function jsonValueIssue(value: unknown, rules: JsonValueRules = {}): FieldIssue | undefined {
  const limit = rules.limit ?? MAX_JSON_DEPTH;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: v, path, depth } = item;
    if (typeof v === "string") {
      if (rules.wellFormedText && !v.isWellFormed()) return { path: path || "/", message: NOT_WELL_FORMED };
      continue;
    }
    if (!isContainer(v)) continue;
    if (depth + 1 > limit) return { path: path || "/", message: tooDeep(limit) };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${path}/${i}`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k] as string;
      const at = `${path}/${pointerSegment(key)}`;
      if (rules.forbidPrototypeKeys && (FORBIDDEN_JSON_KEYS as readonly string[]).includes(key)) {
        return { path: at, message: `is a key relengd refuses: ${FORBIDDEN_JSON_KEYS.join(" and ")} could rewrite an object's prototype` };
      }
      if (rules.wellFormedText && !key.isWellFormed()) return { path: at, message: `is a key that ${NOT_WELL_FORMED}` };
      stack.push({ value: v[key], path: at, depth: depth + 1 });
    }
  }
  return undefined;
}
