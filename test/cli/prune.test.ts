// `relengd prune` as an operator runs it on the server's host: real process, real database.
import { stamp } from "../../src/store/store.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { runRelengd } from "../support/cliProcess.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { cleanEnv } from "../support/serverProcess.js";

const DAY_MS = 86_400_000;

describe.each(testProviders)("relengd prune on %s", (provider) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const old: string[] = [];
  let referenced: string;
  let young: string;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    dataDir = mkdtempSync(path.join(tmpdir(), "relengd-prune-cli-"));
    env = { ...cleanEnv(), RELENGD_DATABASE_URL: database.url, RELENGD_DATA_DIR: dataDir };
    const artifacts = new ArtifactRepository(database.db);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const parsed = parseArtifact(sampleArtifact({ id: `prune-cli-${provider}-${i}` }));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      await artifacts.ingest(parsed.value);
      ids.push(parsed.value.id);
    }
    [referenced, young] = ids.slice(2) as [string, string];
    old.push(...ids.slice(0, 2));
    await database.db.transaction((tx) =>
      tx
        .updateTable("Artifact")
        .set({ createdAt: stamp(new Date(Date.now() - 200 * DAY_MS)) })
        .where("id", "in", [...old, referenced])
        .execute(),
    );
    const now = stamp(new Date());
    await database.db.transaction((tx) =>
      tx.insertInto("Release").values({
        id: `rel-prune-cli-${provider}`,
        artifactId: referenced,
        environment: "f41-updates-candidate",
        repository: "file:///tmp/gitops.git",
        branch: "main",
        package: "python-requests",
        trigger: "rollback",
        createdBy: "alice",
        status: "pushed",
        createdAt: now,
        updatedAt: now,
      }).execute(),
    );
  }, 60_000);

  afterAll(async () => {
    await database?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const remaining = async () => (await database.db.read((tx) => tx.selectFrom("Artifact").select("id").execute())).map((a) => a.id).sort();

  it("--dry-run lists the old unreferenced artifacts, counts them and deletes nothing", async () => {
    const run = await runRelengd(["prune", "--older-than", "180d", "--dry-run"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1).map((l) => l.split(/\s+/)[0]).sort()).toEqual([...old].sort());
    expect(lines.at(-1)).toMatch(/^would delete 2 artifact\(s\) created before \S+ \(2 build\(s\), 0 result\(s\), 0 decision\(s\)\); kept 1 older artifact\(s\) that releases reference$/);
    expect(await remaining()).toEqual([...old, referenced, young].sort());
  }, 60_000);

  // The option is checked before the database is opened: once is enough. Registered only there,
  // so that a skipped test always means a missing service.
  if (provider === "sqlite") it("a --older-than that is not a duration is a usage error, and nothing is deleted", async () => {
    for (const bad of ["6 months", "0d"]) {
      const run = await runRelengd(["prune", "--older-than", bad], env);
      expect(run.code, bad).toBe(2);
      expect(run.stderr, bad).toMatch(/--older-than/);
    }
    const missing = await runRelengd(["prune"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--older-than/);
    expect(await remaining()).toEqual([...old, referenced, young].sort());
  }, 60_000);

  it("deletes the old unreferenced artifacts and prints the counts (JSON on request)", async () => {
    const run = await runRelengd(["prune", "--older-than", "26w", "--output", "json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, artifacts: 2, builds: 2, results: 0, decisions: 0, referencedKept: 1, cutoff: expect.any(String) });
    expect(await remaining()).toEqual([referenced, young].sort());

    // Nothing left to go: a second run deletes nothing.
    const again = await runRelengd(["prune", "--older-than", "180d"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^deleted 0 artifact\(s\) .*kept 1 older artifact\(s\) that releases reference\n$/);
  }, 60_000);
});
