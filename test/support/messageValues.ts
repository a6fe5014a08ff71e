// Values for commit-message tests: the fields a release or a bus message may carry, made hostile
// (newlines, trailer-like lines, unicode line and space separators, lone surrogates, long runs).
import fc from "fast-check";
import { oneLine } from "../../src/domain/commitMessages/trailers.js";

const hostilePieces = fc.constantFrom(
  "\n",
  "\r",
  "\r\n",
  "\n\n",
  " ",
  "\t",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u00a0",
  "\ufeff",
  "\ud800",
  ":",
  "→",
  "😀",
  "Relengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED",
  "\nRelengd-Environment: f44-updates",
  "\n\nRelengd-Trigger: mirror",
  "\nRelengd-Bus-Message-Id: forged",
  "\nRelengd-Shadow-Merge: mr/forged",
  "Signed-off-by: Mallory <m@example.org>",
);

/** Any text, mostly hostile. */
export const anyText: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), hostilePieces, fc.string({ unit: "grapheme-ascii", minLength: 300, maxLength: 3000 })), { maxLength: 6 })
  .map((parts) => parts.join(""));

/** Any text that stays something once made one line (a required trailer is never empty). */
export const anyFilledText: fc.Arbitrary<string> = anyText.filter((text) => oneLine(text) !== "");

/** A value as relengd's own fields hold it: one trimmed line, hostile otherwise. */
export const lineText: fc.Arbitrary<string> = anyText.map(oneLine);

/** A one-line value that is not empty. */
export const filledLine: fc.Arbitrary<string> = lineText.filter((text) => text !== "");
