// Retention against real SQLite and PostgreSQL: what goes, what stays, and what goes with it.
import pg from "pg";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseArtifact } from "../../src/domain/artifact.js";
import { loadConfig } from "../../src/config.js";
import { PRUNE_RUN_NAME, pruneArtifacts, startPruneSchedule } from "../../src/flow/prune.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { parseDatabaseUrl } from "../../src/store/databaseUrl.js";
import { chunksFor, fromStamp, stamp } from "../../src/store/store.js";
import { PruneRepository } from "../../src/store/pruneRepository.js";
import { ScheduleRunRepository } from "../../src/store/scheduleRunRepository.js";
import { WaiverRepository } from "../../src/store/waiverRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { countRows } from "../support/rows.js";

const DAY = 86_400;
const RETENTION = 180 * DAY;
let counter = 0;

describe.each(testProviders)("prune on %s", (provider) => {
  let database: TestDatabase;
  let artifacts: ArtifactRepository;
  let store: PruneRepository;

  beforeEach(async () => {
    database = await freshDatabase(provider);
    artifacts = new ArtifactRepository(database.db);
    store = new PruneRepository(database.db);
  });
  afterEach(async () => {
    await database.dispose();
  });

  const count = (table: Parameters<typeof countRows>[1], where?: Parameters<typeof countRows>[2]) => countRows(database.db, table, where);

  /** Stores `n` artifacts created `ageDays` ago (one koji build each); returns their ids. */
  async function stored(n: number, ageDays: number): Promise<string[]> {
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: n }, async () => {
        const parsed = parseArtifact(sampleArtifact({ id: `prune-${provider}-${++counter}` }));
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
        expect((await artifacts.ingest(parsed.value)).status).toBe("created");
        ids.push(parsed.value.id);
      }),
    );
    // The store stamps createdAt at ingest; age is what retention reads, so set it.
    // Cut under the bind limit: the ids plus the date.
    for (const chunk of chunksFor(ids, 2)) {
      await database.db.transaction((tx) =>
        tx
          .updateTable("Artifact")
          .set({ createdAt: stamp(new Date(Date.now() - ageDays * DAY * 1000)) })
          .where("id", "in", chunk)
          .execute(),
      );
    }
    return ids;
  }

  async function release(artifactId: string): Promise<void> {
    const now = new Date();
    const n = ++counter;
    await database.db.transaction((tx) =>
      tx
        .insertInto("Release")
        .values({
        id: `rel-${provider}-${n}`,
        artifactId,
        environment: "f41-updates-candidate",
        repository: "file:///tmp/gitops.git",
        branch: "main",
        package: "python-requests",
        trigger: "user:alice",
        createdBy: "alice",
        status: "pushed",
        createdAt: stamp(now),
        updatedAt: stamp(now),
        })
        .execute(),
    );
  }

  async function decide(artifactId: string): Promise<void> {
    await database.db.transaction((tx) =>
      tx.insertInto("Decision").values({ artifactId, policy: "f41-auto", event: "artifact", fired: 0, reason: "required result missing", createdAt: stamp(new Date()) }).execute(),
    );
  }

  async function appendResult(artifactId: string): Promise<void> {
    const outcome = await artifacts.appendResults(artifactId, [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED" }], 100);
    expect(outcome.status).toBe("appended");
  }

  async function remainingIds(): Promise<string[]> {
    return (await database.db.read((tx) => tx.selectFrom("Artifact").select("id").orderBy("seq", "asc").execute())).map((a) => a.id).sort();
  }

  async function rowCounts() {
    return {
      artifacts: await count("Artifact"),
      builds: await count("ArtifactBuild"),
      results: await count("ArtifactResult"),
      decisions: await count("Decision"),
      releases: await count("Release"),
    };
  }

  it("deletes old unreferenced artifacts with their builds, results and decisions; keeps referenced and young ones", async () => {
    const old = await stored(3, 200);
    const referenced = await stored(2, 400);
    const young = await stored(2, 10);
    for (const id of [...old, ...referenced]) await decide(id);
    await appendResult(old[0] as string);
    await appendResult(referenced[0] as string);
    for (const id of referenced) await release(id);
    const waivers = new WaiverRepository(database.db);
    for (const id of [old[0], referenced[0]] as string[]) {
      await waivers.create({ artifactId: id, nvr: null, testcase: "dist.rpmdeplint", waived: true, comment: "ok", username: "alice", source: "api", messageId: null, waivedAt: new Date(0) });
    }

    const report = await pruneArtifacts({ store }, { olderThanSeconds: RETENTION, dryRun: false });

    expect(report).toMatchObject({ dryRun: false, artifacts: 3, builds: 3, results: 1, decisions: 3, referencedKept: 2 });
    expect(await remainingIds()).toEqual([...referenced, ...young].sort());
    // What belonged to the deleted artifacts is gone; the kept ones keep theirs.
    expect(await count("ArtifactBuild", { column: "artifactId", in: old })).toBe(0);
    expect(await count("ArtifactResult", { column: "artifactId", in: old })).toBe(0);
    expect(await count("Decision", { column: "artifactId", in: old })).toBe(0);
    // A waiver made on a deleted artifact must not pass to one pushed later under its id.
    expect(await count("Waiver", { column: "artifactId", in: old })).toBe(0);
    expect(await count("Waiver", { column: "artifactId", in: [referenced[0] as string] })).toBe(1);
    expect(await rowCounts()).toEqual({ artifacts: 4, builds: 4, results: 1, decisions: 2, releases: 2 });
    expect((await artifacts.get(referenced[0] as string))?.results).toHaveLength(1);
  });

  it("a dry run lists and counts what would go and deletes nothing", async () => {
    const old = await stored(3, 181);
    const referenced = await stored(1, 181);
    await stored(1, 179);
    await decide(old[1] as string);
    await release(referenced[0] as string);
    const before = await rowCounts();

    const listed: string[] = [];
    const dry = await pruneArtifacts({ store }, { olderThanSeconds: RETENTION, dryRun: true, onArtifact: (a) => listed.push(a.id) });

    expect(dry).toMatchObject({ dryRun: true, artifacts: 3, builds: 3, results: 0, decisions: 1, referencedKept: 1 });
    expect(listed.sort()).toEqual([...old].sort());
    expect(await rowCounts()).toEqual(before);

    // The real run deletes exactly what the dry run announced.
    const real = await pruneArtifacts({ store }, { olderThanSeconds: RETENTION, dryRun: false });
    expect({ ...real, dryRun: true, cutoff: dry.cutoff }).toEqual(dry);
  });

  it("never deletes an artifact a release came to reference after it was listed", async () => {
    const old = await stored(2, 365);
    const [late, other] = old as [string, string];
    await decide(late);
    const listed = await store.unreferencedBefore(new Date(Date.now() - RETENTION * 1000), 0, 10);
    expect(listed.map((a) => a.id).sort()).toEqual([...old].sort());

    await release(late);
    const counts = await store.deleteUnreferenced(listed.map((a) => a.id));

    expect(counts).toEqual({ artifacts: 1, builds: 1, results: 0, decisions: 0 });
    expect(await remainingIds()).toEqual([late]);
    expect(await count("ArtifactBuild", { column: "artifactId", in: [late] })).toBe(1);
    expect(await count("Decision", { column: "artifactId", in: [late] })).toBe(1);
    expect(await count("Artifact", { column: "id", in: [other] })).toBe(0);
  });

  it("deletes more artifacts than one statement may bind (SQLite's 999 parameters) in chunks", async () => {
    const old = await stored(1100, 200);
    const keep = old.slice(0, 3);
    for (const id of keep) await release(id);

    // One page bigger than the bind limit: the store, not the caller, must cut it.
    const dry = await pruneArtifacts({ store }, { olderThanSeconds: RETENTION, dryRun: true, pageSize: 2000 });
    expect(dry).toMatchObject({ artifacts: 1097, builds: 1097, referencedKept: 3 });
    const real = await pruneArtifacts({ store }, { olderThanSeconds: RETENTION, dryRun: false, pageSize: 2000 });
    expect(real).toMatchObject({ artifacts: 1097, builds: 1097, referencedKept: 3 });
    expect(await remainingIds()).toEqual([...keep].sort());
  }, 120_000);

  // PostgreSQL only (row locks); registered only there, so a skipped test means a missing service.
  if (provider === "postgresql") it("keeps an artifact whose release another connection is committing while the prune runs", async () => {
    const [contested, free] = (await stored(2, 300)) as [string, string];
    await decide(contested);
    // A second server's transaction, open across the prune: it has inserted a release for
    // `contested` (so it holds the foreign-key lock on that artifact) but not committed yet.
    const other = new pg.Client({ connectionString: parseDatabaseUrl(database.url).location, options: `-c search_path="${parseDatabaseUrl(database.url).schema}"` });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query(
        `INSERT INTO "Release" ("id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "status", "createdAt", "updatedAt")
         VALUES ($1, $2, 'f41-updates-candidate', 'file:///tmp/gitops.git', 'main', 'python-requests', 'user:bob', 'bob', 'queued', now(), now())`,
        [`rel-concurrent-${++counter}`, contested],
      );
      const pruning = store.deleteUnreferenced([contested, free]);
      // The prune must wait for (or retry after) that transaction; commit it while the prune is under way.
      await new Promise((r) => setTimeout(r, 300));
      await other.query("COMMIT");
      const counts = await pruning;
      expect(counts).toEqual({ artifacts: 1, builds: 1, results: 0, decisions: 0 });
    } finally {
      await other.end();
    }
    expect(await remainingIds()).toEqual([contested]);
    expect(await count("ArtifactBuild", { column: "artifactId", in: [contested] })).toBe(1);
    expect(await count("Decision", { column: "artifactId", in: [contested] })).toBe(1);
    expect(await count("Release", { column: "artifactId", in: [contested] })).toBe(1);
  });
});

