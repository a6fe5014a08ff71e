// Issue 17 T: the default bindings (DEFAULT_AMQP_TOPICS) on a real RabbitMQ: the new topics of
// issue 17 reach relengd's queue with their publishers' real prefixes, their neighbours do not,
// and what arrives goes through the real ingest.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusConsumer } from "../../src/bus/consumer.js";
import { DEFAULT_AMQP_TOPICS } from "../../src/config.js";
import type { AmqpDelivery, Envelope } from "../../src/domain/envelope.js";
import { ingestBusDelivery, type BusIngestResult } from "../../src/flow/ingestBusMessage.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { amqpUrl, deleteQueue, openPublisher, TEST_RUN_HEADER, type Publisher } from "../support/amqp.js";
import { freshDatabase, type TestDatabase } from "../support/database.js";

const RUN = `${process.pid}-${randomBytes(4).toString("hex")}`;
const quiet = pino({ level: "silent" });

/** The topics issue 17 adds, each with its publisher's production prefix (facts/topic-prefixes.json). */
const ISSUE_17_TOPICS = [
  "io.pagure.prod.pagure.issue.new",
  "io.pagure.prod.pagure.issue.edit",
  "io.pagure.prod.pagure.issue.comment.added",
  "org.fedoraproject.prod.pagure.git.branch.creation",
  "org.fedoraproject.prod.pagure.project.new",
  "org.fedoraproject.prod.fedocal.meeting.new",
  "org.fedoraproject.prod.fedocal.meeting.update",
  "org.fedoraproject.prod.fedocal.meeting.delete",
  "org.fedoraproject.prod.buildsys.package.list.change",
  "org.fedoraproject.prod.buildsys.repo.init",
  "org.fedoraproject.prod.buildsys.repo.done",
];

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the default bindings", () => {
  it("name every issue 17 topic with its publisher's production prefix", () => {
    for (const topic of ISSUE_17_TOPICS) expect(DEFAULT_AMQP_TOPICS).toContain(topic);
    // The publishers' deployed topic_prefix (fedora-infra/ansible, in the fixtures' facts).
    const { publishers } = JSON.parse(readFileSync(fileURLToPath(new URL("../fixtures/requests/facts/topic-prefixes.json", import.meta.url)), "utf8")) as { publishers: Record<string, { production: string }> };
    const publisherOf = (topic: string) => (topic.includes(".pagure.issue.") ? "pagure.io" : topic.includes(".pagure.") ? "src.fedoraproject.org" : topic.includes(".fedocal.") ? "fedocal" : "koji");
    for (const topic of ISSUE_17_TOPICS) expect(topic.startsWith(`${publishers[publisherOf(topic)]?.production ?? "?"}.`), topic).toBe(true);
    expect(DEFAULT_AMQP_TOPICS.filter((t) => /\.(stg|dev)\./.test(t))).toEqual([]);
    expect(new Set(DEFAULT_AMQP_TOPICS).size).toBe(DEFAULT_AMQP_TOPICS.length);
  });
});

