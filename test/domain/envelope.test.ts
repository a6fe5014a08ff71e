import { describe, expect, it } from "vitest";
import {
  bareTopic,
  deliveryKey,
  MAX_MESSAGE_BYTES,
  normalizeHeaders,
  parseAmqp,
  parseEnvelope,
  parseEnvelopeJson,
  renderAmqp,
  renderEnvelopeJson,
  schemaName,
  sentAt,
  splitTopic,
  type AmqpDelivery,
  type Envelope,
} from "../../src/domain/envelope.js";
import { fixtureJson, fixtureMessages } from "../support/fedoraMessages.js";

function envelopeOf(json: unknown): Envelope {
  const parsed = parseEnvelope(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

function asDelivery(envelope: Envelope): AmqpDelivery {
  const { routingKey, content, properties } = renderAmqp(envelope);
  return { routingKey, content, properties };
}

describe("fedora-messaging envelope", () => {
  const fixtures = fixtureMessages();

  it("reads all 126 fixture messages", () => {
    expect(fixtures).toHaveLength(126);
    for (const f of fixtures) expect(parseEnvelope(f.json), f.file).toMatchObject({ ok: true });
  });

  it.each(fixtures.map((f) => [f.file, f.json] as const))("round-trips %s through the JSON form and through AMQP", (_file, json) => {
    const envelope = envelopeOf(json);
    expect(parseEnvelopeJson(renderEnvelopeJson(envelope))).toEqual({ ok: true, value: envelope });
    expect(parseAmqp(asDelivery(envelope))).toEqual({ ok: true, value: envelope });
    // The JSON form is the fixture itself (without its provenance).
    expect(JSON.parse(renderEnvelopeJson(envelope))).toEqual({ headers: {}, ...json });
  });

  it("publishes the way fedora-messaging does: routing key = topic, id and headers as properties, persistent JSON", () => {
    const envelope = envelopeOf(fixtureJson("buildsys.build.state.change/001.json"));
    const out = renderAmqp(envelope);
    expect(out.routingKey).toBe("org.fedoraproject.prod.buildsys.build.state.change");
    expect(out.properties).toMatchObject({
      messageId: "eb9af16c-7324-4140-bc99-1822915f359b",
      contentType: "application/json",
      contentEncoding: "utf-8",
      deliveryMode: 2,
    });
    expect(out.properties.headers["fedora_messaging_schema"]).toBe("koji_fedoramessaging.build.BuildStateChangeV1");
    expect(JSON.parse(new TextDecoder().decode(out.content))).toEqual(envelope.body);
    expect(sentAt(envelope)?.toISOString()).toBe("2025-11-17T14:42:02.000Z");
    expect(schemaName(envelope)).toBe("koji_fedoramessaging.build.BuildStateChangeV1");
  });

  it.each([
    ["org.fedoraproject.prod.buildsys.tag", "org.fedoraproject.prod.", "buildsys.tag"],
    ["org.fedoraproject.stg.resultsdb.result.new", "org.fedoraproject.stg.", "resultsdb.result.new"],
    ["org.centos.prod.ci.koji-build.test.complete", "org.centos.prod.", "ci.koji-build.test.complete"],
    ["org.centos.stage.ci.pipeline.image.running", "org.centos.stage.", "ci.pipeline.image.running"],
    ["buildsys.tag", null, "buildsys.tag"],
    ["org.fedoraproject.dev.bodhi.update.edit", null, "org.fedoraproject.dev.bodhi.update.edit"],
  ])("splits %s into its prefix and bare topic", (topic, prefix, bare) => {
    expect(splitTopic(topic)).toEqual({ prefix, topic: bare });
    expect(bareTopic(topic)).toBe(bare);
  });

  it("rejects a JSON form without an id, naming the field", () => {
    expect(parseEnvelope({ topic: "org.fedoraproject.prod.buildsys.tag", body: {} })).toMatchObject({ ok: false, issues: [{ path: "/id" }] });
  });

  it("rejects a body that is not a JSON object, a topic with spaces and a sent-at that is no time", () => {
    expect(parseEnvelope({ id: "a", topic: "x.y", body: [1] })).toMatchObject({ ok: false, issues: [{ path: "/body" }] });
    expect(parseEnvelope({ id: "a", topic: "x y", body: {} })).toMatchObject({ ok: false, issues: [{ path: "/topic" }] });
    expect(parseEnvelope({ id: "a", topic: "x.y", headers: { "sent-at": "yesterday" }, body: {} })).toMatchObject({
      ok: false,
      issues: [{ path: "/headers/sent-at", message: "must be an ISO 8601 time" }],
    });
  });

  it("ignores top-level annotations (keys starting with _, a fixture's _source) and refuses any other field it does not know", () => {
    const fixture = fixtureJson("buildsys.tag/000.json") as Record<string, unknown>;
    const annotated = parseEnvelope({ ...fixture, _source: { url: "https://apps.fedoraproject.org/datagrepper/…" }, _note: "captured by hand" });
    expect(annotated).toEqual(parseEnvelope({ id: fixture.id, topic: fixture.topic, headers: fixture.headers, body: fixture.body }));
    expect(annotated.ok && Object.keys(annotated.value).sort()).toEqual(["body", "headers", "id", "topic"]);
    expect(parseEnvelope({ ...fixture, source: {} })).toEqual({ ok: false, issues: [{ path: "/source", message: "is not a known field" }] });
    // Only the top level: inside the body, keys belong to the message.
    expect(parseEnvelope({ ...fixture, body: { ...(fixture.body as object), _private: 1 } })).toMatchObject({ ok: true, value: { body: { _private: 1 } } });
  });

  it("names the AMQP field of a broken delivery", () => {
    const good = asDelivery(envelopeOf(fixtureJson("buildsys.tag/000.json")));
    const text = (s: string) => new TextEncoder().encode(s);
    expect(parseAmqp({ ...good, content: text("{not json") })).toMatchObject({ ok: false, issues: [{ path: "/content", message: expect.stringContaining("is not JSON") }] });
    expect(parseAmqp({ ...good, content: text("[1, 2]") })).toMatchObject({ ok: false, issues: [{ path: "/content" }] });
    expect(parseAmqp({ ...good, content: new Uint8Array([0x7b, 0xff, 0x7d]) })).toMatchObject({ ok: false, issues: [{ path: "/content", message: "is not valid UTF-8" }] });
    expect(parseAmqp({ ...good, properties: { ...good.properties, messageId: undefined } })).toMatchObject({ ok: false, issues: [{ path: "/properties/messageId" }] });
    expect(parseAmqp({ ...good, properties: { ...good.properties, contentEncoding: "gzip" } })).toMatchObject({
      ok: false,
      issues: [{ path: "/properties/contentEncoding" }],
    });
    expect(parseAmqp({ ...good, properties: { ...good.properties, contentType: "text/plain" } })).toMatchObject({ ok: false, issues: [{ path: "/properties/contentType" }] });
    expect(parseAmqp({ ...good, properties: { ...good.properties, headers: { "sent-at": 12 } } })).toMatchObject({
      ok: false,
      issues: [{ path: "/properties/headers/sent-at" }],
    });
    expect(parseAmqp({ ...good, content: new Uint8Array(MAX_MESSAGE_BYTES + 1) })).toMatchObject({ ok: false, issues: [{ path: "/content", message: expect.stringContaining("more than") }] });
  });

  it("accepts a delivery without content type, encoding or headers (other publishers than fedora-messaging)", () => {
    const good = asDelivery(envelopeOf(fixtureJson("buildsys.tag/000.json")));
    const parsed = parseAmqp({ ...good, properties: { messageId: good.properties.messageId } });
    expect(parsed).toMatchObject({ ok: true, value: { headers: {} } });
  });

  it("turns AMQP header values into JSON: byte strings to text, 64-bit integers to numbers", () => {
    expect(normalizeHeaders({ a: Buffer.from("spot"), b: 20n, c: 2n ** 70n, d: [true, null], e: { f: 1.5 } })).toEqual({
      a: "spot",
      b: 20,
      c: (2n ** 70n).toString(),
      d: [true, null],
      e: { f: 1.5 },
    });
  });

  it("keys a delivery without an id by its routing key and bytes, the same on redelivery", () => {
    const a = { routingKey: "org.fedoraproject.prod.buildsys.tag", content: new TextEncoder().encode("{") };
    expect(deliveryKey(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(deliveryKey({ ...a })).toBe(deliveryKey(a));
    expect(deliveryKey({ ...a, routingKey: "org.fedoraproject.prod.buildsys.untag" })).not.toBe(deliveryKey(a));
  });
});
