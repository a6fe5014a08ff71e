// The release queue as metrics report it: per repository, what is not yet pushed and since when.
import { afterEach, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { ReleaseRepository, type NewRelease } from "../../src/store/releaseRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

describe.each(testProviders)("ReleaseRepository.queueStats on %s", (provider) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.dispose();
    database = undefined;
  });

  it("counts queued and committed releases per repository, with the oldest's time, and drops what is pushed", async () => {
    database = await freshDatabase(provider);
    const artifacts = new ArtifactRepository(database.db);
    const releases = new ReleaseRepository(database.db);
    const stored: Artifact[] = [];
    for (let i = 0; i < 3; i++) {
      const parsed = parseArtifact(sampleArtifact({ package: `queue-${i}` }));
      if (!parsed.ok) throw new Error("sample artifact does not parse");
      await artifacts.ingest(parsed.value);
      stored.push(parsed.value);
    }
    const release = (a: Artifact, repository: string): NewRelease => ({
      artifactId: a.id,
      environment: `env-${repository}`,
      repository,
      branch: "main",
      package: a.package,
      trigger: "user:test",
      createdBy: "user:test",
      force: false,
    });
    expect(await releases.queueStats()).toEqual([]);
    const before = Date.now();
    const first = await releases.enqueue(release(stored[0] as Artifact, "gitops"));
    await releases.enqueue(release(stored[1] as Artifact, "gitops"));
    await releases.enqueue(release(stored[2] as Artifact, "other"));
    if (first.status !== "queued") throw new Error(`not queued: ${first.status}`);

    const stats = new Map((await releases.queueStats()).map((s) => [s.repository, s]));
    expect(stats.get("gitops")?.depth).toBe(2);
    expect(stats.get("other")?.depth).toBe(1);
    expect(stats.get("gitops")?.oldest?.getTime()).toBe(first.release.createdAt.getTime());
    expect(stats.get("gitops")?.oldest?.getTime()).toBeGreaterThanOrEqual(before - 1000);

    await releases.markPushed([{ id: first.release.id, commitSha: "a".repeat(40) }]);
    expect((await releases.queueStats()).find((s) => s.repository === "gitops")?.depth).toBe(1);
  });
});
