// Listing artifacts by NVR when more artifacts carry the NVR than one statement can bind: every
// one of them is listed, newest first, filters and the cursor applied, on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { ArtifactRepository, type ArtifactQuery } from "../../src/store/artifactRepository.js";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const NVR = "python-shared-1.0-1.fc41";
// Beyond one statement's binds, and beyond the 10,000 ids an earlier version silently stopped at
// would take too long to store here; past the bind limit is what broke.
const CARRIERS = MAX_BIND_PARAMETERS + 201;

describe.each(testProviders)("artifact list by NVR on %s", (provider) => {
  let t: TestDatabase;
  let repo: ArtifactRepository;
  /** Every artifact carrying NVR, in the order they were stored. */
  const carriers: Artifact[] = [];

  beforeAll(async () => {
    t = await freshDatabase(provider);
    repo = new ArtifactRepository(t.db);
    for (let i = 0; i < CARRIERS; i++) {
      const input = sampleArtifact({
        id: `nvr-carrier-${i}`,
        package: "python-shared",
        // Every other one on another branch, so a filter halves the set.
        source: { repo: "https://src.fedoraproject.org/rpms/python-shared.git", sha: "abcdef1234", branch: i % 2 === 0 ? "f41" : "rawhide", event: "build" },
        items: [{ kind: "koji-build", nvr: NVR }],
      });
      const parsed = parseArtifact(input);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      carriers.push(parsed.value);
    }
    // The group commit takes them in batches, as concurrent pushes would arrive.
    const outcomes = await Promise.all(carriers.map((a) => repo.ingest(a)));
    expect(outcomes.filter((o) => o.status === "created")).toHaveLength(CARRIERS);
    // One that does not carry it, to be left out.
    const other = parseArtifact(sampleArtifact({ id: "not-a-carrier", package: "python-shared", items: [{ kind: "koji-build", nvr: "python-shared-1.0-2.fc41" }] }));
    if (!other.ok) throw new Error("sample artifact invalid");
    await repo.ingest(other.value);
  }, 120_000);
  afterAll(async () => t?.dispose());

  async function everyPage(query: Omit<ArtifactQuery, "limit" | "cursor">): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await repo.list({ ...query, limit: 500, ...(cursor ? { cursor } : {}) });
      ids.push(...page.items.map((i) => i.artifact.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }

  it("lists every artifact carrying the NVR, newest first, across pages", async () => {
    const ids = await everyPage({ nvr: NVR });
    expect(ids).toHaveLength(CARRIERS);
    expect(new Set(ids).size).toBe(CARRIERS);
    expect(ids).not.toContain("not-a-carrier");
    // Stored in one group commit or several: the store's order is what counts, so check it against seq via a plain listing.
    const all = await everyPage({ package: "python-shared" });
    expect(ids).toEqual(all.filter((id) => id !== "not-a-carrier"));
  });

  it("applies the other filters together with the NVR", async () => {
    const onF41 = await everyPage({ nvr: NVR, branch: "f41" });
    expect(onF41).toHaveLength(Math.ceil(CARRIERS / 2));
    expect(onF41.every((id) => Number(id.split("-").at(-1)) % 2 === 0)).toBe(true);
    expect(await everyPage({ nvr: NVR, package: "kernel" })).toEqual([]);
    expect(await everyPage({ nvr: NVR, until: new Date(0) })).toEqual([]);
    expect(await everyPage({ nvr: NVR, since: new Date(0), release: "f41", event: "build", sha: "abcdef1234" })).toHaveLength(CARRIERS);
  });
});
