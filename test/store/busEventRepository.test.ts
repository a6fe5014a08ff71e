import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository, type NewBusEvent } from "../../src/store/busEventRepository.js";
import { ConcurrentShadowChange } from "../../src/store/shadowRepository.js";
import { stamp } from "../../src/store/store.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { countRows } from "../support/rows.js";
import { sampleArtifact } from "../support/artifacts.js";

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;

function event(fields: Partial<NewBusEvent> = {}): NewBusEvent {
  return {
    messageId: uniq("msg"),
    topic: "org.fedoraproject.prod.ci.koji-build.test.complete",
    bareTopic: "ci.koji-build.test.complete",
    status: "waiting",
    reason: "no artifact yet",
    artifactId: null,
    nvr: uniq("pkg") + "-1.0-1.fc45",
    parsed: true,
    envelope: "{}",
    ...fields,
  };
}

describe.each(testProviders)("BusEventRepository on %s", (provider) => {
  let database: TestDatabase;
  let events: BusEventRepository;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    events = new BusEventRepository(database.db);
  });
  afterAll(async () => database?.dispose());

  it("records an event once, finds it as it was given, and counts a second record as a delivery", async () => {
    const e = event({ parsed: false, artifactId: "a-1" });
    const at = new Date("2026-03-01T10:00:00.123Z");
    expect(await events.record(e, at)).toBe("recorded");
    const found = await events.find(e.messageId);
    expect(found).toMatchObject({ ...e, deliveries: 1, receivedAt: at, updatedAt: at });
    expect(typeof found?.seq).toBe("number");
    const later = new Date("2026-03-01T11:00:00Z");
    expect(await events.record({ ...e, status: "rejected" }, later)).toBe("duplicate");
    expect(await events.find(e.messageId)).toMatchObject({ status: "waiting", deliveries: 2, receivedAt: at, updatedAt: later });
    expect(await events.find("never-seen")).toBeNull();
  });

  it("counts a delivery of a recorded message and says so; of an unknown one, nothing", async () => {
    const e = event();
    await events.record(e);
    expect(await events.countDelivery(e.messageId)).toMatchObject({ messageId: e.messageId, deliveries: 2 });
    expect(await events.countDelivery("unknown-message")).toBeNull();
  });

  it("records an effect with its event in one transaction, and rolls the effect back when the message was recorded meanwhile", async () => {
    const e = event();
    const outcome = { status: "accepted" as const, reason: "observed", artifactId: null, nvr: "x-1-1.fc45" };
    const applied = await events.recordWith(e, async (tx) => {
      await tx.insertInto("ScheduleRun").values({ policy: e.messageId, slot: stamp(new Date(1000)), startedAt: stamp(new Date()) }).execute();
      return outcome;
    });
    expect(applied).toEqual({ status: "recorded", outcome });
    expect(await events.find(e.messageId)).toMatchObject({ ...outcome, deliveries: 1, parsed: true });

    const again = await events.recordWith(e, async (tx) => {
      await tx.insertInto("ScheduleRun").values({ policy: e.messageId, slot: stamp(new Date(2000)), startedAt: stamp(new Date()) }).execute();
      return outcome;
    });
    expect(again).toEqual({ status: "duplicate" });
    // The second effect went with the second event.
    expect(await countRows(database.db, "ScheduleRun", { column: "policy", in: [e.messageId] })).toBe(1);
    expect((await events.find(e.messageId))?.deliveries).toBe(2);
  });

  it("retries an effect that raced another ingest, and gives up after a few tries", async () => {
    const e = event();
    let tries = 0;
    const outcome = { status: "accepted" as const, reason: "second try", artifactId: null, nvr: null };
    expect(
      await events.recordWith(e, async () => {
        if (++tries === 1) throw new ConcurrentShadowChange("raced");
        return outcome;
      }),
    ).toEqual({ status: "recorded", outcome });
    expect(tries).toBe(2);

    let always = 0;
    await expect(
      events.recordWith(event(), async () => {
        always++;
        throw new ConcurrentShadowChange("raced again");
      }),
    ).rejects.toBeInstanceOf(ConcurrentShadowChange);
    expect(always).toBe(6);
    // Another error is not a race: no retry.
    let failing = 0;
    await expect(
      events.recordWith(event(), async () => {
        failing++;
        throw new Error("broken");
      }),
    ).rejects.toThrow("broken");
    expect(failing).toBe(1);
  });

  it("treats a unique violation in the effect as a race with the same message", async () => {
    const e = event();
    await events.record(e);
    const raced = await events.recordWith(e, async (tx) => {
      // What a concurrent ingest of the same message meets: its first row stored already.
      await tx.insertInto("BusEvent").values({ ...e, parsed: 1, receivedAt: stamp(new Date()), updatedAt: stamp(new Date()) }).execute();
      return { status: "accepted", reason: "x", artifactId: null, nvr: null };
    });
    expect(raced).toEqual({ status: "duplicate" });
  });

  it("lists newest first by status, duplicates and topic, a page at a time", async () => {
    const topic = uniq("org.example.prod.some.topic");
    const bare = uniq("some.topic");
    const made = [event({ topic, bareTopic: bare, status: "accepted" }), event({ topic, bareTopic: bare, status: "ignored" }), event({ topic, bareTopic: bare, status: "accepted" })];
    for (const e of made) await events.record(e);
    await events.countDelivery(made[1]?.messageId as string);

    const first = await events.list({ topic: { bare }, limit: 2 });
    expect(first.items.map((e) => e.messageId)).toEqual([made[2]?.messageId, made[1]?.messageId]);
    expect(first.nextCursor).not.toBeNull();
    const second = await events.list({ topic: { bare }, limit: 2, cursor: first.nextCursor as string });
    expect(second).toEqual({ items: [expect.objectContaining({ messageId: made[0]?.messageId })], nextCursor: null });

    expect((await events.list({ topic: { full: topic }, status: "accepted", limit: 10 })).items.map((e) => e.messageId)).toEqual([made[2]?.messageId, made[0]?.messageId]);
    expect((await events.list({ topic: { full: topic }, status: "duplicate", limit: 10 })).items.map((e) => e.messageId)).toEqual([made[1]?.messageId]);
    expect((await events.list({ topic: { bare: "nothing.here" }, limit: 10 })).items).toEqual([]);
  });

  it("counts events per status", async () => {
    const before = await events.countByStatus();
    await events.record(event({ status: "rejected" }));
    await events.record(event({ status: "rejected" }));
    const after = await events.countByStatus();
    expect(after.rejected).toBe((before.rejected ?? 0) + 2);
    expect(Object.values(after).every((n) => typeof n === "number")).toBe(true);
  });

  it("finds waiting results by NVR, oldest first and up to the limit, over more NVRs than one statement binds", async () => {
    const nvrs: [string, string] = [uniq("wait") + "-1-1.fc45", uniq("wait") + "-1-1.fc45"];
    const waiting = [event({ nvr: nvrs[0] }), event({ nvr: nvrs[1] }), event({ nvr: nvrs[0] })];
    for (const e of waiting) await events.record(e);
    await events.record(event({ nvr: nvrs[1], status: "accepted" }));
    const asked = [nvrs[1] as string, ...Array.from({ length: 1500 }, (_, i) => `absent-${i}`), nvrs[0] as string];
    expect((await events.waitingFor(asked)).map((e) => e.messageId)).toEqual(waiting.map((e) => e.messageId));
    expect((await events.waitingFor(asked, 2)).map((e) => e.messageId)).toEqual(waiting.slice(0, 2).map((e) => e.messageId));
    expect(await events.waitingFor([])).toEqual([]);
  });

  it("finds waiting results whose build an artifact carries now", async () => {
    const input = sampleArtifact({ package: uniq("built") });
    const nvr = (input.items?.[0] as { nvr: string }).nvr;
    const e = event({ nvr });
    await events.record(e);
    await events.record(event({ nvr: uniq("unbuilt") + "-1-1.fc45" }));
    expect((await events.waitingWithArtifacts()).map((w) => w.messageId)).not.toContain(e.messageId);
    const parsed = parseArtifact(input);
    if (!parsed.ok) throw new Error("sample artifact does not parse");
    expect((await new ArtifactRepository(database.db).ingest(parsed.value)).status).toBe("created");
    expect((await events.waitingWithArtifacts()).map((w) => w.messageId)).toEqual([e.messageId]);
  });

  it("settles a waiting event once", async () => {
    const e = event();
    await events.record(e);
    const at = new Date("2026-04-01T00:00:00Z");
    expect(await events.settle(e.messageId, { status: "accepted", reason: "appended", artifactId: "a-9" }, at)).toBe(true);
    expect(await events.find(e.messageId)).toMatchObject({ status: "accepted", reason: "appended", artifactId: "a-9", updatedAt: at });
    expect(await events.settle(e.messageId, { status: "rejected", reason: "late", artifactId: null })).toBe(false);
    expect(await events.settle("unknown", { status: "accepted", reason: "x", artifactId: null })).toBe(false);
  });
});
