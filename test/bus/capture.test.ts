import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inSendingOrder, parseCapture, renderDatagrepperMessage } from "../../src/bus/capture.js";
import { parseEnvelope, type Envelope } from "../../src/domain/envelope.js";
import { fixtureJson, fixtureMessages } from "../support/fedoraMessages.js";

const envelopeOf = (json: unknown): Envelope => {
  const parsed = parseEnvelope(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};

describe("captured bus messages", () => {
  it("reads a fixture file, provenance and all, as the envelope it holds", () => {
    const file = new URL("../fixtures/fedora-messages/buildsys.tag/000.json", import.meta.url);
    const [read] = parseCapture(readFileSync(file, "utf8"), "buildsys.tag/000.json");
    expect(read).toEqual({ ok: true, envelope: envelopeOf(fixtureJson("buildsys.tag/000.json")), where: "buildsys.tag/000.json" });
  });

  it("refuses a captured message with an unknown key that is not an annotation, as POST /api/v1/events does", () => {
    const file = new URL("../fixtures/fedora-messages/buildsys.tag/000.json", import.meta.url);
    const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const [read] = parseCapture(JSON.stringify({ ...raw, source: raw._source }), "renamed.json");
    expect(read).toEqual({ ok: false, where: "renamed.json", topic: raw.topic, issues: [{ path: "/source", message: "is not a known field" }] });
  });

  it("reads datagrepper's shape back into the envelope it was rendered from, alone, as JSON lines and as a page", () => {
    const envelopes = fixtureMessages().slice(0, 20).map((f) => envelopeOf(f.json));
    const lines = envelopes.map((e) => JSON.stringify(renderDatagrepperMessage(e))).join("\n") + "\n";
    expect(parseCapture(lines, "export.jsonl").map((c) => (c.ok ? c.envelope : c))).toEqual(envelopes);
    const page = JSON.stringify({ raw_messages: envelopes.map(renderDatagrepperMessage), count: envelopes.length, pages: 1 });
    expect(parseCapture(page, "page.json").map((c) => c.where)).toEqual(envelopes.map((_, i) => `page.json#${i}`));
    expect(parseCapture(page, "page.json").every((c) => c.ok)).toBe(true);
  });

  it("makes a fedmsg-era datagrepper message's timestamp its sent-at", () => {
    const [read] = parseCapture(JSON.stringify({ msg_id: "2014-1", topic: "org.fedoraproject.prod.buildsys.tag", timestamp: 1408800976, msg: { tag: "f21" } }), "old.json");
    expect(read).toMatchObject({ ok: true, envelope: { id: "2014-1", headers: { "sent-at": "2014-08-23T13:36:16Z" }, body: { tag: "f21" } } });
  });

  it("says which line of a JSON-lines file is not a message, and reads the others", () => {
    const good = JSON.stringify(fixtureJson("buildsys.tag/000.json"));
    const read = parseCapture(`${good}\n{"topic": "x.y"\n\n["not", "an object"]\n{"topic": "org.fedoraproject.prod.buildsys.tag", "body": {}}\n`, "mixed.jsonl");
    // Line 4 is an array of two non-messages.
    expect(read.map((c) => [c.where, c.ok])).toEqual([
      ["mixed.jsonl:1", true],
      ["mixed.jsonl:2", false],
      ["mixed.jsonl:4", false],
      ["mixed.jsonl:4", false],
      ["mixed.jsonl:5", false],
    ]);
    expect(read[1]).toMatchObject({ ok: false, issues: [{ path: "/", message: expect.stringMatching(/^not JSON/) }] });
    expect(read[4]).toMatchObject({ ok: false, topic: "org.fedoraproject.prod.buildsys.tag", issues: [{ path: "/id" }] });
  });

  it("orders messages by when they were sent when all say it, and keeps the capture's order otherwise", () => {
    const at = (id: string, sent?: string): Envelope => ({ id, topic: "t.x", headers: sent ? { "sent-at": sent } : {}, body: {} });
    const newestFirst = [at("c", "2026-11-20T12:00:00Z"), at("b", "2026-11-20T11:00:00Z"), at("b2", "2026-11-20T11:00:00Z"), at("a", "2026-11-20T10:00:00Z")];
    expect(inSendingOrder(newestFirst)).toEqual({ ordered: true, messages: [newestFirst[3], newestFirst[1], newestFirst[2], newestFirst[0]] });
    const partly = [...newestFirst, at("undated")];
    expect(inSendingOrder(partly)).toEqual({ ordered: false, messages: partly });
  });
});
