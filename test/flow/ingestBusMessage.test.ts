import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAmqp, type AmqpDelivery, type Envelope } from "../../src/domain/envelope.js";
import type { BusOutcome } from "../../src/domain/busMapping.js";
import { applyWaitingResults, ingestBusDelivery, ingestBusMessage, type BusDeps } from "../../src/flow/ingestBusMessage.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { parseArtifact } from "../../src/domain/artifact.js";
import { parseDocumentText } from "../../src/domain/documents/index.js";
import { parseShadowCommitMessage } from "../../src/domain/commitMessages/shadow.js";
import { parse } from "yaml";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { countRows } from "../support/rows.js";
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
    artifacts = new ArtifactRepository(database.db);
    events = new BusEventRepository(database.db);
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

  it("records as rejected, with nothing applied, a message that fails for a reason of its own, and resolves", async () => {
    // Built in code, past the parser's limit: what any path that skips parseEnvelope might hand over.
    let deep: unknown = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const buildId = 3_900_000 + counter++;
    const message = buildCompleteMessage({ id: uniq("deep"), buildId, name: "deepbuild", version: "1", release: "1.fc45" });
    const result = await ingestBusMessage(deps, { ok: true, envelope: { ...message, body: { ...message.body, nested: deep } } });
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/^could not be applied: RangeError/) });
    expect(await events.find(message.id)).toMatchObject({ status: "rejected", deliveries: 1 });
    expect(await artifacts.get(`koji-build-${buildId}`)).toBeNull();
    // Delivered again: a duplicate, not a second failure.
    expect((await ingestBusMessage(deps, { ok: true, envelope: { ...message, body: { ...message.body, nested: deep } } })).outcome).toBe("duplicate");
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
    const unmapped = { ...(fixtureJson("taskotron.result.new/000.json") as unknown as Envelope), id: uniq("taskotron") };
    expect(await ingestBusMessage(deps, { ok: true, envelope: unmapped })).toMatchObject({ outcome: "ignored", reason: "topic taskotron.result.new is not one relengd maps" });
    const rejected = await events.list({ status: "rejected", limit: 200 });
    expect(rejected.items.map((e) => e.messageId)).toContain(noBuildId.id);
  });

  it("keeps a WaiverDB waiver for its build, and reruns the policies of the artifacts that carry it", async () => {
    const nvr = "dummy-test-package-gloster-0-548.fc33";
    const waiver = (id: string) => ({ ...(fixtureJson("waiverdb.waiver.new/000.json") as unknown as Envelope), id });
    const first = waiver(uniq("waiver"));
    expect(await ingestBusMessage(deps, { ok: true, envelope: first })).toMatchObject({ outcome: "accepted", artifactId: null, reason: expect.stringContaining(`no artifact carries ${nvr} yet`) });
    const buildId = 3_600_000 + counter++;
    await ingestBusMessage(deps, { ok: true, envelope: buildCompleteMessage({ id: uniq("build"), buildId, name: "dummy-test-package-gloster", version: "0", release: "548.fc33" }) });
    policyEvents.length = 0;
    const second = waiver(uniq("waiver"));
    expect(await ingestBusMessage(deps, { ok: true, envelope: second })).toMatchObject({
      outcome: "accepted",
      artifactId: `koji-build-${buildId}`,
      reason: expect.stringContaining(`policies run again on koji-build-${buildId}`),
    });
    expect(policyEvents).toEqual([[`koji-build-${buildId}`, "waiver"]]);
    // Each message's waiver stored once, with the event in its transaction; a redelivery adds none.
    expect(await countRows(database.db, "Waiver", { column: "messageId", in: [first.id, second.id] })).toBe(2);
    expect((await ingestBusMessage(deps, { ok: true, envelope: second })).outcome).toBe("duplicate");
    expect(await countRows(database.db, "Waiver", { column: "nvr", in: [nvr] })).toBe(2);
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

describe.each(testProviders)("what the bus observes, in the event's own transaction, on %s", (provider) => {
  let database: TestDatabase;
  let deps: BusDeps;
  let events: BusEventRepository;
  let shadowTold = 0;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    events = new BusEventRepository(database.db);
    deps = { artifacts: new ArtifactRepository(database.db), events, mapping: { rawhideVersion: 45 }, onShadowChange: () => shadowTold++ };
  });
  afterAll(async () => database?.dispose());

  const fixture = (file: string, id = uniq(file.split("/")[0] as string)): Envelope => ({ ...(fixtureJson(file) as unknown as Envelope), id });

  it("turns an update's messages into queued commits on its merge request, merged when it goes stable", async () => {
    const told = shadowTold;
    const testing = fixture("bodhi.update.complete.testing/000.json");
    expect(await ingestBusMessage(deps, { ok: true, envelope: testing })).toMatchObject({
      outcome: "accepted",
      reason: expect.stringMatching(/^FEDORA-2019-02cd019281 pushed to testing: a commit on mr\/FEDORA-2019-02cd019281 queued/),
    });
    // The same update pushed to stable, told by a short message: the other fields stay.
    const stable = { ...fixture("bodhi.update.complete.stable/000.json"), body: { update: { alias: "FEDORA-2019-02cd019281", release: { name: "F29" }, builds: [{ nvr: "nfs-ganesha-2.7.4-1.fc29" }], status: "stable" } } };
    expect(await ingestBusMessage(deps, { ok: true, envelope: stable })).toMatchObject({ outcome: "accepted", reason: expect.stringContaining("and its merge into main queued") });
    expect(shadowTold).toBe(told + 2);

    const update = await events.shadow.update("FEDORA-2019-02cd019281");
    expect(update).toMatchObject({ state: "merged", path: "bodhi/F29/nfs-ganesha.yaml", spec: { request: "stable", notes: "nfs-ganesha 2.7.4 GA", type: "bugfix" }, lastMessageId: stable.id, version: 1 });
    expect(update?.mergedAt).toBeInstanceOf(Date);
    const changes = await events.shadow.changes({ alias: "FEDORA-2019-02cd019281" });
    expect(changes.map((c) => [c.kind, c.branch, c.status, c.messageId])).toEqual([
      ["update", "mr/FEDORA-2019-02cd019281", "queued", testing.id],
      ["merge", "mr/FEDORA-2019-02cd019281", "queued", stable.id],
    ]);
    const [first, merge] = changes;
    // Read as YAML: relengd/v1's alias pattern refuses Bodhi's lowercase aliases (the commit names that problem).
    expect(parse(first?.content ?? "")).toMatchObject({ apiVersion: "relengd/v1", kind: "BodhiUpdate", spec: { release: "F29", request: "testing", alias: "FEDORA-2019-02cd019281" } });
    expect(parseShadowCommitMessage(first?.message ?? "")).toEqual({
      subject: "bodhi: FEDORA-2019-02cd019281 pushed to testing (nfs-ganesha-2.7.4-1.fc29)",
      messageId: testing.id,
      topic: "org.fedoraproject.prod.bodhi.update.complete.testing",
      alias: "FEDORA-2019-02cd019281",
      nvrs: ["nfs-ganesha-2.7.4-1.fc29"],
      problems: expect.any(Array),
    });
    expect(parseShadowCommitMessage(merge?.mergeMessage ?? "")).toMatchObject({ subject: "Merge mr/FEDORA-2019-02cd019281: FEDORA-2019-02cd019281 pushed to stable", merge: "mr/FEDORA-2019-02cd019281" });
  });

  it("closes a merge request with its reason, and a later request opens it again", async () => {
    const unpush = fixture("bodhi.update.request.unpush/000.json");
    expect((await ingestBusMessage(deps, { ok: true, envelope: unpush })).reason).toContain("a commit closing mr/FEDORA-2019-8da6360454 (unpush) queued");
    expect(await events.shadow.update("FEDORA-2019-8da6360454")).toMatchObject({ state: "closed", closedReason: "unpush" });
    const closing = (await events.shadow.changes({ alias: "FEDORA-2019-8da6360454" }))[0];
    expect(parseShadowCommitMessage(closing?.message ?? "")).toMatchObject({ closed: "unpush" });

    const again = { ...unpush, id: uniq("retest"), topic: "org.fedoraproject.prod.bodhi.update.request.testing" };
    expect((await ingestBusMessage(deps, { ok: true, envelope: again })).reason).toContain("reopens the closed merge request");
    expect(await events.shadow.update("FEDORA-2019-8da6360454")).toMatchObject({ state: "open", closedReason: null, closedAt: null, version: 1 });
  });

  it("records a delivered-again message once and queues its commit once", async () => {
    const edit = fixture("bodhi.update.edit/000.json");
    const outcomes = await Promise.all([1, 2, 3].map(() => ingestBusMessage(deps, { ok: true, envelope: edit })));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["accepted", "duplicate", "duplicate"]);
    expect(await events.find(edit.id)).toMatchObject({ status: "accepted", deliveries: 3 });
    expect((await events.shadow.changes({ alias: "FEDORA-2019-7dbbb74a13" })).filter((c) => c.messageId === edit.id)).toHaveLength(1);
  });

  it("applies concurrent messages of one update one after the other, none lost", async () => {
    const alias = `FEDORA-2026-${String(process.pid).padStart(10, "0").slice(-10)}`;
    const message = (n: number): Envelope => ({
      id: uniq(`concurrent-${n}`),
      topic: "org.fedoraproject.prod.bodhi.update.edit",
      headers: {},
      body: { update: { alias, release: { name: "F44" }, builds: [{ nvr: "bash-5.3-1.fc44" }], notes: `note ${n}`, request: "testing" } },
    });
    const results = await Promise.all([1, 2, 3, 4].map((n) => ingestBusMessage(deps, { ok: true, envelope: message(n) })));
    expect(results.every((r) => r.outcome === "accepted")).toBe(true);
    expect(await events.shadow.changes({ alias })).toHaveLength(4);
    expect(await events.shadow.update(alias)).toMatchObject({ version: 3, state: "open" });
  });

  it("rejects an update message that cannot make a document, and writes nothing for it", async () => {
    const bare: Envelope = { id: uniq("no-builds"), topic: "org.fedoraproject.prod.bodhi.update.edit", headers: {}, body: { update: { alias: "FEDORA-2026-aaaaaaaaaa", release: { name: "F44" } } } };
    expect(await ingestBusMessage(deps, { ok: true, envelope: bare })).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/^\/body\/update\/builds must list/) });
    expect(await events.shadow.update("FEDORA-2026-aaaaaaaaaa")).toBeNull();
    expect(await events.shadow.changes({ alias: "FEDORA-2026-aaaaaaaaaa" })).toEqual([]);
    expect(await events.find(bare.id)).toMatchObject({ status: "rejected" });
  });

  it("keeps the observed tag state, an older message never undoing a newer one", async () => {
    const at = (iso: string) => ({ "sent-at": iso });
    const tagged: Envelope = { ...fixture("buildsys.tag/000.json"), headers: at("2026-11-20T10:00:00Z") };
    const untagged: Envelope = { id: uniq("untag"), topic: "org.fedoraproject.prod.buildsys.untag", headers: at("2026-11-20T11:00:00Z"), body: { ...tagged.body } };
    const lateTag: Envelope = { ...tagged, id: uniq("late-tag"), headers: at("2026-11-20T10:30:00Z") };
    expect(await ingestBusMessage(deps, { ok: true, envelope: tagged })).toMatchObject({ outcome: "accepted", reason: "observed: http-parser-2.9.3-1.fc31 tagged into f31-updates-pending (first seen)" });
    expect(await events.kojiTags.observed("f31-updates-pending")).toMatchObject([{ nvr: "http-parser-2.9.3-1.fc31", buildId: 1457909, latest: true, messageId: tagged.id, taggedAt: "2026-11-20T10:00:00.000Z" }]);
    expect(await ingestBusMessage(deps, { ok: true, envelope: untagged })).toMatchObject({ outcome: "accepted", reason: expect.stringContaining("untagged from f31-updates-pending (was tagged)") });
    expect(await ingestBusMessage(deps, { ok: true, envelope: lateTag })).toMatchObject({ outcome: "ignored", reason: expect.stringContaining("older than what is observed") });
    expect(await events.kojiTags.observed("f31-updates-pending")).toEqual([]);
    expect(await events.kojiTags.find("f31-updates-pending", "http-parser-2.9.3-1.fc31")).toMatchObject({ tagged: false, messageId: untagged.id });
    expect(await events.find(untagged.id)).toMatchObject({ status: "accepted", nvr: "http-parser-2.9.3-1.fc31" });
  });

  it("marks the last tagged build of each package the latest", async () => {
    const tag = (nvr: [string, string, string], sent: string): Envelope => ({
      id: uniq("tag"),
      topic: "org.fedoraproject.prod.buildsys.tag",
      headers: { "sent-at": sent },
      body: { tag: "f45-latest-test", name: nvr[0], version: nvr[1], release: nvr[2], instance: "primary" },
    });
    for (const m of [tag(["bash", "5.2", "2.fc45"], "2026-11-20T09:00:00Z"), tag(["bash", "5.2", "1.fc45"], "2026-11-20T10:00:00Z"), tag(["zsh", "5.9", "1.fc45"], "2026-11-20T08:00:00Z")]) {
      expect((await ingestBusMessage(deps, { ok: true, envelope: m })).outcome).toBe("accepted");
    }
    const observed = await events.kojiTags.observed("f45-latest-test");
    expect(observed.map((b) => [b.nvr, b.latest])).toEqual([
      ["bash-5.2-2.fc45", false],
      ["bash-5.2-1.fc45", true],
      ["zsh-5.9-1.fc45", true],
    ]);
    expect((await events.kojiTags.tags()).find((t) => t.tag === "f45-latest-test")).toMatchObject({ builds: 3, packages: 2 });
  });

  it("queues a finished compose's ComposeRequest for the shadow repository's main branch", async () => {
    const finished = fixture("pungi.compose.status.change/000.json");
    expect(await ingestBusMessage(deps, { ok: true, envelope: finished })).toMatchObject({
      outcome: "accepted",
      reason: "compose Fedora-24-20151208.n.7 FINISHED: composes/f24/20151208.n.7.yaml queued for the shadow repository's main",
    });
    const [change] = (await events.shadow.changes()).filter((c) => c.messageId === finished.id);
    expect(change).toMatchObject({ kind: "compose", branch: "main", alias: null, path: "composes/f24/20151208.n.7.yaml" });
    expect(parseDocumentText(change?.content ?? "", change?.path)).toMatchObject({ ok: true, value: { kind: "ComposeRequest", spec: { composeId: "Fedora-24-20151208.n.7", type: "nightly" } } });
    expect(parseShadowCommitMessage(change?.message ?? "")).toMatchObject({ composeId: "Fedora-24-20151208.n.7", composeStatus: "FINISHED", problems: [] });
  });
});
