import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BodhiUpdateSpec } from "../../src/domain/busMapping.js";
import { ConcurrentShadowChange, ShadowChangeNotFound, ShadowRepository, type NewShadowChange, type ShadowUpdateRecord } from "../../src/store/shadowRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;
const at = (minute: number) => new Date(Date.UTC(2026, 1, 1, 0, minute));
// Stored as JSON and read back whole: the store does not look inside.
const spec = (builds: string[]) => ({ release: "F45", builds, summary: "an update" }) as unknown as BodhiUpdateSpec;

function next(alias: string, fields: Partial<ShadowUpdateRecord> = {}) {
  return {
    alias,
    release: "F45",
    path: `updates/${alias}.yaml`,
    state: "open" as const,
    spec: spec(["bash-5-1.fc45"]),
    problems: [],
    closedReason: null,
    lastMessageId: uniq("msg"),
    mergedAt: null,
    closedAt: null,
    ...fields,
  };
}

function newChange(fields: Partial<NewShadowChange> = {}): NewShadowChange {
  return { messageId: uniq("msg"), topic: "bodhi.update.comment", kind: "update", branch: "mr/x", alias: "x", path: "updates/x.yaml", content: "doc", message: "subject", mergeMessage: null, ...fields };
}

describe.each(testProviders)("ShadowRepository on %s", (provider) => {
  let database: TestDatabase;
  let shadow: ShadowRepository;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    shadow = new ShadowRepository(database.db);
  });
  afterAll(async () => database?.dispose());

  const save = (previous: ShadowUpdateRecord | null, update: ReturnType<typeof next>, now: Date) => database.db.transaction((tx) => shadow.saveUpdateIn(tx, previous, update, now));

  it("stores an update, reads it back whole, and bumps its version on every change", async () => {
    const alias = uniq("FEDORA-2026");
    await save(null, next(alias, { problems: ["too long"] }), at(1));
    const first = await shadow.update(alias);
    expect(first).toMatchObject({ alias, state: "open", spec: spec(["bash-5-1.fc45"]), problems: ["too long"], closedReason: null, version: 0, createdAt: at(1), updatedAt: at(1), mergedAt: null, closedAt: null });
    await save(first, next(alias, { state: "closed", closedReason: "obsolete", closedAt: at(2), mergedAt: at(2) }), at(2));
    const second = await database.db.read((tx) => shadow.updateIn(tx, alias));
    expect(second).toMatchObject({ state: "closed", closedReason: "obsolete", closedAt: at(2), mergedAt: at(2), problems: [], version: 1, createdAt: at(1), updatedAt: at(2) });
    expect(await shadow.update("absent")).toBeNull();
  });

  it("refuses a change made on stale state, and a first store of an update stored meanwhile", async () => {
    const alias = uniq("FEDORA-2026");
    await save(null, next(alias), at(1));
    const read = (await shadow.update(alias)) as ShadowUpdateRecord;
    await save(read, next(alias, { state: "merged" }), at(2));
    await expect(save(read, next(alias, { state: "closed" }), at(3))).rejects.toBeInstanceOf(ConcurrentShadowChange);
    await expect(save(null, next(alias, { state: "closed" }), at(3))).rejects.toBeInstanceOf(ConcurrentShadowChange);
    expect(await shadow.update(alias)).toMatchObject({ state: "merged", version: 1 });
  });

  it("lists updates by alias, or those in one state", async () => {
    const [a, b] = [uniq("FEDORA-A"), uniq("FEDORA-B")];
    await save(null, next(b, { state: "merged" }), at(1));
    await save(null, next(a), at(1));
    const all = (await shadow.updates()).map((u) => u.alias);
    expect(all.filter((x) => x === a || x === b)).toEqual([a, b]);
    const merged = (await shadow.updates({ state: "merged" })).map((u) => u.alias);
    expect(merged).toContain(b);
    expect(merged).not.toContain(a);
  });

  it("queues changes in order, marks them written or failed, and counts what is queued", async () => {
    const alias = uniq("mr");
    const queuedBefore = await shadow.countQueued();
    const made = [newChange({ alias }), newChange({ alias, kind: "merge", mergeMessage: "Merge" }), newChange({ alias: null, kind: "compose", branch: "main" })];
    await database.db.transaction(async (tx) => {
      for (const c of made) await shadow.queueIn(tx, c, at(1));
    });
    expect(await shadow.countQueued()).toBe(queuedBefore + 3);
    const mine = await shadow.changes({ alias });
    expect(mine).toEqual([
      { ...made[0], seq: expect.any(Number), status: "queued", commitSha: null, mergeSha: null, attempts: 0, error: null, nextAttemptAt: null, createdAt: at(1), writtenAt: null },
      expect.objectContaining({ ...made[1], status: "queued" }),
    ]);
    const [first, second] = mine.map((c) => c.seq) as [number, number];
    expect(first).toBeLessThan(second);

    await shadow.markAttemptFailed(first, "x".repeat(3000), at(5));
    await shadow.markAttemptFailed(first, "remote down", at(6));
    expect((await shadow.changes({ alias }))[0]).toMatchObject({ status: "queued", attempts: 2, error: "remote down", nextAttemptAt: at(6) });
    await shadow.markWritten(first, { commitSha: "a".repeat(40) }, at(7));
    await shadow.markWritten(second, { commitSha: "b".repeat(40), mergeSha: "c".repeat(40) }, at(8));
    expect(await shadow.changes({ alias, status: "written" })).toEqual([
      expect.objectContaining({ seq: first, status: "written", commitSha: "a".repeat(40), mergeSha: null, error: null, nextAttemptAt: null, writtenAt: at(7), attempts: 2 }),
      expect.objectContaining({ seq: second, commitSha: "b".repeat(40), mergeSha: "c".repeat(40), writtenAt: at(8) }),
    ]);
    expect(await shadow.changes({ alias, status: "queued" })).toEqual([]);
    expect(await shadow.countQueued()).toBe(queuedBefore + 1);
    const queued = await shadow.queued(1000);
    expect(queued.map((c) => c.messageId)).toContain(made[2]?.messageId);
    expect(queued.every((c) => c.status === "queued")).toBe(true);
    expect(await shadow.queued(0)).toEqual([]);
  });

  it("keeps a long error to its first 2000 characters, and refuses to mark a change it does not have", async () => {
    const messageId = uniq("msg");
    await database.db.transaction((tx) => shadow.queueIn(tx, newChange({ messageId, alias: messageId }), at(1)));
    const [change] = await shadow.changes({ alias: messageId });
    await shadow.markAttemptFailed(change?.seq as number, "y".repeat(3000), at(2));
    expect((await shadow.changes({ alias: messageId }))[0]?.error).toBe("y".repeat(2000));
    await expect(shadow.markWritten(-1, { commitSha: "a".repeat(40) })).rejects.toBeInstanceOf(ShadowChangeNotFound);
    await expect(shadow.markAttemptFailed(-1, "x", at(1))).rejects.toBeInstanceOf(ShadowChangeNotFound);
  });
});