describe.skipIf(!amqpUrl)("the default bindings on RabbitMQ", () => {
  const url = amqpUrl as string;
  const queue = `relengd-test-bindings-${RUN}`;
  let database: TestDatabase;
  let consumer: BusConsumer;
  let publisher: Publisher;
  const received: { topic: string; result: BusIngestResult }[] = [];

  const message = (topic: string, body: Record<string, unknown>): Envelope => ({ id: `${RUN}-${received.length}-${randomBytes(6).toString("hex")}`, topic, headers: { "sent-at": "2026-12-01T10:00:00+00:00" }, body });
  const branch = (topic: string) =>
    message(topic, { agent: "releng-bot", branch: "refs/heads/f44", rev: "3f1c3a0b1d0e2f4a5b6c7d8e9f00112233445566", repo: { namespace: "rpms", name: "nethack", fullname: "rpms/nethack", parent: null } });
  const meeting = (topic: string) =>
    message(topic, {
      agent: "jflory7",
      meeting: { meeting_id: 20001, meeting_name: "Fedora Council meeting", calendar_name: "council", meeting_date: "2026-12-10", meeting_date_end: "2026-12-10", meeting_time_start: "14:00:00", meeting_time_stop: "15:00:00", meeting_timezone: "UTC", meeting_manager: ["jflory7"], meeting_location: null, meeting_information: null, meeting_region: null },
    });

  beforeAll(async () => {
    database = await freshDatabase("sqlite");
    const events = new BusEventRepository(database.db);
    const deps = { artifacts: new ArtifactRepository(database.db), events, mapping: { rawhideVersion: 45 } };
    consumer = new BusConsumer({
      url,
      exchange: "amq.topic",
      queue,
      topics: DEFAULT_AMQP_TOPICS,
      prefetch: 1,
      // Only this run's messages: the broker may be shared with other runs publishing Fedora topics.
      handle: async (d: AmqpDelivery) => {
        const headers = d.properties.headers as Record<string, unknown> | undefined;
        if (headers?.[TEST_RUN_HEADER] !== RUN) return;
        received.push({ topic: d.routingKey, result: await ingestBusDelivery(deps, d) });
      },
      logger: quiet,
      backoff: { initialMs: 100, maxMs: 1000 },
      connectionName: queue,
    });
    consumer.start();
    await consumer.whenConnected();
    publisher = await openPublisher(url);
  });
  afterAll(async () => {
    await consumer?.stop();
    await publisher?.close();
    await deleteQueue(url, queue).catch(() => undefined);
    await database?.dispose();
  });

  it("route the new topics to relengd's queue and its neighbours nowhere", async () => {
    const header = { [TEST_RUN_HEADER]: RUN };
    // Neighbours first: one queue delivers in order, so once the last bound message is in,
    // any neighbour the broker had routed would be in too.
    for (const topic of [
      "io.pagure.stg.pagure.issue.new",
      "io.pagure.prod.pagure.git.branch.creation",
      "org.fedoraproject.stg.pagure.git.branch.creation",
      "org.fedoraproject.prod.fedocal.meeting.reminder",
      "org.fedoraproject.stg.fedocal.meeting.new",
      "org.fedoraproject.prod.fedocal.calendar.new",
      "org.fedoraproject.prod.buildsys.rpm.sign",
      "io.pagure.prod.pagure.project.new",
    ]) {
      publisher.publish(topic.includes("branch") ? branch(topic) : topic.includes("fedocal") ? meeting(topic) : message(topic, {}), header);
    }
    const bound = ISSUE_17_TOPICS.map((topic) =>
      topic.endsWith("branch.creation")
        ? branch(topic)
        : topic.endsWith("project.new")
          ? message(topic, { agent: "releng-bot", project: { namespace: "rpms", name: "nethack", fullname: "rpms/nethack", parent: null } })
          : topic.includes(".fedocal.")
          ? meeting(topic)
          : topic.includes(".buildsys.")
            ? message(topic, { instance: "primary", tag: "f44-build-side-123456", tag_id: 123456, package: "nethack", action: "add", owner: "pingou" })
            : message(topic, { project: { fullname: "releng/fedora-scm-requests" } }),
    );
    for (const m of bound) publisher.publish(m, header);
    await publisher.confirmed();
    await until("the bound messages to arrive", () => received.length >= bound.length);
    await consumer.idle();
    expect(received.map((r) => r.topic)).toEqual(ISSUE_17_TOPICS);
    const outcome = (topic: string) => received.find((r) => r.topic === topic)?.result;
    expect(outcome("org.fedoraproject.prod.pagure.git.branch.creation")).toMatchObject({ outcome: "accepted" });
    expect(outcome("org.fedoraproject.prod.pagure.project.new")).toMatchObject({ outcome: "accepted" });
    expect(outcome("org.fedoraproject.prod.fedocal.meeting.new")).toMatchObject({ outcome: "accepted" });
    expect(outcome("org.fedoraproject.prod.fedocal.meeting.delete")).toMatchObject({ outcome: "accepted" });
    for (const t of ["package.list.change", "repo.init", "repo.done"]) {
      expect(outcome(`org.fedoraproject.prod.buildsys.${t}`)?.reason).toMatch(/side tag f44-build-side-123456 of f44-build/);
    }
  });
});
