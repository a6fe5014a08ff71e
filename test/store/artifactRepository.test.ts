// Artifacts in the store: stored alone (ingest) or in a caller's transaction (insertIn), read
// back by id, in pages and in bulk, and their CI results appended.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { ArtifactRepository, decodeCursor, encodeCursor, InvalidCursorError } from "../../src/store/artifactRepository.js";
import { MAX_BIND_PARAMETERS, observeStatements } from "../../src/store/store.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

function artifactOf(input: ArtifactInput): Artifact {
  const parsed = parseArtifact(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

describe("artifact cursors", () => {
  it("round-trip a sequence number and refuse what the server did not issue", () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(() => decodeCursor("bm9wZQ")).toThrow(InvalidCursorError);
  });
});

describe.each(testProviders)("ArtifactRepository on %s", (provider) => {
  let database: TestDatabase;
  let artifacts: ArtifactRepository;
  beforeAll(async () => {
    database = await freshDatabase(provider);
    artifacts = new ArtifactRepository(database.db);
  });
  afterAll(async () => {
    await database.dispose();
  });

  it("ingests an artifact once: created, then unchanged for the same body, a conflict for another", async () => {
    const a = artifactOf(sampleArtifact({ package: "bash" }));
    const created = await artifacts.ingest(a);
    expect(created).toMatchObject({ status: "created", id: a.id });
    expect(await artifacts.ingest(a)).toMatchObject({ status: "unchanged", id: a.id, digest: created.digest });
    const other = await artifacts.ingest({ ...a, context: { CI_PIPELINE_ID: "other" } });
    expect(other).toMatchObject({ status: "conflict", id: a.id, existingDigest: created.digest });
    const stored = await artifacts.get(a.id);
    expect(stored).toMatchObject({ artifact: a, digest: created.digest, results: [] });
    expect(await artifacts.packageOf(a.id)).toBe("bash");
    expect(await artifacts.packageOf("nobody")).toBeNull();
    expect(await artifacts.get("nobody")).toBeNull();
  });

  it("inserts a batch in the caller's transaction, twice the same id in it being unchanged the second time, and rolls back with it", async () => {
    const a = artifactOf(sampleArtifact({ package: "zsh" }));
    const b = artifactOf(sampleArtifact({ package: "fish" }));
    await expect(
      database.db.transaction(async (tx) => {
        await artifacts.insertIn(tx, [a]);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await artifacts.get(a.id)).toBeNull();
    const batch = await database.db.transaction((tx) => artifacts.insertIn(tx, [a, b, a]));
    expect(batch.outcomes.map((o) => o.status)).toEqual(["created", "created", "unchanged"]);
    expect(batch.created.map((x) => x.id)).toEqual([a.id, b.id]);
    // Its builds are stored with it: found by NVR.
    const nvr = a.items.find((i) => i.kind === "koji-build")?.nvr as string;
    expect((await artifacts.list({ nvr, limit: 10 })).items.map((s) => s.artifact.id)).toEqual([a.id]);
  });

  it("stores and reads more artifacts than one statement binds", async () => {
    const many = Array.from({ length: MAX_BIND_PARAMETERS + 2 }, (_, i) => artifactOf(sampleArtifact({ package: `bulk-${i}` })));
    const batch = await database.db.transaction((tx) => artifacts.insertIn(tx, many));
    expect(batch.created).toHaveLength(many.length);
    const found = await artifacts.getMany([...many.map((a) => a.id), "absent"]);
    expect(found.size).toBe(many.length);
    expect(found.get(many.at(-1)?.id as string)).toEqual(many.at(-1));
  });

  it("stores an artifact with more builds than one statement binds between small ones, each with its builds", async () => {
    const small = () => artifactOf(sampleArtifact({ package: "beside" }));
    const builds = Array.from({ length: 400 }, (_, i) => ({ kind: "koji-build" as const, nvr: `texlive-${i}-1.fc41`, buildId: 3_000_000 + i, taskId: 130_000_000 + i, target: "f41-candidate", owner: "packager" }));
    const big = artifactOf(sampleArtifact({ package: "texlive", items: builds }));
    const batch = [small(), big, small()];
    const stored = await database.db.transaction((tx) => artifacts.insertIn(tx, batch));
    expect(stored.outcomes.map((o) => o.status)).toEqual(["created", "created", "created"]);
    for (const nvr of ["texlive-0-1.fc41", "texlive-399-1.fc41"]) expect((await artifacts.list({ nvr, limit: 5 })).items.map((s) => s.artifact.id)).toEqual([big.id]);
    for (const a of [batch[0], batch[2]] as Artifact[]) {
      const nvr = a.items.find((i) => i.kind === "koji-build")?.nvr as string;
      expect((await artifacts.list({ nvr, limit: 5 })).items.map((s) => s.artifact.id)).toEqual([a.id]);
    }
  });

  it("looks a batch up and inserts its artifacts and builds in one statement on PostgreSQL (three on SQLite), reading back only ids already stored", async () => {
    const counted = async (batch: Artifact[]) => {
      const statements: string[] = [];
      const stop = observeStatements((sql) => statements.push(sql));
      try {
        return { stored: await database.db.transaction((tx) => artifacts.insertIn(tx, batch)), statements };
      } finally {
        stop();
      }
    };
    const batch = Array.from({ length: 20 }, () => artifactOf(sampleArtifact({ package: "counted" })));
    const fresh = await counted(batch);
    expect(fresh.statements).toHaveLength(provider === "postgresql" ? 1 : 3);
    expect(fresh.stored.outcomes.map((o) => o.status)).toEqual(batch.map(() => "created"));
    const nvr = batch[7]?.items.find((i) => i.kind === "koji-build")?.nvr as string;
    expect((await artifacts.list({ nvr, limit: 5 })).items.map((s) => s.artifact.id)).toEqual([batch[7]?.id]);

    const newcomer = artifactOf(sampleArtifact({ package: "counted" }));
    const changed = { ...(batch[3] as Artifact), context: { CI_PIPELINE_ID: "changed" } };
    const mixed = await counted([batch[0] as Artifact, newcomer, changed, newcomer]);
    expect(mixed.stored.outcomes).toMatchObject([
      { status: "unchanged", id: batch[0]?.id, digest: fresh.stored.outcomes[0]?.digest },
      { status: "created", id: newcomer.id },
      { status: "conflict", id: changed.id, existingDigest: fresh.stored.outcomes[3]?.digest },
      { status: "unchanged", id: newcomer.id },
    ]);
    expect(mixed.stored.created.map((a) => a.id)).toEqual([newcomer.id]);
    // PostgreSQL: the insert, then a read of the two that were stored already.
    expect(mixed.statements).toHaveLength(provider === "postgresql" ? 2 : 3);
    // The artifact kept its first body and builds; the newcomer's builds are stored once.
    expect((await artifacts.get(changed.id))?.artifact).toEqual(batch[3]);
    const newNvr = newcomer.items.find((i) => i.kind === "koji-build")?.nvr as string;
    expect((await artifacts.list({ nvr: newNvr, limit: 5 })).items.map((s) => s.artifact.id)).toEqual([newcomer.id]);
  });

  it("stores the same new artifacts given in opposite orders by two concurrent transactions once each, neither failing", async () => {
    const pair = ["left", "right"].map((pkg) => artifactOf(sampleArtifact({ package: pkg })));
    const [one, two] = await Promise.all([
      database.db.transaction((tx) => artifacts.insertIn(tx, pair)),
      database.db.transaction((tx) => artifacts.insertIn(tx, [...pair].reverse())),
    ]);
    const statuses = [...(one?.outcomes ?? []), ...(two?.outcomes ?? [])].map((o) => `${o.id} ${o.status}`).sort();
    expect(statuses).toEqual(pair.flatMap((a) => [`${a.id} created`, `${a.id} unchanged`]).sort());
  });

  it("lists newest first by filter, page by page", async () => {
    const pushed = [];
    for (let i = 0; i < 3; i++) {
      const a = artifactOf(sampleArtifact({ package: "listed", release: "f41" }));
      await artifacts.ingest(a);
      pushed.push(a.id);
    }
    const first = await artifacts.list({ package: "listed", limit: 2 });
    expect(first.items.map((s) => s.artifact.id)).toEqual([pushed[2], pushed[1]]);
    expect(first.nextCursor).not.toBeNull();
    const second = await artifacts.list({ package: "listed", limit: 2, cursor: first.nextCursor as string });
    expect(second).toMatchObject({ items: [{ artifact: { id: pushed[0] } }], nextCursor: null });
    expect((await artifacts.list({ package: "listed", release: "f42", limit: 5 })).items).toEqual([]);
    expect((await artifacts.list({ package: "listed", sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: "f41", event: "build", limit: 5 })).items).toHaveLength(3);
    expect((await artifacts.list({ package: "listed", since: new Date(Date.now() + 60_000), limit: 5 })).items).toEqual([]);
    expect((await artifacts.list({ package: "listed", until: new Date(Date.now() + 60_000), since: new Date(0), limit: 5 })).items).toHaveLength(3);
  });

  it("appends results: added, updated, unchanged, stale; refuses past the limit and for an unknown artifact", async () => {
    const a = artifactOf(sampleArtifact({ package: "results" }));
    await artifacts.ingest(a);
    const t0 = { kind: "ci-result" as const, testcase: "fedora-ci.koji-build.tier0.functional", outcome: "FAILED" as const, submittedAt: "2026-01-01T00:00:00.000Z" };
    expect(await artifacts.appendResults(a.id, [t0], 10)).toMatchObject({ status: "appended", added: 1, updated: 0, unchanged: 0, stale: 0 });
    expect(await artifacts.appendResults(a.id, [t0], 10)).toMatchObject({ status: "appended", added: 0, unchanged: 1 });
    const later = { ...t0, outcome: "PASSED" as const, submittedAt: "2026-01-02T00:00:00.000Z" };
    const updated = await artifacts.appendResults(a.id, [later], 10);
    expect(updated).toMatchObject({ status: "appended", updated: 1, results: [{ testcase: t0.testcase, outcome: "PASSED", submittedAt: later.submittedAt }] });
    expect(await artifacts.appendResults(a.id, [t0], 10)).toMatchObject({ status: "appended", stale: 1 });
    const more = [1, 2].map((i) => ({ kind: "ci-result" as const, testcase: `fedora-ci.koji-build.tier0.t${i}`, outcome: "PASSED" as const }));
    expect(await artifacts.appendResults(a.id, more, 2)).toEqual({ status: "too-many", limit: 2 });
    expect(await artifacts.appendResults("nobody", more, 10)).toEqual({ status: "not-found" });
    const stored = await artifacts.get(a.id);
    expect(stored?.results).toHaveLength(1);
    expect(stored?.results[0]?.updatedAt).toBeInstanceOf(Date);
  });
});
