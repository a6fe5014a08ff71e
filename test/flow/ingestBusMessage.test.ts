import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAmqp, type AmqpDelivery, type Envelope } from "../../src/domain/envelope.js";
import type { BusOutcome } from "../../src/domain/busMapping.js";
import { applyWaitingResults, ingestBusDelivery, ingestBusMessage, type BusDeps } from "../../src/flow/ingestBusMessage.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { parseArtifact } from "../../src/domain/artifact.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { buildCompleteMessage, ciTestMessage, fixtureJson } from "../support/fedoraMessages.js";

let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;

function delivery(envelope: Envelope): AmqpDelivery {
  const { routingKey, content, properties } = renderAmqp(envelope);
  return { routingKey, content, properties };
}

describe.each(testProviders)("bus messages into the store on %s", (provider) => {
  let database: TestDatabase;
  let deps: BusDeps;
  let events: BusEventRepository;
  let artifacts: ArtifactRepository;
  const counted: [string, BusOutcome][] = [];
  const policyEvents: [string, string][] = [];

  beforeAll(async () => {
    database = await freshDatabase(provider);
    artifacts = new ArtifactRepository(database.db.prisma);
    events = new BusEventRepository(database.db.prisma);
    deps = {
      artifacts,
      events,
      mapping: { rawhideVersion: 45 },
      count: (topic, outcome) => counted.push([topic, outcome]),
      policyEvent: async (artifactId, event) => {
        policyEvents.push([artifactId, event]);
      },
    };
  });
  afterAll(async () => database?.dispose());

  // Policies on a new artifact run in the ingest itself (ArtifactRepository's hook), as for a CI push.
  it("stores a completed Koji build as a mirror artifact and records the event", async () => {
    const buildId = 3_000_000 + counter++;
    const message = buildCompleteMessage({ id: uniq("build"), buildId, name: "bash", version: "5.2.37", release: "1.fc45" });
    const result = await ingestBusDelivery(deps, delivery(message));
    expect(result).toMatchObject({ outcome: "accepted", artifactId: `koji-build-${buildId}`, bareTopic: "buildsys.build.state.change" });
    const stored = await artifacts.get(`koji-build-${buildId}`);
    expect(stored?.artifact).toMatchObject({ package: "bash", release: "rawhide", source: { event: "mirror" } });
    expect(await events.find(message.id)).toMatchObject({ status: "accepted", reason: `created artifact koji-build-${buildId}`, deliveries: 1, parsed: true, nvr: "bash-5.2.37-1.fc45" });
    expect(counted.at(-1)).toEqual(["buildsys.build.state.change", "accepted"]);
  });

  it("recognises a redelivered message by its id: counted as a duplicate, not applied again", async () => {
    const message = ciTestMessage({ id: uniq("ci"), nvr: "nothing-1-1.fc45" });
    expect((await ingestBusMessage(deps, { ok: true, envelope: message })).outcome).toBe("waiting");
    const again = await ingestBusMessage(deps, { ok: true, envelope: message });
    expect(again).toMatchObject({ outcome: "duplicate", reason: expect.stringContaining("was received before (waiting") });
    expect(await events.find(message.id)).toMatchObject({ status: "waiting", deliveries: 2 });
    expect(counted.at(-1)).toEqual(["ci.koji-build.test.complete", "duplicate"]);
    expect((await events.list({ status: "duplicate", limit: 50 })).items.map((e) => e.messageId)).toContain(message.id);
  });

  it("records a message once when two consumers handle it at the same time", async () => {
    const buildId = 3_050_000 + counter++;
    const message = buildCompleteMessage({ id: uniq("race"), buildId, name: "tcsh", version: "6.24", release: "1.fc45" });
    const outcomes = await Promise.all([1, 2, 3].map(() => ingestBusMessage(deps, { ok: true, envelope: message })));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["accepted", "duplicate", "duplicate"]);
    expect(await events.find(message.id)).toMatchObject({ status: "accepted", deliveries: 3 });
    expect((await artifacts.list({ nvr: `tcsh-6.24-1.fc45`, limit: 10 })).items).toHaveLength(1);
  });

  it("keeps a result that arrives before its build and appends it when the build arrives", async () => {
    const buildId = 3_100_000 + counter++;
    const nvr = `zsh-5.9-${buildId}.fc45`;
    const result = ciTestMessage({ id: uniq("early"), nvr, result: "failed" });
    expect(await ingestBusMessage(deps, { ok: true, envelope: result })).toMatchObject({
      outcome: "waiting",
      reason: `no artifact carries ${nvr} yet; the result is kept and appended when one arrives`,
    });
    await ingestBusMessage(deps, { ok: true, envelope: buildCompleteMessage({ id: uniq("build"), buildId, name: "zsh", version: "5.9", release: `${buildId}.fc45` }) });
    const settled = await events.find(result.id);
    expect(settled).toMatchObject({ status: "accepted", artifactId: `koji-build-${buildId}`, reason: expect.stringMatching(/^appended to koji-build-\d+ \(1 added, 0 updated\) \(waited since /) });
    expect((await artifacts.get(`koji-build-${buildId}`))?.results).toMatchObject([{ testcase: "fedora-ci.koji-build.tier0.functional", outcome: "FAILED" }]);
    expect(policyEvents).toContainEqual([`koji-build-${buildId}`, "results"]);
  });

  it("appends a waiting result once CI pushed an artifact with its build (the periodic sweep)", async () => {
    const pushed = parseArtifact(sampleArtifact());
    if (!pushed.ok) throw new Error("sample artifact invalid");
    const nvr = pushed.value.items.find((i) => i.kind === "koji-build")?.nvr as string;
    const result = ciTestMessage({ id: uniq("sweep"), nvr, category: "static-analysis", type: "tier1" });
    expect((await ingestBusMessage(deps, { ok: true, envelope: result })).outcome).toBe("waiting");
    await artifacts.ingest(pushed.value);
    expect(await applyWaitingResults(deps)).toBeGreaterThanOrEqual(1);
    expect(await events.find(result.id)).toMatchObject({ status: "accepted", artifactId: pushed.value.id });
    expect((await artifacts.get(pushed.value.id))?.results.map((r) => r.testcase)).toContain("fedora-ci.koji-build.tier1.static-analysis");
    // Nothing is waiting for that build any more.
    expect(await applyWaitingResults(deps, [nvr])).toBe(0);
  });

  it("appends a result to every artifact that carries the build, and says when it was already there", async () => {
    const buildId = 3_200_000 + counter++;
    const nvr = `fish-3.7-${buildId}.fc45`;
    const ci = sampleArtifact({ id: uniq("ci-art"), package: "fish" });
    ci.items = [{ kind: "koji-build", nvr }];
    const parsed = parseArtifact(ci);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    await artifacts.ingest(parsed.value);
    await ingestBusMessage(deps, { ok: true, envelope: buildCompleteMessage({ id: uniq("build"), buildId, name: "fish", version: "3.7", release: `${buildId}.fc45` }) });
    const result = ciTestMessage({ id: uniq("both"), nvr });
    const applied = await ingestBusMessage(deps, { ok: true, envelope: result });
    expect(applied.outcome).toBe("accepted");
    expect(applied.reason).toContain(`appended to koji-build-${buildId}`);
    expect(applied.reason).toContain(`appended to ${parsed.value.id}`);
    // The same result under another message id changes nothing.
    const same = await ingestBusMessage(deps, { ok: true, envelope: { ...result, id: uniq("same") } });
    expect(same).toMatchObject({ outcome: "accepted", reason: expect.stringContaining(`already on koji-build-${buildId}, unchanged`) });
  });

  it("accepts the same build from another message as unchanged, and rejects one that contradicts the stored artifact", async () => {
    const buildId = 3_300_000 + counter++;
    const first = buildCompleteMessage({ id: uniq("build"), buildId, name: "vim", version: "9.1", release: "1.fc41" });
    await ingestBusMessage(deps, { ok: true, envelope: first });
    expect(await ingestBusMessage(deps, { ok: true, envelope: { ...first, id: uniq("again") } })).toMatchObject({
      outcome: "accepted",
      reason: `artifact koji-build-${buildId} was already stored, identical; nothing changed`,
    });
    const other = buildCompleteMessage({ id: uniq("other"), buildId, name: "vim", version: "9.1", release: "1.fc41", sha: "0123456789abcdef0123456789abcdef01234567" });
    expect(await ingestBusMessage(deps, { ok: true, envelope: other })).toMatchObject({
      outcome: "rejected",
      reason: expect.stringContaining(`artifact koji-build-${buildId} is already stored with another body`),
    });
  });

  it("records a delivery that is not JSON as rejected, keyed by its message id, and keeps its bytes", async () => {
    const id = uniq("broken");
    const broken: AmqpDelivery = {
      routingKey: "org.fedoraproject.prod.buildsys.build.state.change",
      content: new TextEncoder().encode('{"build_id": 1, "name": '),
      properties: { messageId: id, contentType: "application/json" },
    };
    const result = await ingestBusDelivery(deps, broken);
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/^\/content is not JSON/) });
    expect(await events.find(id)).toMatchObject({ status: "rejected", parsed: false, envelope: '{"build_id": 1, "name": ', topic: broken.routingKey });
    expect((await ingestBusDelivery(deps, broken)).outcome).toBe("duplicate");
    expect(counted.filter(([t, o]) => t === "buildsys.build.state.change" && o === "rejected").length).toBeGreaterThanOrEqual(1);
  });

  it("keys a delivery without a message id by its bytes, so a redelivery is still a duplicate", async () => {
    const anonymous: AmqpDelivery = { ...delivery(ciTestMessage({ id: uniq("x"), nvr: "a-1-1.fc45" })), properties: { contentType: "application/json" } };
    const first = await ingestBusDelivery(deps, anonymous);
    expect(first).toMatchObject({ outcome: "rejected", messageId: expect.stringMatching(/^sha256:/), reason: expect.stringContaining("/properties/messageId") });
    expect((await ingestBusDelivery(deps, anonymous)).outcome).toBe("duplicate");
  });

  it("records a message with a missing field as rejected with the field, and an unknown topic as ignored", async () => {
    const noBuildId = buildCompleteMessage({ id: uniq("nobuild"), buildId: 1, name: "bash", version: "5.2", release: "1.fc41" });
    delete noBuildId.body.build_id;
    expect(await ingestBusMessage(deps, { ok: true, envelope: noBuildId })).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/^\/body\/build_id /) });
    const waiver = { ...(fixtureJson("waiverdb.waiver.new/000.json") as unknown as Envelope), id: uniq("waiver") };
    expect(await ingestBusMessage(deps, { ok: true, envelope: waiver })).toMatchObject({ outcome: "ignored", reason: "topic waiverdb.waiver.new is not one relengd maps" });
    const rejected = await events.list({ status: "rejected", limit: 200 });
    expect(rejected.items.map((e) => e.messageId)).toContain(noBuildId.id);
  });

  it("lists events newest first, by status and topic, a page at a time", async () => {
    const all = await events.list({ limit: 3 });
    expect(all.items).toHaveLength(3);
    expect(all.items[0]!.seq).toBeGreaterThan(all.items[1]!.seq);
    const next = await events.list({ limit: 3, cursor: all.nextCursor as string });
    expect(next.items[0]!.seq).toBeLessThan(all.items[2]!.seq);
    const builds = await events.list({ topic: { bare: "buildsys.build.state.change" }, limit: 200 });
    expect(builds.items.length).toBeGreaterThan(0);
    expect(builds.items.every((e) => e.bareTopic === "buildsys.build.state.change")).toBe(true);
    const full = await events.list({ topic: { full: "org.centos.prod.ci.koji-build.test.complete" }, limit: 200 });
    expect(full.items.every((e) => e.topic === "org.centos.prod.ci.koji-build.test.complete")).toBe(true);
  });
});
