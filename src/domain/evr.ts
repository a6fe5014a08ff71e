// RPM version ordering (epoch:version-release), exactly as rpm orders builds, and EVR ranges for policies.
import { MAX_NVR_LENGTH, parseNvr, renderNvr, type Nvr, type NvrResult } from "./nvr.js";

/** -1: the first is older, 0: rpm sees them as the same, 1: the first is newer. */
export type Ordering = -1 | 0 | 1;

/** An epoch:version-release; the epoch is absent when the text had none (it then counts as 0). */
export interface Evr {
  /** ASCII digits, any length (compared as a number, never converted to one). */
  epoch?: string;
  version: string;
  /** Absent for a bare version (`2.0`); it then sorts below every release, as rpm.labelCompare does with None. */
  release?: string;
}

export type EvrResult = { ok: true; evr: Evr } | { ok: false; reason: string };

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const TILDE = 0x7e;
const CARET = 0x5e;

const isDigit = (c: number) => c >= CHAR_0 && c <= CHAR_9;
// rpm's risalpha/risdigit are ASCII-only: every other character (non-ASCII included) is a separator.
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isSeparator = (c: number) => !isDigit(c) && !isAlpha(c) && c !== TILDE && c !== CARET;

const sign = (n: number): Ordering => (n < 0 ? -1 : n > 0 ? 1 : 0);

/**
 * Two runs of ASCII digits compared as the numbers they spell, at any length: leading zeros
 * dropped, then the longer wins, then character by character. rpm does the same so that a
 * 40-digit date stamp or git hash segment never overflows.
 */
function compareDigitRuns(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): Ordering {
  while (aStart < aEnd && a.charCodeAt(aStart) === CHAR_0) aStart++;
  while (bStart < bEnd && b.charCodeAt(bStart) === CHAR_0) bStart++;
  const lengths = sign(aEnd - aStart - (bEnd - bStart));
  if (lengths !== 0) return lengths;
  return compareAscii(a, aStart, aEnd, b, bStart, bEnd);
}

/** strcmp on two ASCII runs (rpm compares alpha segments byte by byte: "Z" < "a"). */
function compareAscii(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): Ordering {
  for (; aStart < aEnd && bStart < bEnd; aStart++, bStart++) {
    const d = a.charCodeAt(aStart) - b.charCodeAt(bStart);
    if (d !== 0) return sign(d);
  }
  return sign(aEnd - aStart - (bEnd - bStart));
}

/**
 * rpm's rpmvercmp on one version or release string. The rules, from rpm's rpmvercmp.c:
 * - the string is a sequence of segments, each all digits or all ASCII letters; any other
 *   character except `~` and `^` only separates them (`1.0`, `1_0` and `1+0` are equal);
 * - `~` sorts before anything, the end of the string included (`1.0~rc1` < `1.0`);
 * - `^` sorts after the end of the string but before any further segment
 *   (`1.0` < `1.0^git1` < `1.0.1`);
 * - a digit segment is newer than a letter segment (`1.0` > `1.a`);
 * - digit segments compare as numbers of any length, letter segments by byte value;
 * - when all segments are equal, the string with segments left over is newer.
 * Identical strings are equal without further work. Inputs are NUL-free (C strings in rpm).
 */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  const aLength = a.length;
  const bLength = b.length;
  let i = 0;
  let j = 0;
  while (i < aLength || j < bLength) {
    while (i < aLength && isSeparator(a.charCodeAt(i))) i++;
    while (j < bLength && isSeparator(b.charCodeAt(j))) j++;
    const aEnded = i >= aLength;
    const bEnded = j >= bLength;
    const ca = aEnded ? -1 : a.charCodeAt(i);
    const cb = bEnded ? -1 : b.charCodeAt(j);

    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      // The base version (ended) is older than base^something; base^something is older than base.more.
      if (aEnded) return -1;
      if (bEnded) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (aEnded || bEnded) break;

    const numeric = isDigit(ca);
    const inSegment = numeric ? isDigit : isAlpha;
    let aEnd = i;
    while (aEnd < aLength && inSegment(a.charCodeAt(aEnd))) aEnd++;
    let bEnd = j;
    while (bEnd < bLength && inSegment(b.charCodeAt(bEnd))) bEnd++;
    // b's segment is of the other kind: digits are newer than letters.
    if (bEnd === j) return numeric ? 1 : -1;
    const order = numeric ? compareDigitRuns(a, i, aEnd, b, j, bEnd) : compareAscii(a, i, aEnd, b, j, bEnd);
    if (order !== 0) return order;
    i = aEnd;
    j = bEnd;
  }
  const aEnded = i >= aLength;
  const bEnded = j >= bLength;
  if (aEnded && bEnded) return 0;
  return aEnded ? -1 : 1;
}

