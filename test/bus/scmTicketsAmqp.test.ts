// scm tickets through real RabbitMQ: published as pagure.io publishes them, consumed by the bus
// consumer, ingested, written into a real bare shadow repository, on both databases.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { BusConsumer } from "../../src/bus/consumer.js";
import type { AmqpDelivery } from "../../src/domain/envelope.js";
import { parseShadowCommitMessage } from "../../src/domain/commitMessages/shadow.js";
import { ingestBusDelivery, type BusDeps } from "../../src/flow/ingestBusMessage.js";
import { ShadowWriter } from "../../src/gitops/shadowWriter.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { amqpUrl, deleteQueue, openPublisher, TEST_RUN_HEADER, type Publisher } from "../support/amqp.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { git } from "../support/remote.js";
import { scmTicketFixtures, scmTicketMessage, shippedApproval } from "../support/scmTickets.js";

const RUN = `${process.pid}-${randomBytes(4).toString("hex")}`;
const quiet = pino({ level: "silent" });
const approval = shippedApproval();

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!amqpUrl)("scm tickets from RabbitMQ", () => {
  describe.each(testProviders)("on %s", (provider) => {
    const queue = `relengd-test-${RUN}-${provider}-scm`;
    const url = amqpUrl as string;
    let database: TestDatabase;
    let consumer: BusConsumer;
    let publisher: Publisher;
    let shadow: ShadowWriter;
    let dir: string;
    afterAll(async () => {
      await consumer?.stop();
      await publisher?.close();
      await shadow?.stop();
      await deleteQueue(url, queue).catch(() => undefined);
      await database?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("mirrors every fixture ticket published on io.pagure.prod.pagure.issue.*: filed, then Processed → merged into main", async () => {
      database = await freshDatabase(provider);
      const events = new BusEventRepository(database.db);
      dir = mkdtempSync(path.join(tmpdir(), "relengd-scm-amqp-"));
      const remote = path.join(dir, "shadow.git");
      execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
      shadow = new ShadowWriter({ changes: events.shadow, url: remote, workspaceDir: path.join(dir, "ws.git"), logger: quiet }, { pollMs: 200 });
      shadow.start();
      const deps: BusDeps = {
        artifacts: new ArtifactRepository(database.db),
        events,
        mapping: { rawhideVersion: 45 },
        onShadowChange: () => shadow.notify(),
        approval: () => ({ policies: approval.set.approvalPolicies, facts: approval.facts }),
      };
      let handled = 0;
      consumer = new BusConsumer({
        url,
        exchange: "amq.topic",
        queue,
        topics: ["io.pagure.prod.pagure.issue.new", "io.pagure.prod.pagure.issue.edit", "io.pagure.prod.pagure.issue.comment.added"],
        prefetch: 20,
        handle: async (d: AmqpDelivery) => {
          const headers = d.properties.headers as Record<string, unknown> | undefined;
          if (headers?.[TEST_RUN_HEADER] !== RUN) return;
          await ingestBusDelivery(deps, d);
          handled++;
        },
        logger: quiet,
        backoff: { initialMs: 50, maxMs: 200 },
        connectionName: queue,
      });
      consumer.start();
      await consumer.whenConnected();
      publisher = await openPublisher(url);
      const fixtures = scmTicketFixtures();
      for (const [i, f] of fixtures.entries()) {
        const t = { ticketId: 7000 + i, title: f.title, content: f.content, author: "jdoe" };
        publisher.publish(scmTicketMessage({ ...t, id: `${RUN}-new-${i}` }), { [TEST_RUN_HEADER]: RUN });
        publisher.publish(
          scmTicketMessage({ ...t, id: `${RUN}-done-${i}`, topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot" }),
          { [TEST_RUN_HEADER]: RUN },
        );
      }
      await publisher.confirmed();
      await until("every message handled", () => Promise.resolve(handled >= fixtures.length * 2));
      await until("the shadow commits written", async () => (await events.shadow.countQueued()) === 0);
      await shadow.idle();

      const merges = git(remote, "log", "--first-parent", "--format=%B%x1e", "main")
        .split("\x1e")
        .map((m) => parseShadowCommitMessage(m.replace(/^\n/, "")))
        .flatMap((i) => (i?.merge ? [i.merge] : []));
      for (const [i, f] of fixtures.entries()) {
        expect(merges, f.file).toContain(`mr/scm-${7000 + i}`);
        expect(await events.scmTickets.ticket(7000 + i), f.file).toMatchObject({ state: "merged", closeStatus: "Processed", agreement: { outcome: expect.stringMatching(/^(agreed|disagreed|undecidable)$/) } });
      }
    }, 180_000);
  });
});
