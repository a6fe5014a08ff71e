// The push story: validated, stored, decided on by the policies (releases queued, decisions
// recorded) in one transaction shared by concurrent pushes; the writer told after the commit.
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import type { Principal } from "../../src/domain/token.js";
import { pushArtifact, pushQueue, type PushDeps, type StoreArtifactsDeps } from "../../src/flow/pushArtifact.js";
import { PolicyHolder } from "../../src/policy/loader.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { DecisionRepository, type NewDecision } from "../../src/store/decisionRepository.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import type { Tx } from "../../src/store/store.js";
import { WaiverRepository } from "../../src/store/waiverRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const CI: Principal = { subject: "ci", role: "ci", tokenId: "t-ci" };

function artifactOf(input: ArtifactInput): Artifact {
  const parsed = parseArtifact(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** A Rawhide build whose push carries tier-0 PASSED: the shipped rawhide-auto policy fires. */
const rawhideBuild = (pkg: string) => artifactOf(sampleArtifact({ package: pkg, release: "rawhide", source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: "rawhide", event: "build" } }));

/** Decisions that cannot be recorded for one artifact: its evaluation fails. */
class FailingFor extends DecisionRepository {
  failing = new Set<string>();
  override async recordIn(tx: Tx, decisions: readonly NewDecision[], now?: Date): Promise<void> {
    const bad = decisions.find((d) => this.failing.has(d.artifactId));
    if (bad) throw new Error(`cannot record a decision about ${bad.artifactId}`);
    await super.recordIn(tx, decisions, now);
  }
}

describe.each(testProviders)("pushArtifact on %s", (provider) => {
  let database: TestDatabase;
  let deps: StoreArtifactsDeps & { decisions: FailingFor };
  let push: PushDeps;
  let notified: { repository: string; releases: string[] }[];
  let decided: NewDecision[];

  beforeEach(async () => {
    database = await freshDatabase(provider);
    const store = database.db;
    const releases = new ReleaseRepository(store);
    notified = [];
    decided = [];
    const policies = new PolicyHolder(POLICIES, "file:///nowhere/gitops.git");
    deps = {
      store,
      artifacts: new ArtifactRepository(store),
      releases,
      decisions: new FailingFor(store),
      waivers: new WaiverRepository(store),
      policies: () => policies.get(),
      // What the writer would find when told: the commit is done by then.
      notify: (repository) => {
        void releases.list({ limit: 100 }).then((page) => notified.push({ repository, releases: page.items.map((r) => r.id) }));
      },
      decided: (list) => decided.push(...list),
    };
    push = { pushes: pushQueue(deps), rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } };
  });
  afterEach(async () => {
    await database.dispose();
  });

  it("stores an artifact that fires rawhide-auto with its release and decision, and tells the writer after the commit", async () => {
    const artifact = rawhideBuild("glibc");
    const outcome = await pushArtifact(push, CI, artifact);
    expect(outcome).toMatchObject({ status: "created", id: artifact.id });

    expect((await deps.artifacts.get(artifact.id))?.artifact).toEqual(artifact);
    const releases = (await deps.releases.list({ artifactId: artifact.id, limit: 10 })).items;
    expect(releases).toMatchObject([{ environment: "rawhide", trigger: "policy/rawhide-auto", status: "queued", package: "glibc" }]);
    const decisions = await deps.decisions.forArtifact(artifact.id);
    expect(decisions.find((d) => d.policy === "rawhide-auto")).toMatchObject({ fired: true, releaseId: releases[0]?.id, event: "artifact" });
    expect(decided.find((d) => d.policy === "rawhide-auto")).toMatchObject({ fired: true, releaseId: releases[0]?.id });
    await expect.poll(() => notified.length).toBe(1);
    expect(notified[0]).toEqual({ repository: releases[0]?.repository, releases: [releases[0]?.id] });
  });

  it("answers a re-push of the same body unchanged and deciding nothing again", async () => {
    const artifact = rawhideBuild("bash");
    await pushArtifact(push, CI, artifact);
    const before = (await deps.decisions.forArtifact(artifact.id)).length;
    expect(await pushArtifact(push, CI, artifact)).toMatchObject({ status: "unchanged", id: artifact.id });
    expect(await deps.decisions.forArtifact(artifact.id)).toHaveLength(before);
    expect((await deps.releases.list({ artifactId: artifact.id, limit: 10 })).items).toHaveLength(1);
  });

  it("rolls the artifact back with its evaluation when the policies' decisions cannot be recorded", async () => {
    const artifact = rawhideBuild("kernel");
    deps.decisions.failing.add(artifact.id);
    await expect(pushArtifact(push, CI, artifact)).rejects.toThrow(/cannot record a decision/);
    expect(await deps.artifacts.get(artifact.id)).toBeNull();
    expect((await deps.releases.list({ artifactId: artifact.id, limit: 10 })).items).toEqual([]);
    expect(notified).toEqual([]);
  });

  it("stores concurrent pushes together, and one conflicting or failing push does not fail the others", async () => {
    const stored = rawhideBuild("zlib");
    await pushArtifact(push, CI, stored);
    const conflicting = { ...stored, context: { CI_PIPELINE_ID: "another body" } };
    const failing = rawhideBuild("openssl");
    deps.decisions.failing.add(failing.id);
    const good = ["curl", "vim", "git"].map(rawhideBuild);
    const outcomes = await Promise.allSettled([conflicting, failing, ...good].map((a) => pushArtifact(push, CI, a)));
    expect(outcomes[0]).toMatchObject({ status: "fulfilled", value: { status: "conflict", id: stored.id } });
    expect(outcomes[1]).toMatchObject({ status: "rejected" });
    for (const [i, a] of good.entries()) {
      expect(outcomes[i + 2]).toMatchObject({ status: "fulfilled", value: { status: "created", id: a.id } });
      expect((await deps.releases.list({ artifactId: a.id, limit: 10 })).items).toMatchObject([{ trigger: "policy/rawhide-auto" }]);
    }
    expect(await deps.artifacts.get(failing.id)).toBeNull();
  });

  it("answers the same artifact pushed again while its first batch is still being written unchanged, and stores its neighbours", async () => {
    // On PostgreSQL the second batch starts on another connection before the first commits: the
    // one that meets the other's uncommitted row waits for it, then reads it as already stored.
    // Either may get its row in first (a new connection takes a while): one push created it.
    const first = rawhideBuild("bzip2");
    const firstPush = pushArtifact(push, CI, first);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Enough of them waiting that the second batch does not wait for the first (POSTGRES_EXTRA_BATCH_AFTER).
    const neighbours = ["xz", "lz4", "zstd", "brotli"].map(rawhideBuild);
    const [again, ...others] = await Promise.all([pushArtifact(push, CI, first), ...neighbours.map((a) => pushArtifact(push, CI, a))]);
    expect([(await firstPush).status, again?.status].sort()).toEqual(["created", "unchanged"]);
    expect(again).toMatchObject({ id: first.id });
    expect(others).toMatchObject(neighbours.map((a) => ({ status: "created", id: a.id })));
    for (const a of [first, ...neighbours]) expect((await deps.releases.list({ artifactId: a.id, limit: 10 })).items).toMatchObject([{ trigger: "policy/rawhide-auto" }]);
  });

  it("refuses what the token may not push, and what breaks an ingest rule, storing nothing", async () => {
    const artifact = rawhideBuild("systemd");
    expect(await pushArtifact(push, { ...CI, role: "reader" }, artifact)).toMatchObject({ status: "forbidden" });
    expect(await pushArtifact(push, { ...CI, packages: ["glibc"] }, artifact)).toMatchObject({ status: "forbidden" });
    // A Rawhide build with another release's dist tag.
    const mislabelled = artifactOf(sampleArtifact({ package: "systemd", release: "f41", items: [{ kind: "koji-build", nvr: "systemd-257-1.fc45", buildId: 1, taskId: 2, target: "f41-candidate", owner: "packager" }] }));
    expect(await pushArtifact(push, CI, mislabelled)).toMatchObject({ status: "rule-broken" });
    expect(await deps.artifacts.get(artifact.id)).toBeNull();
    expect(await deps.artifacts.get(mislabelled.id)).toBeNull();
  });
});

