// Waivers in the store: made on an artifact (API) or a build (WaiverDB), found per artifact and per build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { WaiverRepository, type NewWaiver } from "../../src/store/waiverRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const waiver = (fields: Partial<NewWaiver>): NewWaiver => ({
  artifactId: null,
  nvr: null,
  testcase: "fedora-ci.koji-build.tier0.functional",
  waived: true,
  comment: "flaky",
  username: "releaser",
  source: "waiverdb",
  messageId: null,
  waivedAt: new Date("2026-01-01T00:00:00Z"),
  ...fields,
});

describe.each(testProviders)("WaiverRepository on %s", (provider) => {
  let database: TestDatabase;
  let waivers: WaiverRepository;
  beforeAll(async () => {
    database = await freshDatabase(provider);
    waivers = new WaiverRepository(database.db);
  });
  afterAll(async () => {
    await database.dispose();
  });

  it("creates a waiver and returns it as stored: scenario, environments and times kept, absent ones left out", async () => {
    const now = new Date("2026-02-03T04:05:06Z");
    const made = await waivers.create(waiver({ artifactId: "art-1", source: "api", scenario: "x86_64", environments: ["rawhide", "f4*"] }), now);
    expect(made).toMatchObject({ artifactId: "art-1", nvr: null, source: "api", scenario: "x86_64", environments: ["rawhide", "f4*"], waived: true, createdAt: now, waivedAt: new Date("2026-01-01T00:00:00Z") });
    const plain = await waivers.create(waiver({ nvr: "bash-5.2-1.fc45", waived: false }));
    expect(plain).not.toHaveProperty("scenario");
    expect(plain).not.toHaveProperty("environments");
    expect(plain.waived).toBe(false);
  });

  it("creates inside the caller's transaction, rolled back with it", async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await waivers.createIn(tx, waiver({ nvr: "gone-1-1.fc45" }), new Date());
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await waivers.forArtifact("x", ["gone-1-1.fc45"])).toEqual([]);
    const made = await database.db.transaction((tx) => waivers.createIn(tx, waiver({ nvr: "kept-1-1.fc45", messageId: "m-1" }), new Date()));
    expect(made).toMatchObject({ nvr: "kept-1-1.fc45", messageId: "m-1" });
  });

  it("finds an artifact's waivers, made on it or its builds, once each in arrival order", async () => {
    const first = await waivers.create(waiver({ nvr: "zsh-5.9-1.fc45" }));
    const second = await waivers.create(waiver({ artifactId: "art-2", nvr: "zsh-5.9-1.fc45", source: "api" }));
    const third = await waivers.create(waiver({ artifactId: "art-2", source: "api", waived: false }));
    await waivers.create(waiver({ nvr: "other-1-1.fc45" }));
    expect((await waivers.forArtifact("art-2", ["zsh-5.9-1.fc45"])).map((w) => w.id)).toEqual([first.id, second.id, third.id]);
  });

  it("finds waivers by build past one statement's list, grouped by NVR in arrival order", async () => {
    const a = await waivers.create(waiver({ nvr: "many-1-1.fc45" }));
    const b = await waivers.create(waiver({ nvr: "many-1-1.fc45", waived: false }));
    const c = await waivers.create(waiver({ nvr: "last-1-1.fc45" }));
    const nvrs = ["many-1-1.fc45", ...Array.from({ length: MAX_BIND_PARAMETERS + 5 }, (_, i) => `absent-${i}`), "last-1-1.fc45"];
    const found = await database.db.read((tx) => waivers.forNvrsIn(tx, nvrs));
    expect([...found.keys()].sort()).toEqual(["last-1-1.fc45", "many-1-1.fc45"]);
    expect(found.get("many-1-1.fc45")?.map((w) => w.id)).toEqual([a.id, b.id]);
    expect(found.get("last-1-1.fc45")?.map((w) => w.id)).toEqual([c.id]);
    expect((await waivers.forArtifact("none", nvrs)).map((w) => w.id)).toEqual([a.id, b.id, c.id]);
  });
});
