import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseArtifact } from "../../src/domain/artifact.js";
import { parseEnvelope } from "../../src/domain/envelope.js";
import { wellFormedString } from "../../src/domain/text.js";
import { sampleArtifact } from "../support/artifacts.js";

describe("the well-formed string rule", () => {
  it("refuses a lone surrogate before any other check, naming the field", () => {
    const schema = wellFormedString().min(3).regex(/^[a-z]+$/);
    expect(schema.safeParse("x\ud83dy").error?.issues).toEqual([expect.objectContaining({ message: expect.stringContaining("lone UTF-16 surrogate") })]);
    expect(schema.safeParse("\u{1F600}").success).toBe(false);
    expect(schema.safeParse("abc").success).toBe(true);
  });

  it("holds in the artifact schema, its URLs included, and in bus envelopes' keys", () => {
    const a = sampleArtifact();
    const items = a.items ?? [];
    const withNote = { ...a, items: [...items, { kind: "ci-result", testcase: "dist.rpmdeplint", outcome: "PASSED", note: "\ud800" }] };
    expect(parseArtifact(withNote)).toEqual({ ok: false, issues: [{ path: `/items/${items.length}/note`, message: expect.stringContaining("lone UTF-16 surrogate") }] });
    const withUrl = { ...a, source: { ...a.source, repo: "https://src.fedoraproject.org/rpms/\udc00" } };
    expect(parseArtifact(withUrl)).toEqual({ ok: false, issues: [{ path: "/source/repo", message: expect.stringContaining("lone UTF-16 surrogate") }] });
    expect(parseEnvelope({ id: "m", topic: "a.b", headers: { ["h\ud800"]: 1 }, body: {} }).ok).toBe(false);
  });

  it("cannot be forgotten: eslint refuses a bare z.string(), z.coerce.string() or unwrapped z.url() in src", async () => {
    // The probe is not a file on disk, so it is linted without type information (the rule needs none).
    const eslint = new ESLint({ cwd: path.resolve(__dirname, "../.."), overrideConfig: tseslint.configs.disableTypeChecked });
    const code = 'import { z } from "zod";\nexport const a = z.string();\nexport const b = z.coerce.string();\nexport const c = z.url();\n';
    const [result] = await eslint.lintText(code, { filePath: path.resolve(__dirname, "../../src/domain/probe.ts") });
    expect(result?.messages.filter((m) => m.ruleId === "no-restricted-syntax").map((m) => m.line)).toEqual([2, 3, 4]);
  });
});