describe("pushArtifact on sqlite, while a log sync runs", () => {
  it("writes the next pushes during the previous batch's sync (one sync covers both), answering each only after a sync that began after its commit", async () => {
    let syncs = 0;
    const gates: (() => void)[] = [];
    const database = await freshDatabase("sqlite", {
      syncWal: () => async () => {
        syncs += 1;
        await new Promise<void>((resolve) => gates.push(resolve));
      },
    });
    try {
      const store = database.db;
      const releases = new ReleaseRepository(store);
      const policies = new PolicyHolder(POLICIES, "file:///nowhere/gitops.git");
      const deps: StoreArtifactsDeps = {
        store,
        artifacts: new ArtifactRepository(store),
        releases,
        decisions: new DecisionRepository(store),
        waivers: new WaiverRepository(store),
        policies: () => policies.get(),
        notify: () => undefined,
      };
      const push: PushDeps = { pushes: pushQueue(deps), rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } };
      const answered: string[] = [];
      const first = pushArtifact(push, CI, rawhideBuild("first")).then(() => answered.push("first"));
      const stored = async (pkg: string) => (await store.read((tx) => tx.selectFrom("Artifact").select("id").where("package", "=", pkg).execute())).length;
      for (let i = 0; i < 200 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(gates, "the first batch waits for its sync").toHaveLength(1);
      const second = pushArtifact(push, CI, rawhideBuild("second")).then(() => answered.push("second"));
      for (let i = 0; i < 200 && (await stored("second")) === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(await stored("second"), "committed while the first batch's sync runs").toBe(1);
      expect(answered, "neither answered before a sync").toEqual([]);
      gates.shift()?.();
      await first;
      // The second commit came after the first sync began: it needs a sync of its own.
      for (let i = 0; i < 200 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(answered).toEqual(["first"]);
      gates.shift()?.();
      await second;
      expect(answered).toEqual(["first", "second"]);
      expect(syncs).toBe(2);
    } finally {
      for (const open of gates) open();
      await database.dispose();
    }
  });
});
