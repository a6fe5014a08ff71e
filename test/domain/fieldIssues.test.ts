import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseArtifact } from "../../src/domain/artifact.js";
import { parseWith } from "../../src/domain/fieldIssues.js";
import { sampleArtifact } from "../support/artifacts.js";

const issuesOf = (schema: z.ZodType, input: unknown) => {
  const parsed = parseWith(schema, input);
  if (parsed.ok) throw new Error("expected a refusal");
  return parsed.issues;
};

describe("field issues in words", () => {
  it.each([
    ["a missing number", z.object({ n: z.number() }), {}, "/n", "is required: a number"],
    ["a missing whole number", z.object({ n: z.number().int() }), {}, "/n", "is required: a whole number"],
    ["a string for a number", z.object({ n: z.number() }), { n: "3" }, "/n", "must be a number, not a string"],
    ["a fraction for a whole number", z.object({ n: z.number().int() }), { n: 1.5 }, "/n", "must be a whole number, not a number with a fraction"],
    ["a list for an object", z.object({ o: z.object({}) }), { o: [] }, "/o", "must be an object (a mapping of field names to values), not a list"],
    ["a string for true or false", z.object({ b: z.boolean() }), { b: "yes" }, "/b", "must be true or false, not a string"],
    ["an empty string", z.object({ s: z.string().min(1) }), { s: "" }, "/s", "must not be empty"],
    ["a long string", z.object({ s: z.string().max(3) }), { s: "abcd" }, "/s", "must be at most 3 characters long"],
    ["too many items", z.object({ a: z.array(z.number()).max(2) }), { a: [1, 2, 3] }, "/a", "must have at most 2 items"],
    ["a number too low", z.object({ n: z.number().min(1) }), { n: 0 }, "/n", "must be at least 1"],
    ["a number not above zero", z.object({ n: z.number().positive() }), { n: 0 }, "/n", "must be greater than 0"],
    ["a value outside an enum", z.object({ e: z.enum(["testing", "stable"]) }), { e: "beta" }, "/e", 'must be one of "testing", "stable"'],
    ["a wrong literal", z.object({ v: z.literal("relengd/v1") }), { v: "v2" }, "/v", 'must be "relengd/v1"'],
    ["a non-URL", z.object({ u: z.url() }), { u: "nope" }, "/u", "must be a URL"],
    ["a pattern without its own message", z.object({ p: z.string().regex(/^a+$/) }), { p: "b" }, "/p", "must match the pattern /^a+$/"],
    ["an unknown discriminator", z.object({ i: z.discriminatedUnion("kind", [z.object({ kind: z.literal("p") }), z.object({ kind: z.literal("q") })]) }), { i: { kind: "r" } }, "/i/kind", 'must be one of "p", "q"'],
    ["neither alternative", z.object({ x: z.union([z.number(), z.string()]) }), { x: true }, "/x", "must be a number or a string, not true"],
    // Regression (issue 17): a missing field of a union type was "matches none of the 2 allowed forms".
    ["a missing union", z.object({ x: z.union([z.number(), z.string()]) }), {}, "/x", "is required: a number or a string"],
    ["a missing union of a literal", z.object({ x: z.union([z.literal("rawhide"), z.number()]) }), {}, "/x", "is required (in one of 2 allowed forms)"],
    ["an unknown field, at its own path", z.strictObject({}), { colour: "blue" }, "/colour", "is not a known field"],
  ])("%s", (_what, schema, input, path, message) => {
    expect(issuesOf(schema, input)).toEqual([{ path, message }]);
  });

  it("keeps a message the schema gives itself", () => {
    expect(issuesOf(z.object({ p: z.string().regex(/^a$/, "must be the letter a") }), { p: "b" })).toEqual([{ path: "/p", message: "must be the letter a" }]);
  });

  it("says what an artifact's missing and mistyped fields must be", () => {
    const input = { ...sampleArtifact({}), package: 7 } as Record<string, unknown>;
    delete input.release;
    const parsed = parseArtifact(input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toEqual(
      expect.arrayContaining([
        { path: "/package", message: "must be a string, not a whole number" },
        { path: "/release", message: "is required: a string" },
      ]),
    );
    for (const i of parsed.issues) expect(i.message).not.toMatch(/Invalid input|received|Too (small|big)/);
  });
});
