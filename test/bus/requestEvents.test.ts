// relengd.request.* messages: their format, and the outbox rows each status change of a request
// writes in its own transaction (each (request, status) once), on both databases.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
