// Step supersede: of one package's releases to one Koji tag, only the one whose build should end up there is written.
import { describe, expect, it } from "vitest";
import type { Artifact } from "../../../src/domain/artifact.js";
import { emptyResult, type BatchItem } from "../../../src/gitops/steps/batch.js";
import { supersede, type SupersedeDeps } from "../../../src/gitops/steps/supersede.js";
import type { ReleaseRecord } from "../../../src/store/releaseRepository.js";
import { queuedRelease, rawhideArtifact, shippedEnvironments } from "../../support/writerFixtures.js";

const envs = shippedEnvironments();

function deps(rivals: ReleaseRecord[], stored: Artifact[]) {
  const superseded: { id: string; by: string }[][] = [];
  const artifactReads: string[][] = [];
  const d: SupersedeDeps = {
    releases: {
      tagContenders: async (pairs, sinceSeq) => rivals.filter((r) => r.seq >= sinceSeq && pairs.some((p) => p.environment === r.environment && p.package === r.package)),
      markSuperseded: async (items) => void superseded.push(items),
    },
    artifacts: {
      getMany: async (ids) => {
        artifactReads.push(ids);
        return new Map(stored.filter((a) => ids.includes(a.id)).map((a) => [a.id, a]));
      },
    },
    environments: envs,
  };
  return { d, superseded, artifactReads };
}

const item = (release: ReleaseRecord, artifact: Artifact): BatchItem => ({ release, artifact });

describe("supersede", () => {
  it("leaves a batch without Koji tag releases alone, asking the store nothing", async () => {
    const a = rawhideArtifact("bash", "5.2");
    const batch = [item(queuedRelease(a, { environment: "f44-updates-testing" }), a)];
    const { d, superseded, artifactReads } = deps([], []);
    expect(await supersede(d, batch, emptyResult("gitops"))).toBe(batch);
    expect({ superseded, artifactReads }).toEqual({ superseded: [], artifactReads: [] });
  });

  it("writes only the newest build of a package in the batch, recording the others superseded by it", async () => {
    const older = rawhideArtifact("bash", "5.2");
    const newer = rawhideArtifact("bash", "5.3");
    const other = rawhideArtifact("zsh", "5.9");
    const r1 = queuedRelease(newer);
    const r2 = queuedRelease(older);
    const r3 = queuedRelease(other);
    const { d, superseded, artifactReads } = deps([r1, r2, r3], []);
    const result = emptyResult("gitops");
    const live = await supersede(d, [item(r1, newer), item(r2, older), item(r3, other)], result);
    expect(live.map((i) => i.release.id)).toEqual([r1.id, r3.id]);
    expect(superseded).toEqual([[{ id: r2.id, by: r1.id }]]);
    expect(result.superseded).toEqual([r2.id]);
    // Every rival was in the batch: no artifact read.
    expect(artifactReads).toEqual([]);
  });

  it("supersedes an older build by a newer one pushed meanwhile outside the batch, reading that one's artifact", async () => {
    const older = rawhideArtifact("bash", "5.2");
    const newer = rawhideArtifact("bash", "5.3");
    const held = queuedRelease(older);
    const pushed = queuedRelease(newer, { status: "pushed" });
    const { d, superseded, artifactReads } = deps([held, pushed], [newer]);
    expect(await supersede(d, [item(held, older)], emptyResult("gitops"))).toEqual([]);
    expect(superseded).toEqual([[{ id: held.id, by: pushed.id }]]);
    expect(artifactReads).toEqual([[newer.id]]);
  });

  it("lets a later rollback of an older build win over the newer one", async () => {
    const older = rawhideArtifact("bash", "5.2");
    const newer = rawhideArtifact("bash", "5.3");
    const first = queuedRelease(newer);
    const rollback = queuedRelease(older, { trigger: "rollback" });
    const { d, superseded } = deps([first, rollback], []);
    const live = await supersede(d, [item(first, newer), item(rollback, older)], emptyResult("gitops"));
    expect(live.map((i) => i.release.id)).toEqual([rollback.id]);
    expect(superseded).toEqual([[{ id: first.id, by: rollback.id }]]);
  });
});
