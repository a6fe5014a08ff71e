import { describe, expect, it } from "vitest";
import {
  artifactDigest,
  artifactJsonSchema,
  artifactLimits,
  parseArtifact,
  mergeItems,
  parseArtifactJson,
  renderArtifact,
  type Artifact,
} from "../../src/domain/artifact.js";
import { sampleArtifact } from "../support/artifacts.js";

function valid(input: unknown): Artifact {
  const r = parseArtifact(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

function issuesOf(input: unknown): { path: string; message: string }[] {
  const r = parseArtifact(input);
  if (r.ok) throw new Error("expected the artifact to be rejected");
  return r.issues;
}

describe("artifact format", () => {
  it("round-trips: render then parse gives the same artifact", () => {
    const a = valid(sampleArtifact());
    const back = parseArtifactJson(renderArtifact(a));
    expect(back).toEqual({ ok: true, value: a });
  });

  it("renders the same bytes whatever the key order of the input", () => {
    const a = sampleArtifact();
    const reordered: Record<string, unknown> = Object.fromEntries(Object.entries(a).reverse());
    reordered.source = Object.fromEntries(Object.entries(a.source).reverse());
    expect(renderArtifact(valid(reordered))).toBe(renderArtifact(valid(a)));
    expect(artifactDigest(valid(reordered))).toBe(artifactDigest(valid(a)));
  });

  it("gives a different digest when any field differs", () => {
    const a = sampleArtifact();
    expect(artifactDigest(valid({ ...a, release: "f42" }))).not.toBe(artifactDigest(valid(a)));
  });

  it("defaults items and context to empty", () => {
    const { items: _i, context: _c, ...bare } = sampleArtifact();
    expect(valid(bare)).toMatchObject({ items: [], context: {} });
  });

  it("names the failing field of an invalid NVR", () => {
    const a = sampleArtifact({ items: [{ kind: "koji-build", nvr: "not-an nvr" }] });
    expect(issuesOf(a)).toEqual([{ path: "/items/0/nvr", message: expect.stringContaining("not-an nvr") }]);
  });

  it("rejects an unknown item kind", () => {
    const a = { ...sampleArtifact(), items: [{ kind: "docker-image", ref: "quay.io/x" }] };
    expect(issuesOf(a)[0]?.path).toBe("/items/0/kind");
  });

  it("rejects unknown fields at every level", () => {
    // Each unknown key is named by its own path, so a problem points at the field itself.
    expect(issuesOf({ ...sampleArtifact(), extra: 1 })).toEqual([{ path: "/extra", message: "is not a known field" }]);
    const a = sampleArtifact();
    expect(issuesOf({ ...a, source: { ...a.source, foo: "x" } })[0]?.path).toBe("/source/foo");
  });

  it("rejects a package name with a path separator", () => {
    expect(issuesOf(sampleArtifact({ package: "../etc" }))[0]?.path).toBe("/package");
    expect(issuesOf(sampleArtifact({ package: "a/b" }))[0]?.path).toBe("/package");
  });

  it("rejects an id that is not URL- and path-safe", () => {
    for (const id of ["", "a/b", "../x", "a b", "x".repeat(201)]) expect(issuesOf(sampleArtifact({ id }))[0]?.path).toBe("/id");
  });

  it("rejects an unknown CI outcome and an unknown source event", () => {
    const a = sampleArtifact({ items: [{ kind: "ci-result", testcase: "t", outcome: "PASSED" }] });
    expect(valid(a).items).toHaveLength(1);
    expect(issuesOf({ ...a, items: [{ kind: "ci-result", testcase: "t", outcome: "GREEN" }] })[0]?.path).toBe("/items/0/outcome");
    expect(issuesOf({ ...a, source: { ...a.source, event: "merge" } })[0]?.path).toBe("/source/event");
  });

  it("enforces the item and context limits", () => {
    const items = Array.from({ length: artifactLimits.items + 1 }, () => ({ kind: "link" as const, name: "x", url: "https://x.org" }));
    expect(issuesOf(sampleArtifact({ items }))[0]?.path).toBe("/items");
    const context = Object.fromEntries(Array.from({ length: artifactLimits.contextEntries + 1 }, (_, i) => [`K${i}`, "v"]));
    expect(issuesOf(sampleArtifact({ context }))[0]?.path).toBe("/context");
  });

  it("exports a JSON Schema that lists every item kind and rejects extra properties", () => {
    const schema = JSON.stringify(artifactJsonSchema());
    for (const kind of ["koji-build", "ci-result", "compose", "link"]) expect(schema).toContain(`"const":"${kind}"`);
    expect(schema).toContain('"additionalProperties":false');
    expect(artifactJsonSchema().$schema).toMatch(/json-schema/);
  });

  it("merges added items without duplicates; a ci-result with the same testcase and refUrl replaces the old outcome", () => {
    const build = { kind: "koji-build" as const, nvr: "foo-1-1.fc41" };
    const running = { kind: "ci-result" as const, testcase: "t", outcome: "RUNNING" as const, refUrl: "https://ci/1" };
    const passed = { ...running, outcome: "PASSED" as const };
    const other = { ...running, refUrl: "https://ci/2" };
    expect(mergeItems([build, running], [{ nvr: "foo-1-1.fc41", kind: "koji-build" }, passed, other])).toEqual([build, passed, other]);
  });
});
