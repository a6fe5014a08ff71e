import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusOutboxRepository, type OutboxMessage } from "../../src/store/busOutboxRepository.js";
import { ReleaseRepository, type ReleaseRecord } from "../../src/store/releaseRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 0, minute));

function message(releaseSeq: number, fields: Partial<OutboxMessage> = {}): OutboxMessage {
  return { key: uniq("release") + "/queued", messageId: uniq("mid"), releaseSeq, topic: "relengd.release.queued", envelope: "{}", ...fields };
}

/** Release fields a release message carries (AnnouncedRelease). */
function announced(r: ReleaseRecord) {
  const { force: _f, forceReason: _fr, bulk: _b, supersededBy: _s, nextAttemptAt: _n, preflight: _p, repoclosureReportId: _ri, repoclosure: _rc, ...rest } = r;
  return rest;
}

// Each describe has its own database: the outbox's newest release and the prune are database-wide.
describe.each(testProviders)("BusOutboxRepository on %s", (provider) => {
  let database: TestDatabase;
  let outbox: BusOutboxRepository;
  let releases: ReleaseRepository;
  let artifacts: ArtifactRepository;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    outbox = new BusOutboxRepository(database.db);
    releases = new ReleaseRepository(database.db);
    artifacts = new ArtifactRepository(database.db);
  });
  afterAll(async () => database?.dispose());

  async function queue(n: number): Promise<ReleaseRecord[]> {
    const out: ReleaseRecord[] = [];
    for (let i = 0; i < n; i++) {
      const parsed = parseArtifact(sampleArtifact({ package: uniq("pkg") }));
      if (!parsed.ok) throw new Error("sample artifact does not parse");
      const artifact: Artifact = parsed.value;
      await artifacts.ingest(artifact);
      const outcome = await releases.enqueue({ artifactId: artifact.id, environment: uniq("env"), repository: "gitops", branch: "main", package: artifact.package, trigger: "user:test", createdBy: "user:test", force: false });
      if (outcome.status !== "queued") throw new Error(`not queued: ${outcome.status}`);
      out.push(outcome.release);
    }
    return out;
  }

  it("knows no release and no announcement in an empty store", async () => {
    expect(await outbox.lastReleaseSeq()).toBe(0);
    expect(await outbox.lastAnnouncedReleaseSeq()).toBeNull();
    expect(await outbox.prunePublished(at(60))).toBe(0);
    expect(await outbox.add([])).toBe(0);
    expect(await outbox.releasesByIds([])).toEqual([]);
  });

  it("stores messages once per key, over more than one statement's worth, in order", async () => {
    const messages = Array.from({ length: 400 }, () => message(1));
    expect(await outbox.add(messages, at(1))).toBe(400);
    // A second add of the same keys and some new ones: only the new ones count.
    expect(await outbox.add([...messages.slice(0, 10), message(2)], at(2))).toBe(1);
    const all = await outbox.all();
    expect(all).toHaveLength(401);
    expect(all[0]).toEqual({ ...messages[0], seq: expect.any(Number), createdAt: at(1), publishedAt: null, attempts: 0 });
    expect(all.map((m) => m.key)).toEqual([...messages.map((m) => m.key), expect.stringMatching(/\/queued$/)]);
    expect(await outbox.lastAnnouncedReleaseSeq()).toBe(2);
  });

  it("hands out unpublished messages in order, counts attempts and marks them published, over more seqs than one statement binds", async () => {
    const before = (await outbox.all()).map((m) => m.seq);
    const seqs = [...before, ...Array.from({ length: 1200 }, (_, i) => -1 - i)];
    expect((await outbox.unpublished(3)).map((m) => m.seq)).toEqual(before.slice(0, 3));
    await outbox.countAttempt(seqs);
    await outbox.countAttempt([before[0] as number, before[0] as number]);
    await outbox.countAttempt([]);
    const counted = await outbox.all();
    expect(counted[0]?.attempts).toBe(2);
    expect(counted.at(-1)?.attempts).toBe(1);
    await outbox.markPublished(seqs.slice(1), at(10));
    await outbox.markPublished([]);
    expect((await outbox.unpublished(10)).map((m) => m.seq)).toEqual([before[0]]);
    expect((await outbox.all()).at(-1)?.publishedAt).toEqual(at(10));
  });

  it("prunes messages published before a time, but keeps those of the newest release announced", async () => {
    await outbox.add([message(3, { key: "newest/queued" })], at(11));
    const newest = (await outbox.all()).at(-1)?.seq as number;
    await outbox.markPublished([newest], at(11));
    const published = (await outbox.all()).filter((m) => m.publishedAt !== null).length;
    expect(await outbox.prunePublished(at(10))).toBe(0);
    expect(await outbox.prunePublished(at(20))).toBe(published - 1);
    const left = await outbox.all();
    expect(left.map((m) => m.key)).toContain("newest/queued");
    expect(left.filter((m) => m.publishedAt === null)).toHaveLength(1);
    expect(await outbox.lastAnnouncedReleaseSeq()).toBe(3);
  });

  it("reads releases after a seq and by id (over more ids than one statement binds), in queue order", async () => {
    const made = await queue(3);
    const [first, second, third] = made as [ReleaseRecord, ReleaseRecord, ReleaseRecord];
    expect(await outbox.lastReleaseSeq()).toBe(third.seq);
    expect(await outbox.releasesAfter(first.seq, 10)).toEqual([announced(second), announced(third)]);
    expect(await outbox.releasesAfter(first.seq, 1)).toEqual([announced(second)]);
    expect(await outbox.releasesAfter(third.seq, 10)).toEqual([]);
    const ids = [third.id, ...Array.from({ length: 1500 }, (_, i) => `absent-${i}`), first.id, third.id];
    expect(await outbox.releasesByIds(ids)).toEqual([announced(first), announced(third)]);
  });
});
