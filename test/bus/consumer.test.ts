import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "amqplib";
import pino from "pino";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusConsumer } from "../../src/bus/consumer.js";
import { mapEnvelope, type BusEffect } from "../../src/domain/busMapping.js";
import { parseEnvelope, type AmqpDelivery, type Envelope } from "../../src/domain/envelope.js";
import { ingestBusDelivery, type BusDeps } from "../../src/flow/ingestBusMessage.js";
import { parseShadowCommitMessage, type ShadowCommitInfo } from "../../src/domain/commitMessages/shadow.js";
import { ShadowWriter } from "../../src/gitops/shadowWriter.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { amqpUrl, closeConnectionsNamed, deleteQueue, openPublisher, rabbitmqctlWorks, TEST_RUN_HEADER, type Publisher } from "../support/amqp.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { countRows } from "../support/rows.js";
import { buildCompleteMessage, ciTestMessage, fixtureMessages } from "../support/fedoraMessages.js";
import { git } from "../support/remote.js";

const RUN = `${process.pid}-${randomBytes(4).toString("hex")}`;
const quiet = pino({ level: "silent" });

function envelopeOf(json: unknown): Envelope {
  const parsed = parseEnvelope(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Only this run's messages reach the real handler; anything else on a shared broker is acked and counted apart. */
function onlyThisRun(handle: (d: AmqpDelivery) => Promise<unknown>, foreign: { count: number }) {
  return async (delivery: AmqpDelivery) => {
    const headers = delivery.properties.headers as Record<string, unknown> | undefined;
    if (headers?.[TEST_RUN_HEADER] !== RUN) {
      foreign.count++;
      return;
    }
    await handle(delivery);
  };
}

interface Harness {
  t: TestApp;
  deps: BusDeps;
  events: BusEventRepository;
  artifacts: ArtifactRepository;
  /** The shadow repository (a bare remote in a temp dir) and its writer, told by the ingest. */
  shadowRemote: string;
  shadow: ShadowWriter;
  /** Resolves once every queued shadow commit is written. */
  shadowWritten(): Promise<void>;
  close(): Promise<void>;
}

async function harness(provider: (typeof testProviders)[number]): Promise<Harness> {
  const t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
  const artifacts = new ArtifactRepository(t.database.db);
  const events = new BusEventRepository(t.database.db);
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-bus-shadow-"));
  const shadowRemote = path.join(dir, "shadow.git");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", shadowRemote]);
  const shadow = new ShadowWriter({ changes: events.shadow, url: shadowRemote, workspaceDir: path.join(dir, "ws.git"), logger: quiet }, { pollMs: 200 });
  shadow.start();
  return {
    t,
    artifacts,
    events,
    shadowRemote,
    shadow,
    deps: { artifacts, events, mapping: { rawhideVersion: 45 }, count: t.app.metrics.countBusMessage, onShadowChange: () => shadow.notify() },
    shadowWritten: () => until("the shadow commits to be written", async () => (await events.shadow.countQueued()) === 0, 120_000).then(() => shadow.idle()),
    async close() {
      await shadow.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shadow commits of `range` in a bare remote, newest first. */
function shadowCommits(remote: string, ...range: string[]): { sha: string; parents: string[]; info: ShadowCommitInfo }[] {
  return git(remote, "log", "--format=%H%x1f%P%x1f%B%x1e", ...range)
    .split("\x1e")
    .map((r) => r.replace(/^\n/, ""))
    .filter(Boolean)
    .flatMap((r) => {
      const [sha = "", parents = "", message = ""] = r.split("\x1f");
      const info = parseShadowCommitMessage(message);
      return info ? [{ sha, parents: parents.split(" ").filter(Boolean), info }] : [];
    });
}

describe("the bus consumer without a broker", () => {
  it("keeps retrying with backoff, never handles anything, and stops at once", async () => {
    const handled: AmqpDelivery[] = [];
    // Port 1 refuses connections on any machine the tests run on.
    const consumer = new BusConsumer({
      url: "amqp://guest:guest@127.0.0.1:1",
      exchange: "amq.topic",
      queue: "relengd-never",
      topics: ["#"],
      prefetch: 1,
      handle: async (d) => handled.push(d),
      logger: quiet,
      backoff: { initialMs: 10, maxMs: 40 },
    });
    consumer.start();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(consumer.stats).toMatchObject({ connects: 0, acked: 0 });
    expect(handled).toEqual([]);
  });
});

describe.skipIf(!amqpUrl)("the bus consumer against RabbitMQ", () => {
  const url = amqpUrl as string;

  describe.each(testProviders)("every fixture message through amq.topic on %s", (provider) => {
    const queue = `relengd-test-${RUN}-${provider}`;
    let h: Harness;
    let consumer: BusConsumer;
    let publisher: Publisher;
    const foreign = { count: 0 };
    const fixtures = fixtureMessages().map((f) => ({ file: f.file, envelope: envelopeOf(f.json) }));
    const runHeader = { [TEST_RUN_HEADER]: RUN };

    // Made-up messages beside the recorded ones: the build the recorded nmstate CI result is
    // about (published after it), a Fedora CI result about the recorded ansible build, and
    // broken ones.
    const nmstateBuild = buildCompleteMessage({ id: "test-nmstate-build", buildId: 1_100_000, name: "nmstate", version: "0.0.5", release: "2.fc28" });
    const ansibleResult = ciTestMessage({ id: "test-ansible-tier0", nvr: "ansible-1.8.3-1.el7" });
    const noBuildId = buildCompleteMessage({ id: "test-no-build-id", buildId: 1, name: "bash", version: "5.2", release: "1.fc41" });
    delete noBuildId.body.build_id;
    const noNamespace = ciTestMessage({ id: "test-no-namespace", nvr: "ansible-1.8.3-1.el7" });
    delete (noNamespace.body.test as Record<string, unknown>).namespace;
    const republished = fixtures.filter((_, i) => i % 25 === 0);
    const routingKeys = [...new Set([...fixtures.map((f) => f.envelope.topic), nmstateBuild.topic, ansibleResult.topic])];

    beforeAll(async () => {
      h = await harness(provider);
      consumer = new BusConsumer({
        url,
        exchange: "amq.topic",
        queue,
        topics: routingKeys,
        prefetch: 50,
        handle: onlyThisRun((d) => ingestBusDelivery(h.deps, d), foreign),
        logger: quiet,
        backoff: { initialMs: 100, maxMs: 1000 },
        connectionName: queue,
      });
      consumer.start();
      // The queue and its bindings exist before anything is published.
      await consumer.whenConnected();
      publisher = await openPublisher(url);
      for (const f of fixtures) publisher.publish(f.envelope, runHeader);
      publisher.publish(nmstateBuild, runHeader);
      publisher.publish(ansibleResult, runHeader);
      publisher.publish(noBuildId, runHeader);
      publisher.publish(noNamespace, runHeader);
      publisher.publishRaw("org.fedoraproject.prod.buildsys.build.state.change", Buffer.from('{"build_id": 7, "name": "ba'), {
        messageId: "test-malformed-json",
        contentType: "application/json",
        headers: runHeader,
      });
      publisher.publishRaw("org.fedoraproject.prod.buildsys.tag", Buffer.from(JSON.stringify({ tag: "f45", name: "bash" })), { contentType: "application/json", headers: runHeader });
      for (const f of republished) publisher.publish(f.envelope, runHeader);
      await publisher.confirmed();
      const published = fixtures.length + 6 + republished.length;
      await until("every message to be handled", async () => consumer.stats.acked - foreign.count >= published);
      await consumer.idle();
    });

    afterAll(async () => {
      await consumer?.stop();
      await publisher?.close();
      await deleteQueue(url, queue).catch(() => undefined);
      await h?.close();
    });

    // Every fixture maps to an effect the store takes (none is refused by state it meets).
    const expectedStatus = (effect: BusEffect) => (effect.kind === "ignored" || effect.kind === "rejected" ? effect.kind : "accepted");

    it("records each message once, with the status its mapping gives (the early CI result settled by its build)", async () => {
      const expected: Record<string, number> = { accepted: 2, rejected: 4 };
      for (const f of fixtures) {
        const status = expectedStatus(mapEnvelope(f.envelope, h.deps.mapping));
        expected[status] = (expected[status] ?? 0) + 1;
      }
      expect(await h.events.countByStatus()).toEqual(expected);
      // buildsys.package.list.change/000 is about side tag f31-build-side-20267: observed (issue 17).
      expect(expected).toEqual({ accepted: 24, ignored: 104, rejected: 4 });
      // WaiverDB's waiver of a build is kept for the build, whether or not an artifact carries it yet.
      const waiver = fixtures.find((f) => f.file === "waiverdb.waiver.new/000.json");
      expect(await h.events.find(waiver?.envelope.id ?? "")).toMatchObject({
        status: "accepted",
        nvr: "dummy-test-package-gloster-0-548.fc33",
        reason: expect.stringContaining("waiver of fedora-ci.koji-build.tier0.functional for dummy-test-package-gloster-0-548.fc33 recorded (waived by ralph: This is fine.)"),
      });
      for (const f of fixtures) {
        const event = await h.events.find(f.envelope.id);
        expect(event, f.file).toMatchObject({ status: expectedStatus(mapEnvelope(f.envelope, h.deps.mapping)), parsed: true });
      }
    });

    it("keeps the envelope as it came off the bus: topic, id, headers (with the test run's) and body", async () => {
      for (const f of fixtures) {
        const res = await h.t.app.inject({ method: "GET", url: `/api/v1/events/${encodeURIComponent(f.envelope.id)}`, headers: await h.t.auth("reader") });
        expect(res.json().envelope, f.file).toEqual({ ...f.envelope, headers: { ...f.envelope.headers, ...runHeader } });
      }
    });

    it("counts the republished messages as duplicates, applied once", async () => {
      for (const f of republished) expect(await h.events.find(f.envelope.id), f.file).toMatchObject({ deliveries: 2 });
      const duplicates = await h.events.list({ status: "duplicate", limit: 200 });
      expect(duplicates.items.map((e) => e.messageId).sort()).toEqual(republished.map((f) => f.envelope.id).sort());
    });

    it("stores the mirrored builds with the CI results appended to them", async () => {
      const reader = await h.t.auth("reader");
      const list = await h.t.app.inject({ method: "GET", url: "/api/v1/artifacts?event=mirror", headers: reader });
      expect(list.json().items.map((a: { id: string }) => a.id).sort()).toEqual(["koji-build-1100000", "koji-build-612324"]);
      const ansible = (await h.t.app.inject({ method: "GET", url: "/api/v1/artifacts/koji-build-612324", headers: reader })).json();
      expect(ansible).toMatchObject({ package: "ansible", release: "epel7", items: [{ kind: "koji-build", nvr: "ansible-1.8.3-1.el7", buildId: 612324, owner: "kevin" }] });
      expect(ansible.results).toMatchObject([{ testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED" }]);
      const nmstate = (await h.t.app.inject({ method: "GET", url: "/api/v1/artifacts/koji-build-1100000", headers: reader })).json();
      expect(nmstate.results).toMatchObject([{ testcase: "org.centos.prod.ci.pipeline.allpackages-build.package.test.functional.complete", outcome: "PASSED" }]);
      const early = await h.events.find("2019-9762bda3-5c5b-4890-9f44-94c134b5b67e");
      expect(early).toMatchObject({ status: "accepted", artifactId: "koji-build-1100000", reason: expect.stringContaining("waited since") });
    });

    it("rejects malformed JSON, a delivery without id and missing fields, naming what failed", async () => {
      const res = await h.t.app.inject({ method: "GET", url: "/api/v1/events?status=rejected", headers: await h.t.auth("reader") });
      const reasons = Object.fromEntries(res.json().items.map((e: { messageId: string; reason: string }) => [e.messageId, e.reason]));
      expect(reasons["test-malformed-json"]).toMatch(/^\/content is not JSON/);
      expect(reasons["test-no-build-id"]).toMatch(/^\/body\/build_id /);
      expect(reasons["test-no-namespace"]).toMatch(/^\/body\/test\/namespace /);
      const anonymous = Object.entries(reasons).find(([id]) => id.startsWith("sha256:"));
      expect(anonymous?.[1]).toMatch(/^\/properties\/messageId /);
      expect(res.json().items.find((e: { messageId: string }) => e.messageId === "test-malformed-json")).toMatchObject({ raw: '{"build_id": 7, "name": "ba' });
    });

    it("counts every delivery at /metrics by topic and outcome", async () => {
      const metrics = (await h.t.app.inject({ method: "GET", url: "/metrics" })).body;
      const value = (topic: string, outcome: string) => {
        const m = new RegExp(`^relengd_bus_messages_total\\{topic="${topic.replace(/\./g, "\\.")}",outcome="${outcome}"\\} (\\d+)$`, "m").exec(metrics);
        return m ? Number(m[1]) : 0;
      };
      const total = [...metrics.matchAll(/^relengd_bus_messages_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(total).toBe(fixtures.length + 6 + republished.length);
      expect(value("buildsys.build.state.change", "accepted")).toBe(2);
      expect(value("buildsys.build.state.change", "rejected")).toBe(2);
      expect(value("buildsys.build.state.change", "ignored")).toBe(3);
      // Counted when consumed: the result was waiting then (the event log says accepted now).
      expect(value("ci.pipeline.allpackages-build.package.test.functional.complete", "waiting")).toBe(1);
      expect(value("bodhi.update.request.testing", "accepted")).toBe(2);
      expect(value("bodhi.update.request.testing", "ignored")).toBe(1);
      expect(value("buildsys.tag", "accepted")).toBe(1);
      expect(value("pungi.compose.status.change", "accepted")).toBe(1);
      expect([...metrics.matchAll(/outcome="duplicate"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)).toBe(republished.length);
    });

    const bodhiChanges = () =>
      fixtures.flatMap((f) => {
        const effect = mapEnvelope(f.envelope, h.deps.mapping);
        return effect.kind === "bodhiUpdate" ? [{ file: f.file, id: f.envelope.id, update: effect.update }] : [];
      });

    it("mirrors every Bodhi update as a branch mr/<alias>, one commit per message, none twice", async () => {
      await h.shadowWritten();
      const remote = h.shadowRemote;
      const aliases = [...new Set(bodhiChanges().map((c) => c.update.alias))].sort();
      expect(aliases).toHaveLength(11);
      const branches = git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim().split("\n").sort();
      expect(branches).toEqual(["main", ...aliases.map((a) => `mr/${a}`)].sort());
      // Every message's commit is on its branch exactly once; merges on main carry the id too, apart.
      const everywhere = shadowCommits(remote, "--all");
      for (const c of bodhiChanges()) {
        expect(shadowCommits(remote, `mr/${c.update.alias}`).filter((s) => s.info.messageId === c.id && !s.info.merge), c.file).toHaveLength(1);
        expect(everywhere.filter((s) => s.info.messageId === c.id && !s.info.merge), c.file).toHaveLength(1);
      }
      const changes = await h.events.shadow.changes();
      expect(changes.every((c) => c.status === "written")).toBe(true);
      expect(changes.map((c) => c.messageId).sort()).toEqual([...bodhiChanges().map((c) => c.id), ...fixtures.filter((f) => f.file.startsWith("pungi.compose.status.change/000")).map((f) => f.envelope.id)].sort());
    });

    it("merges the update that went stable into main with a two-parent merge commit, and keeps its document there", async () => {
      await h.shadowWritten();
      const remote = h.shadowRemote;
      const stable = bodhiChanges().find((c) => c.file === "bodhi.update.complete.stable/000.json");
      const main = shadowCommits(remote, "--first-parent", "main");
      const merges = main.filter((c) => c.info.merge);
      expect(merges.map((m) => m.info)).toMatchObject([{ merge: "mr/FEDORA-2019-d64d0caab3", alias: "FEDORA-2019-d64d0caab3", messageId: stable?.id }]);
      const [merge] = merges;
      expect(merge?.parents).toHaveLength(2);
      // The second parent is the branch's commit of that same message, still in the branch's history.
      expect(shadowCommits(remote, "-1", merge?.parents[1] as string)[0]?.info).toMatchObject({ messageId: stable?.id, subject: expect.stringContaining("pushed to stable") });
      git(remote, "merge-base", "--is-ancestor", merge?.parents[1] as string, "mr/FEDORA-2019-d64d0caab3");
      const merged = parse(git(remote, "show", "main:bodhi/F29/golang-github-SAP-go-hdb.yaml"));
      expect(merged).toMatchObject({ kind: "BodhiUpdate", spec: { release: "F29", builds: ["golang-github-SAP-go-hdb-0.14.1-1.fc29", "texworks-0.6.3-1.fc29"], request: "stable", alias: "FEDORA-2019-d64d0caab3" } });
      // Bodhi 1-era updates of several builds had no side tag: the commit says relengd/v1 cannot express it.
      expect(merge?.parents[1] && shadowCommits(remote, "-1", merge.parents[1])[0]?.info.problems).toContainEqual(expect.stringMatching(/^\/spec\/from_tag /));
      // The finished compose is on main too; the updates never merged are not.
      expect(parse(git(remote, "show", "main:composes/f24/20151208.n.7.yaml"))).toMatchObject({ kind: "ComposeRequest", spec: { composeId: "Fedora-24-20151208.n.7" } });
      expect(git(remote, "ls-tree", "-r", "--name-only", "main").trim().split("\n").sort()).toEqual(["README.md", "bodhi/F29/golang-github-SAP-go-hdb.yaml", "composes/f24/20151208.n.7.yaml"]);
    });

    it("closes the unpushed update's merge request (branch kept, closure in a trailer and in the store), and reopens one asked for again", async () => {
      await h.shadowWritten();
      const remote = h.shadowRemote;
      expect(shadowCommits(remote, "-1", "mr/FEDORA-2019-8da6360454")[0]?.info).toMatchObject({ closed: "unpush", alias: "FEDORA-2019-8da6360454" });
      expect(await h.events.shadow.update("FEDORA-2019-8da6360454")).toMatchObject({ state: "closed", closedReason: "unpush" });
      // FEDORA-2019-d64d0caab3 in the corpus's order: stable, testing, obsoleted, revoked, then stable requested.
      const d64 = shadowCommits(remote, "main..mr/FEDORA-2019-d64d0caab3").map((c) => c.info);
      expect(d64.map((i) => i.closed ?? null)).toEqual([null, "revoke", "obsolete", null]);
      expect(await h.events.shadow.update("FEDORA-2019-d64d0caab3")).toMatchObject({ state: "open", closedReason: null, spec: { request: "stable" } });
      const states = Object.fromEntries((await h.events.shadow.updates()).map((u) => [u.alias, u.state]));
      expect(Object.values(states).filter((s) => s === "open")).toHaveLength(10);
    });

    it("keeps the Koji tag state the primary Koji's tag messages tell", async () => {
      expect(await h.events.kojiTags.observed("f31-updates-pending")).toMatchObject([{ package: "http-parser", nvr: "http-parser-2.9.3-1.fc31", buildId: 1457909, latest: true }]);
      expect(await h.events.kojiTags.find("f16-updates-pending", "globus-gram-job-manager-sge-1.5-2.fc16")).toMatchObject({ tagged: false });
      // The s390 Koji's tag is not Fedora's primary one.
      expect((await h.events.kojiTags.tags()).map((t) => t.tag)).toEqual(["f31-updates-pending"]);
      const res = await h.t.app.inject({ method: "GET", url: "/api/v1/koji-tags/f31-updates-pending/observed", headers: await h.t.auth("reader") });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ tag: "f31-updates-pending", builds: [{ nvr: "http-parser-2.9.3-1.fc31", latest: true }] });
    });
  });

  describe.each(testProviders)("a poisoned message among ordinary ones on %s", (provider) => {
    const queue = `relengd-test-${RUN}-${provider}-poisoned`;
    let h: Harness;
    let consumer: BusConsumer;
    let publisher: Publisher;
    const foreign = { count: 0 };
    afterAll(async () => {
      await consumer?.stop();
      await publisher?.close();
      await deleteQueue(url, queue).catch(() => undefined);
      await h?.close();
    });

    it("records a message nested 20,000 deep as rejected and acks it; the five after it are applied", async () => {
      h = await harness(provider);
      const topic = "org.fedoraproject.prod.buildsys.build.state.change";
      consumer = new BusConsumer({
        url,
        exchange: "amq.topic",
        queue,
        topics: [topic],
        prefetch: 50,
        handle: onlyThisRun((d) => ingestBusDelivery(h.deps, d), foreign),
        logger: quiet,
        backoff: { initialMs: 50, maxMs: 200 },
        connectionName: queue,
      });
      consumer.start();
      await consumer.whenConnected();
      publisher = await openPublisher(url);
      const runHeader = { [TEST_RUN_HEADER]: RUN };
      const ordinary = (i: number) => buildCompleteMessage({ id: `${RUN}-ordinary-${i}`, buildId: 7_000_000 + i, name: `ordinary${i}`, version: "1.0", release: "1.fc45" });
      const poisonedId = `${RUN}-poisoned`;
      publisher.publish(ordinary(0), runHeader);
      // 40 KB: far below the bus's size limit, far beyond any stack.
      const deep = `{"build_id": 1, "nested": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
      publisher.publishRaw(topic, Buffer.from(deep), { messageId: poisonedId, contentType: "application/json", headers: runHeader });
      for (let i = 1; i <= 5; i++) publisher.publish(ordinary(i), runHeader);
      await publisher.confirmed();

      await until("all seven messages to be handled", async () => consumer.stats.acked - foreign.count >= 7);
      await consumer.idle();
      expect(consumer.stats.failures).toBe(0);
      expect(consumer.stats.acked - foreign.count).toBe(7);
      expect(await h.events.countByStatus()).toEqual({ accepted: 6, rejected: 1 });
      const poisoned = await h.events.find(poisonedId);
      expect(poisoned).toMatchObject({ status: "rejected", deliveries: 1, parsed: false });
      expect(poisoned?.reason).toMatch(/^\/content\/nested(\/0){127} nests deeper than 128 levels/);
      for (let i = 0; i <= 5; i++) expect(await h.events.find(`${RUN}-ordinary-${i}`)).toMatchObject({ status: "accepted", deliveries: 1 });
      // Nothing left in the queue, nothing waiting to be redelivered.
      await consumer.stop();
      const conn = await connect(url);
      try {
        const ch = await conn.createChannel();
        expect((await ch.checkQueue(queue)).messageCount).toBe(0);
        await ch.close();
      } finally {
        await conn.close();
      }
    }, 120_000);
  });

  describe.each(testProviders)("a server-side close mid-stream on %s", (provider) => {
    const queue = `relengd-test-${RUN}-${provider}-reconnect`;
    const canClose = amqpUrl ? rabbitmqctlWorks() : false;
    let h: Harness;
    let consumer: BusConsumer;
    let publisher: Publisher;
    const foreign = { count: 0 };

    beforeAll(async () => {
      h = await harness(provider);
    });
    afterAll(async () => {
      await consumer?.stop();
      await publisher?.close();
      await deleteQueue(url, queue).catch(() => undefined);
      await h?.close();
    });

    it("does not ack a message whose effect the store could not make durable: it comes again and is applied once", async () => {
      const failingQueue = `${queue}-store-failure`;
      let failuresLeft = 2;
      const own = await harness(provider);
      const flaky = new BusConsumer({
        url,
        exchange: "amq.topic",
        queue: failingQueue,
        topics: ["org.fedoraproject.prod.buildsys.build.state.change"],
        prefetch: 10,
        handle: onlyThisRun(async (d) => {
          if (d.properties.messageId === `${RUN}-flaky` && failuresLeft-- > 0) throw new Error("database is down");
          return ingestBusDelivery(own.deps, d);
        }, foreign),
        logger: quiet,
        backoff: { initialMs: 50, maxMs: 200 },
        connectionName: failingQueue,
      });
      const pub = await openPublisher(url);
      try {
        flaky.start();
        await flaky.whenConnected();
        const message = buildCompleteMessage({ id: `${RUN}-flaky`, buildId: 6_000_001, name: "flaky", version: "1", release: "1.fc45" });
        pub.publish(message, { [TEST_RUN_HEADER]: RUN });
        await pub.confirmed();
        await until("the message to be recorded", async () => (await own.events.find(message.id)) !== null);
        await flaky.idle();
        expect(flaky.stats.failures).toBe(2);
        expect(flaky.stats.connects).toBeGreaterThanOrEqual(3);
        expect(await own.events.find(message.id)).toMatchObject({ status: "accepted", deliveries: 1, artifactId: "koji-build-6000001" });
      } finally {
        await flaky.stop();
        await pub.close();
        await own.close();
        await deleteQueue(url, failingQueue).catch(() => undefined);
      }
    });

    it.skipIf(!canClose)("reconnects and completes the stream with nothing lost and nothing applied twice (rabbitmqctl close_connection)", async () => {
      const builds = 150;
      const aliasOf = (i: number) => `FEDORA-2026-${i.toString(16).padStart(10, "0")}`;
      consumer = new BusConsumer({
        url,
        exchange: "amq.topic",
        queue,
        topics: [
          "org.fedoraproject.prod.buildsys.build.state.change",
          "org.centos.prod.ci.koji-build.test.complete",
          "org.fedoraproject.prod.bodhi.update.request.testing",
          "org.fedoraproject.prod.buildsys.tag",
        ],
        prefetch: 50,
        // A little slower than the store alone, so that the close lands with messages in flight.
        handle: onlyThisRun(async (d) => {
          await new Promise((r) => setTimeout(r, 5));
          return ingestBusDelivery(h.deps, d);
        }, foreign),
        logger: quiet,
        backoff: { initialMs: 100, maxMs: 1000 },
        connectionName: queue,
      });
      consumer.start();
      await consumer.whenConnected();
      publisher = await openPublisher(url);
      const ids: string[] = [];
      const publishPair = (i: number) => {
        const nvrRelease = `${i}.fc45`;
        const build = buildCompleteMessage({ id: `${RUN}-build-${i}`, buildId: 5_000_000 + i, name: `pkg${i}`, version: "1.0", release: nvrRelease });
        const result = ciTestMessage({ id: `${RUN}-result-${i}`, nvr: `pkg${i}-1.0-${nvrRelease}` });
        publisher.publish(build, { [TEST_RUN_HEADER]: RUN });
        publisher.publish(result, { [TEST_RUN_HEADER]: RUN });
        ids.push(build.id, result.id);
        // Every fifth build is also tagged, and goes to testing in an update of its own.
        if (i % 5 !== 0) return;
        const tagged: Envelope = { id: `${RUN}-tag-${i}`, topic: "org.fedoraproject.prod.buildsys.tag", headers: {}, body: { tag: "f45-updates-candidate", name: `pkg${i}`, version: "1.0", release: nvrRelease, build_id: 5_000_000 + i, instance: "primary" } };
        const update: Envelope = {
          id: `${RUN}-update-${i}`,
          topic: "org.fedoraproject.prod.bodhi.update.request.testing",
          headers: {},
          body: { update: { alias: aliasOf(i), release: { name: "F45" }, builds: [{ nvr: `pkg${i}-1.0-${nvrRelease}` }], request: "testing" } },
        };
        publisher.publish(tagged, { [TEST_RUN_HEADER]: RUN });
        publisher.publish(update, { [TEST_RUN_HEADER]: RUN });
        ids.push(tagged.id, update.id);
      };
      for (let i = 0; i < builds / 2; i++) publishPair(i);
      await publisher.confirmed();

      await until("the stream to be under way", async () => consumer.stats.acked >= 30);
      const ackedAtClose = consumer.stats.acked;
      expect(closeConnectionsNamed(queue)).toBe(1);
      // Published while the consumer is cut off: the durable queue keeps them.
      for (let i = builds / 2; i < builds; i++) publishPair(i);
      await publisher.confirmed();

      await until("every message to be recorded", async () => (await countRows(h.t.database.db, "BusEvent")) >= ids.length, 60_000);
      await consumer.idle();
      expect(ackedAtClose).toBeLessThan(ids.length);
      expect(consumer.stats.disconnects).toBeGreaterThanOrEqual(1);
      expect(consumer.stats.connects).toBeGreaterThanOrEqual(2);

      // Nothing lost: every message recorded once, all applied.
      const rows = await h.t.database.db.read((tx) => tx.selectFrom("BusEvent").select(["messageId", "status", "deliveries"]).execute());
      expect(rows.map((r) => r.messageId).sort()).toEqual([...ids].sort());
      expect(rows.filter((r) => r.status !== "accepted")).toEqual([]);
      // Nothing applied twice: one artifact per build, one result on each.
      expect(await countRows(h.t.database.db, "Artifact")).toBe(builds);
      const results = await h.t.database.db.read((tx) =>
        tx
          .selectFrom("ArtifactResult")
          .select((e) => ["artifactId", e.fn.countAll<number>().as("n")])
          .groupBy("artifactId")
          .execute(),
      );
      expect(results).toHaveLength(builds);
      expect(results.every((r) => r.n === 1)).toBe(true);
      // A message in flight when the connection went is delivered again and counted as a duplicate.
      const redelivered = rows.reduce((sum, r) => sum + r.deliveries - 1, 0);
      const metrics = (await h.t.app.inject({ method: "GET", url: "/metrics" })).body;
      const duplicates = [...metrics.matchAll(/outcome="duplicate"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(duplicates).toBe(redelivered);
      // The tags and updates too: each observed once, each update's commit queued once and written once.
      const tagged = await h.events.kojiTags.observed("f45-updates-candidate");
      expect(tagged).toHaveLength(builds / 5);
      const changes = await h.events.shadow.changes();
      expect(changes).toHaveLength(builds / 5);
      expect((await h.events.shadow.updates()).every((u) => u.version === 0)).toBe(true);
      await h.shadowWritten();
      for (let i = 0; i < builds; i += 5) expect(shadowCommits(h.shadowRemote, `main..mr/${aliasOf(i)}`).map((c) => c.info.messageId)).toEqual([`${RUN}-update-${i}`]);
    }, 120_000);
  });
});
