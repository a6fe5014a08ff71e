// Releases and holds in the store: the writer's queue, its status updates, and holds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { DecisionRepository } from "../../src/store/decisionRepository.js";
import { ReleaseRepository, type NewRelease, type ReleaseRecord } from "../../src/store/releaseRepository.js";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

describe.each(testProviders)("ReleaseRepository on %s", (provider) => {
  let database: TestDatabase;
  let artifacts: ArtifactRepository;
  let releases: ReleaseRepository;
  let counter = 0;
  beforeAll(async () => {
    database = await freshDatabase(provider);
    artifacts = new ArtifactRepository(database.db);
    releases = new ReleaseRepository(database.db);
  });
  afterAll(async () => {
    await database.dispose();
  });

  async function stored(n = 1): Promise<Artifact[]> {
    const out = Array.from({ length: n }, () => {
      const p = parseArtifact(sampleArtifact({ package: `pkg-${++counter}` }));
      if (!p.ok) throw new Error("sample artifact does not parse");
      return p.value;
    });
    await database.db.transaction((tx) => artifacts.insertIn(tx, out));
    return out;
  }
  const input = (a: Artifact, fields: Partial<NewRelease> = {}): NewRelease => ({
    artifactId: a.id,
    environment: "rawhide",
    repository: `repo-${counter}`,
    branch: "main",
    package: a.package,
    trigger: "user:test",
    createdBy: "user:test",
    force: false,
    ...fields,
  });
  async function queued(i: NewRelease): Promise<ReleaseRecord> {
    const o = await releases.enqueue(i);
    if (o.status !== "queued") throw new Error(`not queued: ${o.status}`);
    return o.release;
  }

  it("queues a release as stored, a second of the same artifact and environment as a duplicate unless forced, with its decision", async () => {
    const [a] = (await stored()) as [Artifact];
    const first = await releases.enqueue({ ...input(a, { bulk: true }), decision: (o) => ({ artifactId: a.id, policy: "p", event: "artifact", fired: o.status === "queued", waiting: false, releaseId: o.status === "queued" ? o.release.id : null, reason: null }) });
    if (first.status !== "queued") throw new Error(first.status);
    expect(await releases.get(first.release.id)).toEqual(first.release);
    expect(first.release).toMatchObject({ status: "queued", bulk: true, force: false, attempts: 0, nextAttemptAt: null, pushedAt: null });
    expect(await new DecisionRepository(database.db).forArtifact(a.id)).toMatchObject([{ policy: "p", fired: true, releaseId: first.release.id }]);
    expect(await releases.enqueue(input(a))).toMatchObject({ status: "duplicate", existing: { id: first.release.id } });
    const forced = await releases.enqueue(input(a, { force: true, forceReason: "again" }));
    expect(forced).toMatchObject({ status: "queued", release: { force: true, forceReason: "again" } });
    expect(await releases.get("nobody")).toBeNull();
  });

  it("holds: added once, refusing releases of the pair unless forced, placed by a rollback, listed and removed", async () => {
    const [a, b] = (await stored(2)) as [Artifact, Artifact];
    const added = await releases.addHold({ environment: "f44", package: a.package, reason: "freeze", createdBy: "alice" });
    expect(added).toMatchObject({ status: "added", hold: { environment: "f44", package: a.package, reason: "freeze", releaseId: null } });
    expect(await releases.addHold({ environment: "f44", package: a.package, reason: "again", createdBy: "bob" })).toMatchObject({ status: "exists", hold: { reason: "freeze" } });
    expect(await releases.hold("f44", a.package)).toEqual(added.hold);
    expect(await releases.enqueue(input(a, { environment: "f44" }))).toMatchObject({ status: "held", hold: { id: added.hold.id } });
    const rollback = await releases.enqueue(input(a, { environment: "f44", force: true, trigger: "rollback", hold: { reason: "rolled back" } }));
    if (rollback.status !== "queued") throw new Error(rollback.status);
    expect(rollback.hold).toMatchObject({ reason: "rolled back", releaseId: rollback.release.id, environment: "f44", package: a.package });
    await releases.addHold({ environment: "f45", package: b.package, reason: "other", createdBy: "alice" });
    expect((await releases.holds({ environment: "f44" })).map((h) => h.reason)).toEqual(["rolled back"]);
    expect((await releases.holds({ package: b.package })).map((h) => h.environment)).toEqual(["f45"]);
    const pairs = [{ environment: "f44", package: a.package }, ...Array.from({ length: MAX_BIND_PARAMETERS + 1 }, (_, i) => ({ environment: `e-${i}`, package: "x" })), { environment: "f45", package: b.package }];
    expect([...(await releases.holdsOn(pairs)).keys()].sort()).toEqual([`f44\0${a.package}`, `f45\0${b.package}`]);
    expect(await releases.holdsOn([])).toEqual(new Map());
    const removed = await releases.removeHold(rollback.hold?.id as string);
    expect(removed?.reason).toBe("rolled back");
    expect(await releases.removeHold(rollback.hold?.id as string)).toBeNull();
    expect(await releases.hold("f44", a.package)).toBeNull();
  });

  it("hands the writer its queue, and records what it committed, pushed, superseded, blocked and failed", async () => {
    const repository = "writer-repo";
    const all = await stored(5);
    const [r1, r2, r3, r4, r5] = await Promise.all(all.map((a) => queued(input(a, { repository }))));
    expect((await releases.due(repository, "main", 10)).map((r) => r.id)).toEqual([r1, r2, r3, r4, r5].map((r) => r?.id));
    expect(await releases.pendingRepositories()).toContainEqual({ repository, branch: "main" });
    await releases.markCommitted([{ id: r1?.id as string, commitSha: "c".repeat(40) }]);
    expect(await releases.get(r1?.id as string)).toMatchObject({ status: "committed", commitSha: "c".repeat(40) });
    await releases.markPushed([{ id: r1?.id as string, commitSha: "a".repeat(40) }]);
    expect(await releases.get(r1?.id as string)).toMatchObject({ status: "pushed", commitSha: "a".repeat(40) });
    expect((await releases.get(r1?.id as string))?.pushedAt).toBeInstanceOf(Date);
    expect(await releases.pushedWatermark(repository, "main")).toBe("a".repeat(40));
    expect(await releases.artifactsPushedTo("rawhide", 10)).toContain(r1?.artifactId);
    expect((await releases.pushedHistory("rawhide", r1?.package as string)).map((r) => r.id)).toEqual([r1?.id]);
    await releases.markSuperseded([{ id: r2?.id as string, by: r3?.id as string }]);
    expect(await releases.get(r2?.id as string)).toMatchObject({ status: "superseded", supersededBy: r3?.id, reason: `superseded by release ${r3?.id}` });
    await releases.markBlocked(r3?.id as string, "downgrade");
    expect(await releases.get(r3?.id as string)).toMatchObject({ status: "blocked", reason: "downgrade" });
    await releases.markAttemptFailed([r4?.id as string], "remote down", 8, () => 60_000);
    expect(await releases.get(r4?.id as string)).toMatchObject({ status: "queued", attempts: 1, error: "remote down" });
    expect((await releases.due(repository, "main", 10)).map((r) => r.id)).toEqual([r5?.id]);
    expect((await releases.nextRetryAt(repository, "main"))?.getTime()).toBeGreaterThan(Date.now());
    await releases.markAttemptFailed([r5?.id as string], "remote down", 1, () => 0);
    expect(await releases.get(r5?.id as string)).toMatchObject({ status: "failed", nextAttemptAt: null });
    expect(await releases.attemptedRepositories()).toContainEqual({ repository, branch: "main" });
    expect((await releases.unrecordedReleases(repository, "main")).sort()).toEqual([r4?.id, r5?.id].sort());
    expect([...(await releases.notPushed([r1?.id as string, r5?.id as string, "unknown"]))]).toEqual([r5?.id]);
    // History is what happened: a failed release found pushed is pushed.
    await releases.markPushedFromHistory([{ id: r5?.id as string, commitSha: "b".repeat(40) }]);
    expect(await releases.get(r5?.id as string)).toMatchObject({ status: "pushed", commitSha: "b".repeat(40), error: null });
    expect(await releases.retry(r5?.id as string)).toBeNull();
  });

  it("retries a failed release with fresh attempts", async () => {
    const [a] = (await stored()) as [Artifact];
    const r = await queued(input(a));
    await releases.markAttemptFailed([r.id], "remote down", 1, () => 0);
    expect(await releases.retry(r.id)).toMatchObject({ id: r.id, status: "queued", attempts: 0, error: null });
  });

  it("lists releases newest first by filter, page by page", async () => {
    const [a] = (await stored()) as [Artifact];
    const rs = [await queued(input(a, { environment: "l1" })), await queued(input(a, { environment: "l2" })), await queued(input(a, { environment: "l3" }))];
    const first = await releases.list({ artifactId: a.id, limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([rs[2]?.id, rs[1]?.id]);
    const second = await releases.list({ artifactId: a.id, limit: 2, cursor: first.nextCursor as string });
    expect(second).toMatchObject({ items: [{ id: rs[0]?.id }], nextCursor: null });
    expect((await releases.list({ environment: "l2", package: a.package, status: "queued", limit: 5 })).items.map((r) => r.id)).toEqual([rs[1]?.id]);
  });

  it("finds a batch's contenders past one statement, and queues and marks more releases than one statement binds", async () => {
    const many = await stored(MAX_BIND_PARAMETERS + 1);
    const inputs = many.map((a) => input(a, { environment: "bulk", repository: "bulk-repo" }));
    const outcomes = await database.db.transaction((tx) => releases.enqueueIn(tx, inputs));
    const ids = outcomes.map((o) => (o.status === "queued" ? o.release.id : ""));
    expect(ids.filter(Boolean)).toHaveLength(many.length);
    const contenders = await releases.tagContenders(
      many.map((a) => ({ environment: "bulk", package: a.package })),
      0,
    );
    expect(contenders).toHaveLength(many.length);
    await releases.markPushed(ids.map((id) => ({ id, commitSha: "d".repeat(40) })));
    expect(await releases.notPushed(ids)).toEqual(new Set());
    expect((await releases.queueStats()).find((s) => s.repository === "bulk-repo")).toBeUndefined();
  });
});
