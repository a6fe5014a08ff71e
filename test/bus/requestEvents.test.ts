// relengd.request.* messages: their format, and the outbox rows each status change of a request
// writes in its own transaction (each (request, status) once), on both databases.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "amqplib";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signForgeBody } from "../../src/auth/forgeSignature.js";
import { TokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { amqpUrl, subscribe } from "../support/amqp.js";
import { RequestAnnouncer, requestEventKey } from "../../src/bus/requestEvents.js";
import { parseRequestMessage, renderRequestMessage, type RequestFacts } from "../../src/bus/requestMessage.js";
import { parseAmqp, renderAmqp, type Envelope } from "../../src/domain/envelope.js";
import { BusOutboxRepository } from "../../src/store/busOutboxRepository.js";
import { RequestRepository } from "../../src/store/requestRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { branchRequest } from "../support/requestApp.js";

const facts: RequestFacts = {
  id: "01JZ3F6Q2W8M4T9V5X7Y1B3C5D",
  status: "merged",
  repository: "gitops",
  branch: "requests/nethack-f44",
  revision: "0123456789abcdef0123456789abcdef01234567",
  kind: "BranchRequest",
  path: "distgit/branches/rpms/nethack/f44.yaml",
  documents: [{ path: "distgit/branches/rpms/nethack/f44.yaml", kind: "BranchRequest" }],
  author: "jdoe",
  verified: true,
  source: "git",
  reasons: ["approved by policy/branch-by-maintainer"],
  approvedBy: "policy/branch-by-maintainer",
  decidedBy: null,
  decisionReason: null,
  mergeCommit: "89abcdef0123456789abcdef0123456789abcdef",
  supersededBy: null,
  seenAt: new Date("2026-11-20T10:00:00Z"),
};

describe("request messages", () => {
  it("render as fedora-messaging envelopes and parse back, through AMQP", () => {
    const sent = new Date("2026-11-20T10:00:06Z");
    const merged = renderRequestMessage(facts, "merged", "7b2a2c1e-0c1f-4a53-9a36-3c4d5e6f7a8b", sent);
    expect(merged).toEqual({
      id: "7b2a2c1e-0c1f-4a53-9a36-3c4d5e6f7a8b",
      topic: "relengd.request.merged",
      headers: { "sent-at": "2026-11-20T10:00:06.000Z", fedora_messaging_schema: "relengd.request.v1", fedora_messaging_severity: 20, fedora_messaging_rpm_nethack: true, fedora_messaging_user_jdoe: true },
      body: {
        agent: "relengd",
        request: {
          id: facts.id,
          status: "merged",
          repository: "gitops",
          branch: "requests/nethack-f44",
          revision: facts.revision,
          kind: "BranchRequest",
          path: facts.path,
          documents: [{ path: facts.path, kind: "BranchRequest" }],
          author: "jdoe",
          verified: true,
          source: "git",
          seenAt: "2026-11-20T10:00:00.000Z",
          reasons: ["approved by policy/branch-by-maintainer"],
          mergeCommit: facts.mergeCommit,
        },
      },
    });
    const back = parseAmqp(renderAmqp(merged));
    expect(back.ok && parseRequestMessage(back.value)).toEqual({ ok: true, value: merged.body });
    // A status announced after the fact (proposed, with the verdict) carries none of the verdict's details.
    expect(renderRequestMessage(facts, "proposed", randomUUID(), sent).body).toEqual({ agent: "jdoe", request: expect.not.objectContaining({ reasons: expect.anything(), mergeCommit: expect.anything() }) });
    const denied = renderRequestMessage({ ...facts, status: "denied", verified: false, author: "Jane Doe", decidedBy: "user:alice", decisionReason: "not a release branch" }, "denied", randomUUID(), sent);
    expect(denied).toMatchObject({ headers: { fedora_messaging_severity: 30 }, body: { agent: "alice", request: { decidedBy: "user:alice", decisionReason: "not a release branch" } } });
    // An unverified author's claimed name is no user header.
    expect(Object.keys(denied.headers).filter((h) => h.startsWith("fedora_messaging_user_"))).toEqual([]);
  });

  it("refuse a message whose topic and status disagree, naming the field", () => {
    const m = renderRequestMessage(facts, "merged", randomUUID(), new Date());
    expect(parseRequestMessage({ ...m, topic: "relengd.request.approved" })).toEqual({ ok: false, issues: [{ path: "/topic", message: "must be relengd.request.merged for a merged request" }] });
    expect(parseRequestMessage({ ...m, body: { ...m.body, request: { ...(m.body.request as object), status: "lost" } } } as Envelope)).toMatchObject({ ok: false, issues: [{ path: "/body/request/status" }] });
  });
});

describe.each(testProviders)("request status changes in the outbox on %s", (provider) => {
  let db: TestDatabase;
  let requests: RequestRepository;
  let outbox: BusOutboxRepository;
  let woken = 0;
  let announcer: RequestAnnouncer;
  beforeAll(async () => {
    db = await freshDatabase(provider);
    announcer = new RequestAnnouncer({ added: () => woken++ });
    requests = new RequestRepository(db.db, announcer);
    outbox = new BusOutboxRepository(db.db);
  });
  afterAll(async () => db.dispose());

  const keysOf = async (id: string) => (await outbox.all()).filter((m) => m.key.startsWith(`request/${id}/`)).map((m) => m.key);

  it("announces each (request, status) once, in the transaction of the change", async () => {
    const first = await requests.record(branchRequest("nethack", "f44"));
    expect(await keysOf(first.record.id)).toEqual([requestEventKey(first.record.id, "proposed"), requestEventKey(first.record.id, "needs-review")]);
    // Recorded again (the poller and `request submit` saw the same commit): nothing new.
    await requests.record(branchRequest("nethack", "f44", { branch: first.record.branch, revision: first.record.revision }));
    expect(await keysOf(first.record.id)).toHaveLength(2);

    // The branch moved: the first is superseded by the second, both in one transaction.
    const second = await requests.record(branchRequest("nethack", "f44", { branch: first.record.branch, status: "approved", approvedBy: "policy/branch-by-maintainer" }));
    expect(await keysOf(first.record.id)).toEqual([requestEventKey(first.record.id, "proposed"), requestEventKey(first.record.id, "needs-review"), requestEventKey(first.record.id, "superseded")]);
    expect(await keysOf(second.record.id)).toEqual([requestEventKey(second.record.id, "proposed"), requestEventKey(second.record.id, "approved")]);
    expect(await requests.markMerged(second.record.id, "89abcdef0123456789abcdef0123456789abcdef")).toBe(true);
    expect(await requests.markMerged(second.record.id, "89abcdef0123456789abcdef0123456789abcdef")).toBe(false);
    expect((await keysOf(second.record.id)).at(-1)).toBe(requestEventKey(second.record.id, "merged"));
    const merged = (await outbox.all()).find((m) => m.key === requestEventKey(second.record.id, "merged"));
    expect(parseRequestMessage(JSON.parse(merged?.envelope ?? "{}") as Envelope)).toMatchObject({ ok: true, value: { request: { status: "merged", mergeCommit: "89abcdef0123456789abcdef0123456789abcdef" } } });

    const third = await requests.record(branchRequest("nethack", "f43"));
    await requests.decideByPerson(third.record.id, { approve: false, user: "alice", reason: "no" });
    const fourth = await requests.record(branchRequest("nethack", "f42"));
    await requests.withdraw(fourth.record.id);
    expect((await keysOf(third.record.id)).at(-1)).toBe(requestEventKey(third.record.id, "denied"));
    expect((await keysOf(fourth.record.id)).at(-1)).toBe(requestEventKey(fourth.record.id, "withdrawn"));
    const denied = (await outbox.all()).find((m) => m.key === requestEventKey(third.record.id, "denied"));
    expect(JSON.parse(denied?.envelope ?? "{}")).toMatchObject({ topic: "relengd.request.denied", body: { agent: "alice", request: { decidedBy: "user:alice", decisionReason: "no" } } });
    // Told after the commit, by whoever changed the status.
    const before = woken;
    announcer.committed();
    expect(woken).toBe(before + 1);
    announcer.committed();
    expect(woken).toBe(before + 1);
  });

  it("rolls the message back with a change that does not commit", async () => {
    const r = await requests.record(branchRequest("nethack", "f41"));
    const failing = new RequestRepository(db.db, {
      async changed(tx, changed, now) {
        await announcer.changed(tx, changed, now);
        throw new Error("the transaction fails after the message was written");
      },
    });
    await expect(failing.withdraw(r.record.id)).rejects.toThrow(/transaction fails/);
    expect((await requests.get(r.record.id))?.status).toBe("needs-review");
    expect(await keysOf(r.record.id)).not.toContain(requestEventKey(r.record.id, "withdrawn"));
  });

  it("leaves the release announcer's resume point alone: messages about requests announce no release", async () => {
    expect((await outbox.all()).length).toBeGreaterThan(0);
    expect(await outbox.lastAnnouncedReleaseSeq()).toBeNull();
  });
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const WEBHOOK_SECRET = "request-events-webhook-secret-0123456789";

describe.skipIf(!amqpUrl)("relengd.request.* on a real RabbitMQ", () => {
  const url = amqpUrl as string;
  const RUN = `${process.pid}-${randomBytes(4).toString("hex")}`;
  let dir: string;
  let server: RunningServer;
  let releaser: string;
  let subscriber: Awaited<ReturnType<typeof subscribe>>;
  let work: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-request-events-"));
    const secret = `request-events-secret-${RUN}-0123456789abcdef`;
    const config = loadConfig({
      RELENGD_DATA_DIR: dir,
      RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
      RELENGD_POLICIES_DIR: path.resolve("policies"),
      RELENGD_PORT: "0",
      RELENGD_TOKEN_SECRET: secret,
      RELENGD_AMQP_URL: url,
      RELENGD_REQUEST_POLL_MS: "200",
      RELENGD_FORGE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      // The consumer gets a queue of its own that nothing is published to.
      RELENGD_AMQP_QUEUE: `relengd-request-events-test-${RUN}`,
      RELENGD_AMQP_TOPICS: `relengd.test.nothing.${RUN.replace(/-/g, "_")}`,
    });
    subscriber = await subscribe(url, `relengd-request-watch-${RUN}`, "relengd.request.#");
    server = await startServer(config, pino({ level: "silent" }));
    releaser = (await new TokenService(secret).issue({ subject: "alice", role: "releaser", ttlSeconds: 600 })).token;
    work = path.join(dir, "work");
    execFileSync("git", ["clone", "--quiet", path.join(dir, "gitops.git"), work]);
    execFileSync("git", ["config", "user.name", "Jane Doe"], { cwd: work });
    execFileSync("git", ["config", "user.email", "jdoe@fedoraproject.org"], { cwd: work });
  }, 60_000);

  afterAll(async () => {
    await subscriber?.close();
    await server?.close();
    const c = await connect(url);
    await (await c.createChannel()).deleteQueue(`relengd-request-events-test-${RUN}`).catch(() => undefined);
    await c.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const g = (...args: string[]) => execFileSync("git", args, { cwd: work, encoding: "utf8" });
  /** A commit on a fresh branch off main adding one BranchRequest (unsigned: it waits for review), pushed. */
  function push(branch: string, release: string, note = ""): void {
    g("checkout", "--quiet", "-B", branch, "origin/main");
    const file = `distgit/branches/rpms/nethack/${release}.yaml`;
    mkdirSync(path.join(work, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(work, file), `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: ${release}\n  create_git_branch: true\n${note}`);
    g("add", "--", file);
    g("commit", "--quiet", "-m", `request ${file}`);
    g("push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`);
  }
  const about = (id: string) => subscriber.received.filter((m) => (m.body.request as { id?: string } | undefined)?.id === id).map((m) => m.topic);
  const ofBranch = (branch: string) => subscriber.received.filter((m) => (m.body.request as { branch?: string } | undefined)?.branch === branch);
  const decide = async (id: string, verb: "approve" | "deny") => {
    const res = await fetch(`${server.url}/api/v1/requests/${id}/${verb}`, { method: "POST", headers: { authorization: `Bearer ${releaser}`, "content-type": "application/json" }, body: JSON.stringify({ reason: `${verb} in a test` }) });
    expect(res.status, await res.text()).toBe(200);
  };

  it("a pushed request's lifecycle reaches the bus: proposed, needs-review, approved, merged; superseded, denied, withdrawn", async () => {
    push("requests/nethack-f44", "f44");
    await until("the request to be proposed and wait for review", () => ofBranch("requests/nethack-f44").some((m) => m.topic === "relengd.request.needs-review"));
    const first = ofBranch("requests/nethack-f44")[0];
    const id = (first?.body.request as { id: string }).id;
    expect(about(id)).toEqual(["relengd.request.proposed", "relengd.request.needs-review"]);
    await decide(id, "approve");
    await until("the merge to be announced", () => about(id).includes("relengd.request.merged"));
    expect(about(id)).toEqual(["relengd.request.proposed", "relengd.request.needs-review", "relengd.request.approved", "relengd.request.merged"]);
    const merged = subscriber.received.find((m) => m.topic === "relengd.request.merged");
    expect(parseRequestMessage(merged as Envelope)).toMatchObject({ ok: true, value: { request: { id, status: "merged", mergeCommit: expect.stringMatching(/^[0-9a-f]{40}$/) } } });
    const approved = subscriber.received.find((m) => m.topic === "relengd.request.approved");
    expect(approved?.body).toMatchObject({ agent: "alice", request: { decidedBy: "user:alice" } });

    // A branch that moves: its first request superseded; its second denied by a person.
    push("requests/nethack-f43", "f43");
    await until("the first revision to wait for review", () => ofBranch("requests/nethack-f43").some((m) => m.topic === "relengd.request.needs-review"));
    const before = (ofBranch("requests/nethack-f43")[0]?.body.request as { id: string }).id;
    push("requests/nethack-f43", "f43", "# moved\n");
    await until("the first revision to be superseded", () => about(before).includes("relengd.request.superseded"));
    const after = ofBranch("requests/nethack-f43").map((m) => (m.body.request as { id: string }).id).find((x) => x !== before) as string;
    await until("the second revision to wait for review", () => about(after).includes("relengd.request.needs-review"));
    await decide(after, "deny");
    await until("the denial", () => about(after).includes("relengd.request.denied"));

    // A branch deleted: its request withdrawn.
    push("requests/nethack-f42", "f42");
    await until("the third request to wait for review", () => ofBranch("requests/nethack-f42").some((m) => m.topic === "relengd.request.needs-review"));
    const gone = (ofBranch("requests/nethack-f42")[0]?.body.request as { id: string }).id;
    g("push", "--quiet", "origin", ":refs/heads/requests/nethack-f42");
    await until("the withdrawal", () => about(gone).includes("relengd.request.withdrawn"));

    // A server with RELENGD_FORGE_WEBHOOK_SECRET: a Forgejo push webhook makes the unsigned branch jdoe's, approved by policy.
    push("requests/nethack-epel10", "epel10");
    const sha = g("rev-parse", "HEAD").trim();
    const body = JSON.stringify({ ref: "refs/heads/requests/nethack-epel10", before: "0".repeat(40), after: sha, repository: { full_name: "releng/gitops", clone_url: path.join(dir, "gitops.git") }, pusher: { login: "jdoe", username: "jdoe" }, sender: { login: "jdoe" } });
    const hook = await fetch(`${server.url}/api/v1/forge/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-forgejo-event": "push", "x-forgejo-delivery": randomUUID(), "x-forgejo-signature": signForgeBody(WEBHOOK_SECRET, Buffer.from(body)) }, body });
    expect(hook.status, await hook.clone().text()).toBe(200);
    expect(await hook.json()).toMatchObject({ outcome: "recorded", account: "jdoe" });
    await until("the webhook's request to be merged", () => ofBranch("requests/nethack-epel10").some((m) => m.topic === "relengd.request.merged"));
    const byWebhook = ofBranch("requests/nethack-epel10").find((m) => m.topic === "relengd.request.merged");
    expect(byWebhook?.body).toMatchObject({ request: { author: "jdoe", verified: true } });
    expect(byWebhook?.headers).toMatchObject({ fedora_messaging_user_jdoe: true, fedora_messaging_rpm_nethack: true });

    // Every message parses, and each (request, status) came once.
    for (const m of subscriber.received) expect(parseRequestMessage(m)).toMatchObject({ ok: true });
    const pairs = subscriber.received.map((m) => `${(m.body.request as { id: string }).id} ${m.topic}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(new Set(subscriber.received.map((m) => m.topic))).toEqual(new Set(["proposed", "needs-review", "approved", "merged", "superseded", "denied", "withdrawn"].map((x) => `relengd.request.${x}`)));
    // Kept in the outbox, marked published once the broker confirmed.
    const rows = async () => (await new BusOutboxRepository(server.store).all()).filter((m) => m.key.startsWith("request/"));
    await until("the outbox to mark them published", async () => (await rows()).every((m) => m.publishedAt !== null));
    expect((await rows()).length).toBe(pairs.length);
  }, 120_000);
});
