// Policy decisions in the store: recorded in a caller's transaction or group-committed, read back per artifact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionRepository, type NewDecision } from "../../src/store/decisionRepository.js";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const decision = (artifactId: string, policy: string, fields: Partial<NewDecision> = {}): NewDecision => ({
  artifactId,
  policy,
  event: "artifact",
  fired: false,
  waiting: true,
  releaseId: null,
  reason: "needs tier0",
  ...fields,
});

describe.each(testProviders)("DecisionRepository on %s", (provider) => {
  let database: TestDatabase;
  let decisions: DecisionRepository;
  beforeAll(async () => {
    database = await freshDatabase(provider);
    decisions = new DecisionRepository(database.db);
  });
  afterAll(async () => {
    await database.dispose();
  });

  it("records decisions and reads them back oldest first, with their flags and time", async () => {
    const before = Date.now();
    await decisions.record([decision("a-1", "rawhide-auto", { fired: true, waiting: false, releaseId: "r-1", reason: null }), decision("a-1", "mass-rebuild")]);
    const found = await decisions.forArtifact("a-1");
    expect(found).toMatchObject([
      { artifactId: "a-1", policy: "rawhide-auto", event: "artifact", fired: true, waiting: false, releaseId: "r-1", reason: null },
      { policy: "mass-rebuild", fired: false, waiting: true, releaseId: null, reason: "needs tier0" },
    ]);
    expect(found[0]?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await decisions.forArtifact("nobody")).toEqual([]);
    await decisions.record([]);
  });

  it("group-commits concurrent records and limits what it reads", async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => decisions.record([decision("a-2", `p-${i}`)])));
    expect(await decisions.forArtifact("a-2")).toHaveLength(20);
    expect(await decisions.forArtifact("a-2", 5)).toHaveLength(5);
  });

  it("records inside the caller's transaction, rolled back with it, in chunks past one statement", async () => {
    const many = Array.from({ length: MAX_BIND_PARAMETERS + 1 }, (_, i) => decision("a-3", `p-${i}`));
    await expect(
      database.db.transaction(async (tx) => {
        await decisions.recordIn(tx, many);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await decisions.forArtifact("a-3")).toEqual([]);
    await database.db.transaction((tx) => decisions.recordIn(tx, many, new Date("2026-01-02T03:04:05Z")));
    const stored = await decisions.forArtifact("a-3", 2000);
    expect(stored).toHaveLength(many.length);
    expect(stored.at(-1)).toMatchObject({ policy: `p-${MAX_BIND_PARAMETERS}`, createdAt: new Date("2026-01-02T03:04:05Z") });
  });
});
