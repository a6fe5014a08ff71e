import { describe, expect, it } from "vitest";
import { jsonTextDepthIssue, jsonValueIssue, MAX_JSON_DEPTH } from "../../src/domain/jsonInput.js";
import { parseAmqp, parseEnvelope } from "../../src/domain/envelope.js";
import { fixtureMessages } from "../support/fedoraMessages.js";

const arrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("the JSON nesting limit", () => {
  it("is far above the deepest recorded Fedora message", () => {
    // The least limit the text stays within is its depth.
    const depthOf = (text: string) => {
      let limit = 1;
      while (jsonTextDepthIssue(text, limit)) limit++;
      return limit;
    };
    const deepest = Math.max(...fixtureMessages().map((m) => depthOf(JSON.stringify(m.json))));
    // Measured on ../shared/fixtures: 8 (bodhi.update.complete.testing/000.json).
    expect(deepest).toBe(8);
    expect(MAX_JSON_DEPTH).toBeGreaterThanOrEqual(deepest * 10);
  });

  it("accepts text nested exactly to the limit and names the pointer one level past it", () => {
    expect(jsonTextDepthIssue(arrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonTextDepthIssue(arrays(MAX_JSON_DEPTH + 1))).toEqual({ path: "/0".repeat(MAX_JSON_DEPTH), message: `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects` });
  });

  it("counts neither brackets inside strings nor escaped quotes, and names keys and indexes (JSON pointer escaped)", () => {
    const text = `{"a\\"[[[": "]]]{{{", "list": [1, {"x/y": [[[9]]]}], "b~c": ${"[".repeat(3)}0${"]".repeat(3)}}`;
    expect(jsonTextDepthIssue(text, 6)).toBeUndefined();
    expect(jsonTextDepthIssue(text, 5)).toEqual({ path: "/list/1/x~1y/0/0", message: expect.any(String) });
    expect(jsonTextDepthIssue(`{"a": 1, "b~c": [[[0]]]}`, 3)).toEqual({ path: "/b~0c/0/0", message: expect.any(String) });
    // A string ending in an escaped backslash ends at the quote after it.
    expect(jsonTextDepthIssue(String.raw`{"k\\": "v\\\\", "l": [[1]]}`, 2)).toEqual({ path: "/l/0", message: expect.any(String) });
    expect(jsonTextDepthIssue(String.raw`{"k\\": "v\\\\", "l": [[1]]}`, 3)).toBeUndefined();
  });

  it("scans 20,000 levels without recursion and refuses them", () => {
    expect(jsonTextDepthIssue(`{"body": ${arrays(20_000)}}`)?.path).toBe(`/body${"/0".repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it("walks a parsed value without recursion: depth, prototype keys, lone surrogates", () => {
    const deep = JSON.parse(arrays(20_000)) as unknown;
    expect(jsonValueIssue(deep)?.path).toBe("/0".repeat(MAX_JSON_DEPTH));
    const polluted = JSON.parse('{"a": [{"__proto__": {"x": 1}}]}') as unknown;
    expect(jsonValueIssue(polluted)).toBeUndefined();
    expect(jsonValueIssue(polluted, { forbidPrototypeKeys: true })).toEqual({ path: "/a/0/__proto__", message: expect.stringContaining("prototype") });
    expect(jsonValueIssue({ note: ["ok", "x\ud800"] }, { wellFormedText: true })).toEqual({ path: "/note/1", message: expect.stringContaining("lone UTF-16 surrogate") });
    expect(jsonValueIssue({ ["k\udc00"]: 1 }, { wellFormedText: true })?.path).toBe("/k\udc00");
    expect(jsonValueIssue({ emoji: "\u{1F600}" }, { wellFormedText: true, forbidPrototypeKeys: true })).toBeUndefined();
  });
});

describe("bus messages nested past the limit", () => {
  it("are refused by parseAmqp naming /content/…, before JSON.parse or zod recurse", () => {
    const parsed = parseAmqp({ routingKey: "org.fedoraproject.prod.buildsys.tag", content: new TextEncoder().encode(`{"tag": ${arrays(20_000)}}`), properties: { messageId: "m" } });
    expect(parsed).toEqual({ ok: false, issues: [{ path: `/content/tag${"/0".repeat(MAX_JSON_DEPTH - 1)}`, message: expect.stringContaining("nests deeper") }] });
  });

  it("are refused by parseAmqp in the headers, naming /properties/headers/…", () => {
    let headers: unknown = "leaf";
    for (let i = 0; i < 500; i++) headers = { h: headers };
    const parsed = parseAmqp({ routingKey: "org.fedoraproject.prod.buildsys.tag", content: new TextEncoder().encode("{}"), properties: { messageId: "m", headers } });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues[0]?.path).toBe(`/properties/headers${"/h".repeat(MAX_JSON_DEPTH)}`);
  });

  it("are refused by parseEnvelope (fixtures, bus replay, POST /api/v1/events)", () => {
    const body = JSON.parse(`{"x": ${arrays(5000)}}`) as Record<string, unknown>;
    const parsed = parseEnvelope({ id: "m", topic: "org.fedoraproject.prod.buildsys.tag", headers: {}, body });
    expect(!parsed.ok && parsed.issues[0]?.path).toBe(`/body/x${"/0".repeat(MAX_JSON_DEPTH - 1)}`);
  });
});
