// The hand-written table of known tricky RPM ordering cases, checked against relengd (evr.test.ts) and against rpm itself (rpmAgreement.test.ts).
import type { Ordering } from "../../src/domain/evr.js";

/** [a, b, rpmvercmp(a, b)] on single version or release strings. */
export const rpmvercmpCases: readonly (readonly [string, string, Ordering])[] = [
  // plain numbers and segments
  ["1.0", "1.0", 0],
  ["1.0", "2.0", -1],
  ["2.0", "1.0", 1],
  ["2.0.1", "2.0", 1],
  ["2.0", "2.0.1", -1],
  ["4.999.9", "5.0", -1],
  ["20101121", "20101122", -1],
  // letters after digits, letters against letters
  ["2.0.1a", "2.0.1", 1],
  ["5.5p1", "5.5p2", -1],
  ["5.5p1", "5.5p10", -1],
  ["5.5p2", "5.6p1", -1],
  ["10b2", "10a1", 1],
  ["1.0a", "1.0aa", -1],
  ["xyz10", "xyz10.1", -1],
  ["a", "A", 1],
  ["Z", "a", -1],
  // digits are newer than letters
  ["xyz.4", "8", -1],
  ["8", "xyz.4", 1],
  ["1.a", "1.1", -1],
  ["1.1", "1.a", 1],
  ["6.0.rc1", "6.0", 1],
  ["10xyz", "10.1xyz", -1],
  // leading zeros
  ["10.0001", "10.1", 0],
  ["10.0001", "10.0039", -1],
  ["1.010", "1.9", 1],
  ["000", "0", 0],
  ["1.00", "1.0", 0],
  // very long digit segments: no overflow, longer (without leading zeros) is bigger
  ["1234567890123456789012345678901234567890", "1234567890123456789012345678901234567891", -1],
  ["99999999999999999999999999999999999999", "100000000000000000000000000000000000000", -1],
  ["00000000000000000000000000000000000000001", "1", 0],
  ["18446744073709551616", "18446744073709551615", 1],
  // separators: any non-alphanumeric except ~ and ^, only their position matters
  ["1.0", "1_0", 0],
  ["1.0", "1+0", 0],
  ["1_0", "1+0", 0],
  ["1.0", "1..0", 0],
  ["1.0", "1.0.", 0],
  ["a+", "a_", 0],
  ["+a", "_a", 0],
  ["+", "_", 0],
  ["1a", "1.a", 0],
  ["1.é", "1", 0],
  // empty strings
  ["", "", 0],
  ["", "1", -1],
  ["1", "", 1],
  ["", ".", 0],
  ["", "a", -1],
  // tilde sorts before anything, the end of the string included
  ["1.0~rc1", "1.0", -1],
  ["1.0", "1.0~rc1", 1],
  ["1.0~rc1", "1.0~rc2", -1],
  ["1.0~rc1~git123", "1.0~rc1", -1],
  ["1.0~", "1.0", -1],
  ["1.0~~", "1.0~", -1],
  ["~", "", -1],
  ["", "~", 1],
  ["1.0~rc1", "1.0.1~rc1", -1],
  ["1~", "1.", -1],
  // caret sorts after the end but before any further segment
  ["1.0^", "1.0", 1],
  ["1.0^git1", "1.0", 1],
  ["1.0^git1", "1.0^git2", -1],
  ["1.0^git1", "1.01", -1],
  ["1.0^20160101", "1.0.1", -1],
  ["1.0^20160102", "1.0^20160101^git1", 1],
  ["1.0^", "1.0.", 1],
  ["^", "", 1],
  ["", "^", -1],
  ["1.0^a", "1.0a", -1],
  // caret and tilde together
  ["1.0~rc1^git1", "1.0~rc1", 1],
  ["1.0~rc1^git1", "1.0", -1],
  ["1.0^git1~pre", "1.0^git1", -1],
  ["1.0^git1~pre", "1.0", 1],
  ["1.0~^", "1.0~", 1],
  ["1.0^~", "1.0^", -1],
  ["~", "^", -1],
  ["^", "~", 1],
  ["1^~", "1", 1],
  ["1~^", "1", -1],
];

/** [a, b, order] on EVR text ([epoch:]version[-release]), rpm.labelCompare's order. */
export const evrCases: readonly (readonly [string, string, Ordering])[] = [
  ["1:1.0-1", "2.0-1", 1],
  ["0:1.0-1", "1.0-1", 0],
  ["00:1.0-1", "0:1.0-1", 0],
  ["2:0.1-1", "10:0.1-1", -1],
  ["18446744073709551616:1-1", "18446744073709551615:9-9", 1],
  ["1.0", "1.0-1", -1],
  ["1.0-1", "1.0-1.fc41", -1],
  ["1.0-1..fc41", "1.0-1.fc41", 0],
  ["1.0-1.fc41", "1.0-1.fc41.1", -1],
  ["1.0-0.1.rc1.fc41", "1.0-1.fc41", -1],
  ["1.0~rc1-9", "1.0-0.1", -1],
  ["1.0^git1-1", "1.0-9", 1],
  ["1.0-1.fc41", "1.0-1.el9", 1],
  ["1.0-10.fc41", "1.0-9.fc41", 1],
];

/** [a, b, order] on NVRs of one name (names with dashes, both epoch spellings). */
export const nvrCases: readonly (readonly [string, string, Ordering])[] = [
  ["python-requests-2.32.3-1.fc45", "python-requests-2.32.3-2.fc45", -1],
  ["python-requests-2.32.10-1.fc45", "python-requests-2.32.9-1.fc45", 1],
  ["1:foo-bar-1.0-1", "foo-bar-2.0-1", 1],
  ["foo-1:1.0-1", "1:foo-1.0-1", 0],
  ["python38-3.8.0~b1-1.fc29", "python38-3.8.0-1.fc29", -1],
  ["python38-3.8.0~a3-1.fc31", "python38-3.8.0~b1-1.fc29", -1],
  ["kernel-6.12.0-0.rc7.20241111git2d5404caa8c7.60.fc42", "kernel-6.12.0-1.fc42", -1],
];