// The characters rpm accepts in a version or release (as koji does; nvr.ts checks NVRs with the same set).
const VERSION_OR_RELEASE = /^[A-Za-z0-9_+.~^]+$/;
const EPOCH = /^[0-9]+$/;

/**
 * Parses `E:V-R`, `V-R` or `V` the way rpm splits an EVR: the epoch before the first colon,
 * the release after the last dash. A version never contains a dash, so `1-2-3` is refused.
 */
export function parseEvr(input: string): EvrResult {
  if (input.length === 0) return { ok: false, reason: "is empty" };
  if (input.length > MAX_NVR_LENGTH) return { ok: false, reason: `is longer than ${MAX_NVR_LENGTH} characters` };
  const colon = input.indexOf(":");
  const epoch = colon === -1 ? undefined : input.slice(0, colon);
  const rest = colon === -1 ? input : input.slice(colon + 1);
  if (epoch !== undefined && !EPOCH.test(epoch)) return { ok: false, reason: epoch === "" ? "has an empty epoch before the colon" : `has an epoch "${epoch}" that is not a number` };
  const dash = rest.lastIndexOf("-");
  const version = dash === -1 ? rest : rest.slice(0, dash);
  const release = dash === -1 ? undefined : rest.slice(dash + 1);
  if (version === "") return { ok: false, reason: "has no version" };
  if (release === "") return { ok: false, reason: "has an empty release after the dash" };
  if (!VERSION_OR_RELEASE.test(version)) return { ok: false, reason: `has a version "${version}" with characters rpm does not allow (letters, digits and ._+~^)` };
  if (release !== undefined && !VERSION_OR_RELEASE.test(release)) return { ok: false, reason: `has a release "${release}" with characters rpm does not allow (letters, digits and ._+~^)` };
  return { ok: true, evr: { ...(epoch !== undefined ? { epoch } : {}), version, ...(release !== undefined ? { release } : {}) } };
}

/** The text parseEvr reads back into the same EVR. */
export function renderEvr(evr: Evr): string {
  const head = evr.epoch === undefined ? evr.version : `${evr.epoch}:${evr.version}`;
  return evr.release === undefined ? head : `${head}-${evr.release}`;
}

/** The epoch:version-release of a koji build. */
export function evrOfNvr(nvr: Nvr): Evr {
  return { ...(nvr.epoch !== undefined ? { epoch: nvr.epoch } : {}), version: nvr.version, release: nvr.release };
}

/** A missing epoch is 0; rpm compares epochs with rpmvercmp, which for digits is the numeric order at any length. */
function compareEpoch(a: string | undefined, b: string | undefined): Ordering {
  return rpmvercmp(a ?? "0", b ?? "0");
}

/**
 * rpm.labelCompare: epoch, then version, then release, each with rpmvercmp. A missing release
 * is older than any release (labelCompare's None), so `2.0` < `2.0-1`. Usable as a sort
 * comparator: ascending means oldest first.
 */
export function compareEvr(a: Evr, b: Evr): Ordering {
  const epoch = compareEpoch(a.epoch, b.epoch);
  if (epoch !== 0) return epoch;
  const version = rpmvercmp(a.version, b.version);
  if (version !== 0) return version;
  if (a.release === undefined || b.release === undefined) return a.release === b.release ? 0 : a.release === undefined ? -1 : 1;
  return rpmvercmp(a.release, b.release);
}

export type NvrComparison = { ok: true; order: Ordering } | { ok: false; reason: string };

/**
 * Which of two builds of one package is newer, by rpm's order of their EVRs (the name may
 * contain dashes; see parseNvr). Builds of different names have no order: that is a failure,
 * as is text that is not an NVR. For the writer: `compareNvr(held, incoming)` with order 1 is a
 * downgrade; sorting builds with compareEvr(evrOfNvr(a), evrOfNvr(b)) puts the highest last.
 */
