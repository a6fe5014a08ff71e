// Step recheck: the write-time gate over a batch, one read of artifacts and holds, blocked ones recorded.
import { describe, expect, it } from "vitest";
import type { Artifact } from "../../../src/domain/artifact.js";
import { emptyResult } from "../../../src/gitops/steps/batch.js";
import { recheck, type RecheckDeps } from "../../../src/gitops/steps/recheck.js";
import type { HoldRecord } from "../../../src/store/releaseRepository.js";
import { queuedRelease, rawhideArtifact, rules, shippedEnvironments } from "../../support/writerFixtures.js";

const envs = shippedEnvironments();
const rawhide = envs.environments.get("rawhide");
if (!rawhide) throw new Error("the shipped environments lost rawhide");

function deps(artifacts: Artifact[], holds: Record<string, string> = {}, over: Partial<RecheckDeps> = {}) {
  const blocked: [string, string][] = [];
  const holdQueries: { environment: string; package: string }[][] = [];
  const d: RecheckDeps = {
    releases: {
      holdsOn: async (pairs) => {
        holdQueries.push(pairs);
        return new Map(Object.entries(holds).map(([key, reason]) => [key, { reason } as HoldRecord]));
      },
      markBlocked: async (id, reason) => void blocked.push([id, reason]),
    },
    artifacts: { getMany: async (ids) => new Map(artifacts.filter((a) => ids.includes(a.id)).map((a) => [a.id, a])) },
    environments: envs,
    rules,
    repository: "gitops",
    now: new Date("2026-11-25T12:00:00Z"),
    ...over,
  };
  return { d, blocked, holdQueries };
}

describe("recheck", () => {
  it("passes releases that still qualify on with their artifacts, in batch order", async () => {
    const a = rawhideArtifact("bash", "5.2");
    const b = rawhideArtifact("zsh", "5.9");
    const batch = [queuedRelease(a), queuedRelease(b)];
    const { d, blocked } = deps([a, b]);
    const result = emptyResult("gitops");
    expect(await recheck(d, batch, result)).toEqual([{ release: batch[0], artifact: a }, { release: batch[1], artifact: b }]);
    expect({ blocked, result: result.blocked }).toEqual({ blocked: [], result: [] });
  });

  it("blocks, with the gate's reason, releases held, frozen (by its clock), without their artifact or lacking what the document needs", async () => {
    const held = rawhideArtifact("bash", "5.2");
    const frozen = rawhideArtifact("zsh", "5.9");
    const gone = rawhideArtifact("vim", "9.1");
    const forced = rawhideArtifact("git", "2.47");
    const empty = { ...rawhideArtifact("tmux", "3.5"), items: [] };
    const freeze = { start: "2026-11-20T00:00:00Z", end: "2026-12-01T00:00:00Z", reason: "Final freeze", exceptions: { packages: ["bash", "git"], artifacts: [] } };
    const environments = { ...envs, environments: new Map([...envs.environments, ["rawhide", { ...rawhide, freezes: [freeze] }]]) };
    const batch = [queuedRelease(held), queuedRelease(frozen), queuedRelease(gone), queuedRelease(forced, { force: true, forceReason: "CVE" }), queuedRelease(empty)];
    const { d, blocked, holdQueries } = deps([held, frozen, forced, empty], { "rawhide\0bash": "broken deps", "rawhide\0git": "x" }, { environments });
    const result = emptyResult("gitops");
    const out = await recheck(d, batch, result);
    expect(out.map((i) => i.release.id)).toEqual([batch[3]?.id]);
    expect(blocked).toEqual([
      [batch[0]?.id, "rawhide/bash is held: broken deps"],
      [batch[1]?.id, "environment rawhide frozen until 2026-12-01 (Final freeze)"],
      [batch[2]?.id, `artifact ${gone.id} no longer exists`],
      [batch[4]?.id, `artifact ${empty.id} has no koji-build of package tmux to tag into f45`],
    ]);
    expect(result.blocked).toEqual(blocked.map(([id]) => id));
    // Holds are read once for the batch, and not for forced releases.
    expect(holdQueries).toEqual([[0, 1, 2, 4].map((i) => ({ environment: batch[i]?.environment, package: batch[i]?.package }))]);
    // The same batch after the freeze, by the clock the step is given.
    const later = deps([frozen], {}, { environments, now: new Date("2026-12-01T00:00:00Z") });
    expect((await recheck(later.d, [batch[1] ?? queuedRelease(frozen)], emptyResult("gitops"))).length).toBe(1);
  });

  it("blocks a release whose environment now writes to another repository", async () => {
    const a = rawhideArtifact("bash", "5.2");
    const { d, blocked } = deps([a], {}, { repository: "other" });
    await recheck(d, [queuedRelease(a)], emptyResult("other"));
    expect(blocked.map(([, reason]) => reason)).toEqual(["environment rawhide now writes to repository gitops"]);
  });
});
