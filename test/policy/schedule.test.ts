import { fromStamp } from "../../src/store/store.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import pino from "pino";
import { describeSummary, runSchedule } from "../../src/flow/runSchedule.js";
import { Scheduler, SlotAbandoned } from "../../src/policy/scheduler.js";
import { ScheduleRunRepository } from "../../src/store/scheduleRunRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote } from "../support/remote.js";

describe.each(testProviders)("scheduled policies on %s", (provider) => {
  let t: TestApp;
  // The clock the policies see: the test moves it.
  let clock = new Date("2026-11-25T05:00:00Z");
  const now = () => clock;

  beforeAll(async () => {
    t = await startTestApp(provider, { now });
  });
  afterAll(async () => t?.close());

  function scheduler(): Scheduler {
    return new Scheduler({
      policies: () => t.policies.get(),
      runs: new ScheduleRunRepository(t.database.db),
      run: async (policy, slot) => describeSummary(await runSchedule(t.evaluate, policy, slot)),
      logger: pino({ level: "silent" }),
      now,
    });
  }
  const policy = (name: string) => {
    const p = t.policies.get().policies.find((x) => x.metadata.name === name);
    if (!p) throw new Error(`no shipped policy ${name}`);
    return p;
  };

  it("requests the nightly compose once per slot, however often the slot is reached", async () => {
    const s = scheduler();
    const slot = new Date("2026-11-25T05:00:00Z");
    const [a, b] = await Promise.all([s.runSlot(policy("rawhide-nightly-compose"), slot), s.runSlot(policy("rawhide-nightly-compose"), slot)]);
    expect([a, b].sort()).toEqual(["already-ran", "ran"]);
    expect(await s.runSlot(policy("rawhide-nightly-compose"), slot)).toBe("already-ran");
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      const doc = parseYaml(clone.read("composes/rawhide/20261125.n.0.yaml") ?? "");
      expect(doc).toMatchObject({ kind: "ComposeRequest", spec: { release: "rawhide", type: "nightly", label: "20261125.n.0" } });
      expect(clone.log().filter((c) => c.release?.trigger === "policy/rawhide-nightly-compose")).toHaveLength(1);
    } finally {
      clone.dispose();
    }
  });

  it("runs a slot missed while the server was down once at start-up, and only the latest one", async () => {
    const runs = new ScheduleRunRepository(t.database.db);
    // Last ran on the 25th; the server comes back on the 28th at noon: the 05:00 slot of the 28th was missed.
    clock = new Date("2026-11-28T12:00:00Z");
    const s = scheduler();
    await s.catchUp();
    expect((await runs.last("rawhide-nightly-compose"))?.slot.toISOString()).toBe("2026-11-28T05:00:00.000Z");
    await s.catchUp();
    const all = await t.database.db.read((tx) => tx.selectFrom("ScheduleRun").select("slot").where("policy", "=", "rawhide-nightly-compose").orderBy("slot", "asc").execute());
    expect(all.map((r) => fromStamp(r.slot).toISOString())).toEqual(["2026-11-25T05:00:00.000Z", "2026-11-28T05:00:00.000Z"]);
    await t.writer.idle();
  });

  it("a run given up by a shutdown leaves its slot unrun, and the next start runs it", async () => {
    const runs = new ScheduleRunRepository(t.database.db);
    const nightly = policy("rawhide-nightly-compose");
    const slot = new Date("2026-12-02T05:00:00Z");
    const abandoning = new Scheduler({
      policies: () => t.policies.get(),
      runs,
      run: () => Promise.reject(new SlotAbandoned("relengd is shutting down")),
      logger: pino({ level: "silent" }),
      now,
    });
    const before = (await runs.last("rawhide-nightly-compose"))?.slot.toISOString();
    expect(await abandoning.runSlot(nightly, slot)).toBe("ran");
    // Not recorded: neither as done nor as an error.
    expect((await runs.last("rawhide-nightly-compose"))?.slot.toISOString()).toBe(before);
    clock = new Date("2026-12-02T12:00:00Z");
    await scheduler().catchUp();
    const last = await runs.last("rawhide-nightly-compose");
    expect(last?.slot.toISOString()).toBe(slot.toISOString());
    expect(last?.summary).not.toMatch(/^error/);
    await t.writer.idle();
  });

  it("pushes an update from testing to stable only after 7 days without failed results", async () => {
    const ci = await t.auth("ci");
    const a = sampleArtifact({ package: "chrony", release: "f44", source: { repo: "https://src.fedoraproject.org/rpms/chrony.git", sha: "abcdef1234", branch: "f44", event: "build" }, items: [{ kind: "koji-build", nvr: "chrony-4.6-1.fc44" }] });
    clock = new Date();
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
    await t.writer.idle();
    const s = scheduler();
    const stable = policy("f44-updates-stable");

    clock = new Date(Date.now() + 3 * 86_400_000);
    await s.runSlot(stable, new Date("2026-11-01T01:00:00Z"));
    const early = (await t.decisions.forArtifact(a.id)).filter((d) => d.policy === "f44-updates-stable");
    expect(early.at(-1)).toMatchObject({ fired: false, waiting: true, reason: expect.stringContaining("7d not yet passed") });

    clock = new Date(Date.now() + 8 * 86_400_000);
    await s.runSlot(stable, new Date("2026-11-01T02:00:00Z"));
    expect((await t.decisions.forArtifact(a.id)).at(-1)).toMatchObject({ policy: "f44-updates-stable", fired: true });
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      expect(parseYaml(clone.read("bodhi/F44/chrony.yaml") ?? "").spec).toMatchObject({ request: "stable", builds: ["chrony-4.6-1.fc44"] });
    } finally {
      clone.dispose();
    }
  });
});