export function compareNvr(a: string | Nvr, b: string | Nvr): NvrComparison {
  const x = nvrOf(a);
  if (!x.ok) return { ok: false, reason: `${shown(a)} ${x.reason}` };
  const y = nvrOf(b);
  if (!y.ok) return { ok: false, reason: `${shown(b)} ${y.reason}` };
  if (x.nvr.name !== y.nvr.name) return { ok: false, reason: `builds of different packages have no order: ${x.nvr.name} and ${y.nvr.name}` };
  return { ok: true, order: compareEvr(evrOfNvr(x.nvr), evrOfNvr(y.nvr)) };
}

const nvrOf = (v: string | Nvr): NvrResult => (typeof v === "string" ? parseNvr(v) : { ok: true, nvr: v });
const shown = (v: string | Nvr) => (typeof v === "string" ? v : renderNvr(v));

/** rpm's comparison operators, as in `Requires: foo >= 2.0`. */
export const evrOperators = ["<", "<=", "=", ">=", ">"] as const;
export type EvrOperator = (typeof evrOperators)[number];

export interface EvrConstraint {
  operator: EvrOperator;
  evr: Evr;
}

/** Every constraint must hold (the comma of `>= 2.0, < 3` is "and"). */
export type EvrRange = readonly EvrConstraint[];

export type EvrRangeResult = { ok: true; range: EvrRange } | { ok: false; reason: string };

const CONSTRAINT = /^(<=|>=|<|>|=)\s*(\S+)$/;
const MAX_CONSTRAINTS = 20;

/** Parses `>= 2.0`, `< 3`, `= 1:2.0-1` or several joined by commas (`>= 2.0, < 3.0`). */
export function parseEvrRange(text: string): EvrRangeResult {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > MAX_CONSTRAINTS) return { ok: false, reason: `has more than ${MAX_CONSTRAINTS} constraints` };
  const range: EvrConstraint[] = [];
  for (const part of parts) {
    if (part === "") return { ok: false, reason: text.trim() === "" ? "is empty" : `has an empty constraint in "${text}"` };
    const m = CONSTRAINT.exec(part);
    if (!m) return { ok: false, reason: `has a constraint "${part}" that is not an operator (${evrOperators.join(" ")}) followed by an EVR like 2.0 or 1:2.0-1` };
    const evr = parseEvr(m[2]!);
    if (!evr.ok) return { ok: false, reason: `has a constraint "${part}" whose EVR ${evr.reason}` };
    range.push({ operator: m[1] as EvrOperator, evr: evr.evr });
  }
  return { ok: true, range };
}

/** The text parseEvrRange reads back into the same range. */
export function renderEvrRange(range: EvrRange): string {
  return range.map((c) => `${c.operator} ${renderEvr(c.evr)}`).join(", ");
}

const present = (part: string | undefined) => (part === undefined || part === "" ? undefined : part);

/**
 * rpm's dependency semantics (rpmverOverlap, as for `Requires: foo >= 2.0`): a release is only
 * compared when both sides have one, so `= 2.0` and `>= 2.0` hold for 2.0-1.fc41 and `> 2.0`
 * does not; and, as in rpm, an EVR without a release that equals the bound in epoch and version
 * meets a bound that has one, whatever the operator.
 */
function satisfies(evr: Evr, c: EvrConstraint): boolean {
  const bound = c.evr;
  let order = compareEpoch(present(evr.epoch), present(bound.epoch)) || rpmvercmp(evr.version, bound.version);
  if (order === 0) {
    const release = present(evr.release);
    const boundRelease = present(bound.release);
    if (release !== undefined && boundRelease !== undefined) order = rpmvercmp(release, boundRelease);
    // rpm: "always matches if the side with no release has SENSE_EQUAL"; the tested EVR is an exact (=) one.
    else if (boundRelease !== undefined) return true;
  }
  switch (c.operator) {
    case "<":
      return order < 0;
    case "<=":
      return order <= 0;
    case "=":
      return order === 0;
    case ">=":
      return order >= 0;
    case ">":
      return order > 0;
  }
}

/** True when `evr` meets every constraint of `range`. */
export function matchesEvrRange(evr: Evr, range: EvrRange): boolean {
  return range.every((c) => satisfies(evr, c));
}