describe("scheduled prune", () => {
  it("reads RELENGD_PRUNE_SCHEDULE and RELENGD_PRUNE_OLDER_THAN, and refuses what it cannot run", () => {
    expect(loadConfig({}).prune).toBeUndefined();
    expect(loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 3 * * *" }).prune).toEqual({ schedule: "0 3 * * *", olderThanSeconds: 180 * DAY });
    expect(loadConfig({ RELENGD_PRUNE_SCHEDULE: "30 2 * * 0", RELENGD_PRUNE_OLDER_THAN: "26w" }).prune).toEqual({ schedule: "30 2 * * 0", olderThanSeconds: 26 * 7 * DAY });
    expect(() => loadConfig({ RELENGD_PRUNE_SCHEDULE: "every night" })).toThrow(/RELENGD_PRUNE_SCHEDULE/);
    expect(() => loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 3 * * *", RELENGD_PRUNE_OLDER_THAN: "6 months" })).toThrow(/RELENGD_PRUNE_OLDER_THAN/);
  });

  it.each(testProviders)("runs once per slot across two replicas on %s", async (provider) => {
    const database = await freshDatabase(provider);
    const store = database.db;
    const logger = pino({ level: "silent" });
    const schedules: { stop(): Promise<void> }[] = [];
    try {
      const artifacts = new ArtifactRepository(database.db);
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const parsed = parseArtifact(sampleArtifact({ id: `prune-schedule-${provider}-${++counter}` }));
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
        await artifacts.ingest(parsed.value);
        ids.push(parsed.value.id);
      }
      await store.transaction((tx) =>
        tx
          .updateTable("Artifact")
          .set({ createdAt: stamp(new Date(Date.now() - 365 * DAY * 1000)) })
          .where("id", "in", ids)
          .execute(),
      );
      // Two replicas ticking every second (a timer faster than the schedule's own; the slot is the
      // schedule's minute either way): only one may run a given minute.
      const everySecond = (_schedule: unknown, _name: string, tick: () => void) => {
        const timer = setInterval(tick, 1000);
        return { stop: () => clearInterval(timer) };
      };
      for (let r = 0; r < 2; r++) {
        schedules.push(
          startPruneSchedule(
            { store: new PruneRepository(store), runs: new ScheduleRunRepository(store), logger, startTimer: everySecond },
            { schedule: "* * * * *", olderThanSeconds: RETENTION },
          ),
        );
      }
      const deadline = Date.now() + 20_000;
      const finished = () =>
        store.read((tx) => tx.selectFrom("ScheduleRun").select("id").where("policy", "=", PRUNE_RUN_NAME).where("finishedAt", "is not", null).execute());
      while ((await finished()).length === 0) {
        if (Date.now() > deadline) throw new Error("no scheduled prune finished within 20 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      // Ticks keep coming for a while: still one run per minute, and the artifacts went once.
      await new Promise((r) => setTimeout(r, 2500));
      for (const s of schedules.splice(0)) await s.stop();
      const runs = await store.read((tx) => tx.selectFrom("ScheduleRun").select(["slot", "summary"]).where("policy", "=", PRUNE_RUN_NAME).orderBy("slot", "asc").execute());
      const minutes = runs.map((r) => fromStamp(r.slot).getTime());
      expect(new Set(minutes).size).toBe(runs.length);
      expect(minutes.every((m) => m % 60_000 === 0)).toBe(true);
      expect(runs.map((r) => r.summary).filter((s) => s?.startsWith("deleted 2 artifact(s)"))).toHaveLength(1);
      expect(await countRows(store, "Artifact")).toBe(0);
    } finally {
      for (const s of schedules) await s.stop();
      await database.dispose();
    }
  }, 40_000);
});
