import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Envelope } from "../../src/domain/envelope.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { buildCompleteMessage, ciTestMessage, fixtureFile, fixtureJson } from "../support/fedoraMessages.js";

let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;

describe.each(testProviders)("events API on %s", (provider) => {
  let t: TestApp;
  let admin: { authorization: string };
  let reader: { authorization: string };

  beforeAll(async () => {
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
    admin = await t.auth("admin");
    reader = await t.auth("reader");
  });
  afterAll(async () => t?.close());

  const post = (body: unknown, headers = admin) => t.app.inject({ method: "POST", url: "/api/v1/events", payload: body as object, headers });
  const get = (url: string) => t.app.inject({ method: "GET", url, headers: reader });

  it("maps a posted Koji build into a mirror artifact: 201 with the recorded event", async () => {
    const buildId = 4_000_000 + ++counter;
    const message = buildCompleteMessage({ id: uniq("build"), buildId, name: "bash", version: "5.2.37", release: "1.fc45" });
    const res = await post(message);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      messageId: message.id,
      topic: "org.fedoraproject.prod.buildsys.build.state.change",
      bareTopic: "buildsys.build.state.change",
      status: "accepted",
      outcome: "accepted",
      artifactId: `koji-build-${buildId}`,
      deliveries: 1,
      envelope: message,
    });
    const artifact = await get(`/api/v1/artifacts/koji-build-${buildId}`);
    expect(artifact.statusCode).toBe(200);
    expect(artifact.json()).toMatchObject({ package: "bash", release: "rawhide", source: { event: "mirror" } });
  });

  it("answers 200 with outcome duplicate to the same message again", async () => {
    const message = { ...(fixtureJson("bodhi.update.comment/000.json") as unknown as Envelope), id: uniq("comment") };
    expect((await post(message)).statusCode).toBe(201);
    const again = await post(message);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: "ignored", outcome: "duplicate", deliveries: 2 });
  });

  it("answers 422 to a message whose fields the mapping needs are wrong, and keeps it in the log", async () => {
    const message = buildCompleteMessage({ id: uniq("nobuild"), buildId: 1, name: "bash", version: "5.2", release: "1.fc41" });
    delete message.body.build_id;
    const res = await post(message);
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ status: 422, detail: expect.stringContaining("/body/build_id"), event: { messageId: message.id, status: "rejected" } });
    const listed = await get("/api/v1/events?status=rejected");
    expect(listed.json().items.map((e: { messageId: string }) => e.messageId)).toContain(message.id);
  });

  it("answers 400 naming the field to a body that is not an envelope, and records nothing", async () => {
    const res = await post({ topic: "org.fedoraproject.prod.buildsys.tag", body: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ path: "/id", in: "body" });
  });

  it("takes a fixture file as it is (its _source annotation ignored, as bus replay does) and refuses any other unknown key", async () => {
    const fixture = fixtureFile("bodhi.update.comment/000.json");
    expect(fixture._source).toBeDefined();
    const id = uniq("annotated");
    const res = await post({ ...fixture, id });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().envelope).toEqual({ id, topic: fixture.topic, headers: fixture.headers, body: fixture.body });

    const unknownId = uniq("unknown");
    const unknown = await post({ ...fixture, id: unknownId, source: fixture._source });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([{ path: "/source", message: "is not a known field", in: "body" }]);
    expect((await get(`/api/v1/events/${unknownId}`)).statusCode).toBe(404);
  });

  it("takes a whole Koji message bigger than an artifact's body limit", async () => {
    const message = buildCompleteMessage({ id: uniq("big"), buildId: 4_100_000 + ++counter, name: "kernel", version: "6.12.0", release: "1.fc45" });
    message.body.task = { children: Array.from({ length: 3000 }, (_, i) => ({ id: i, logs: ["build.log", "root.log", "state.log", "mock_output.log"].map((l) => `tasks/${i}/${l}`) })) };
    expect(JSON.stringify(message).length).toBeGreaterThan(256 * 1024);
    expect((await post(message)).statusCode).toBe(201);
  });

  it("needs the admin role to post and the reader role to read", async () => {
    const ci = await t.auth("ci");
    expect((await post(ciTestMessage({ id: uniq("ci"), nvr: "a-1-1.fc45" }), ci)).statusCode).toBe(403);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/events" })).statusCode).toBe(401);
  });

  it("lists events by status and topic, newest first, a page at a time, and shows one by id", async () => {
    const nvr = `nobody-1-${++counter}.fc45`;
    const waiting = ciTestMessage({ id: uniq("wait"), nvr });
    const posted = await post(waiting);
    expect(posted.statusCode).toBe(201);
    expect(posted.json()).toMatchObject({ status: "waiting", nvr });
    const byStatus = await get("/api/v1/events?status=waiting");
    expect(byStatus.statusCode).toBe(200);
    expect(byStatus.json().items[0]).toMatchObject({ messageId: waiting.id, status: "waiting", reason: expect.stringContaining("no artifact carries") });
    const bare = await get("/api/v1/events?topic=ci.koji-build.test.complete");
    expect(bare.json().items.map((e: { messageId: string }) => e.messageId)).toContain(waiting.id);
    const full = await get("/api/v1/events?topic=org.centos.prod.ci.koji-build.test.complete");
    expect(full.json().items.map((e: { messageId: string }) => e.messageId)).toContain(waiting.id);
    const none = await get("/api/v1/events?topic=org.fedoraproject.stg.ci.koji-build.test.complete");
    expect(none.json().items).toEqual([]);

    const page1 = await get("/api/v1/events?limit=2");
    expect(page1.json().items).toHaveLength(2);
    const page2 = await get(`/api/v1/events?limit=2&cursor=${page1.json().nextCursor}`);
    const seen = [...page1.json().items, ...page2.json().items].map((e: { messageId: string }) => e.messageId);
    expect(new Set(seen).size).toBe(seen.length);

    const one = await get(`/api/v1/events/${encodeURIComponent(waiting.id)}`);
    expect(one.json()).toMatchObject({ messageId: waiting.id, envelope: waiting });
    expect((await get("/api/v1/events/no-such-message")).statusCode).toBe(404);
    expect((await get("/api/v1/events?status=lost")).statusCode).toBe(400);
    expect((await get("/api/v1/events?cursor=bogus")).statusCode).toBe(400);
  });

  it("counts every message by bare topic and outcome at /metrics", async () => {
    const res = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    expect(res.body).toContain("# TYPE relengd_bus_messages_total counter");
    expect(res.body).toMatch(/relengd_bus_messages_total\{topic="buildsys\.build\.state\.change",outcome="accepted"\} [1-9]/);
    expect(res.body).toMatch(/relengd_bus_messages_total\{topic="bodhi\.update\.comment",outcome="duplicate"\} 1/);
    expect(res.body).toMatch(/relengd_bus_messages_total\{topic="buildsys\.build\.state\.change",outcome="rejected"\} 1/);
  });

  it("lets a Fedora CI result from the bus release a gated Rawhide build (rawhide-auto waits for tier0)", async () => {
    const ci = await t.auth("ci");
    const nvr = `gated-1.0-${++counter}.fc45`;
    const artifact = sampleArtifact({ id: uniq("gated"), package: "gated", release: "rawhide" });
    artifact.source = { ...artifact.source, branch: "rawhide", event: "build" };
    artifact.items = [{ kind: "koji-build", nvr }];
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: ci })).statusCode).toBe(201);
    const before = await get(`/api/v1/releases?artifactId=${artifact.id}`);
    expect(before.json().items).toEqual([]);

    const res = await post(ciTestMessage({ id: uniq("tier0"), nvr, result: "passed" }));
    expect(res.json()).toMatchObject({ status: "accepted", artifactId: artifact.id });
    const after = await get(`/api/v1/releases?artifactId=${artifact.id}`);
    expect(after.json().items).toMatchObject([{ environment: "rawhide", trigger: "policy/rawhide-auto" }]);
  });
});
