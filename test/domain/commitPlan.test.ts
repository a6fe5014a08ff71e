// The commit plan: a batch of releases on a head becomes commits, without touching git.
import { describe, expect, it } from "vitest";
import { assignCommits, planCommits, renderReleases, type ReleaseToWrite } from "../../src/domain/commitPlan.js";
import { parseBulkCommitMessage } from "../../src/domain/commitMessages/bulk.js";
import { parseReleaseIds } from "../../src/domain/commitMessages/trailers.js";
import { rawhideArtifact, releaseId, shippedEnvironments } from "../support/writerFixtures.js";

const envs = shippedEnvironments();
let n = 0;

function write(pkg: string, version: string, over: Partial<ReleaseToWrite> & { trigger?: string; environment?: string } = {}) {
  const artifact = rawhideArtifact(pkg, version, `a-${pkg}-${version}-${++n}`);
  const release: ReleaseToWrite = {
    spec: { id: releaseId(n), artifactId: artifact.id, environment: over.environment ?? "rawhide", trigger: over.trigger ?? "policy/rawhide-auto", createdAt: new Date("2026-11-25T12:00:00Z") },
    bulk: over.bulk ?? false,
    explicit: over.explicit ?? false,
  };
  return { release, artifact };
}

const plan = (items: ReturnType<typeof write>[], current = new Map<string, string>()) => planCommits(renderReleases(items, envs.environments).rendered, current);

describe("renderReleases", () => {
  it("renders each release's document; leaves out a release whose environment is gone; refuses what cannot be rendered", () => {
    const ok = write("bash", "5.2");
    const gone = write("zsh", "5.9", { environment: "nowhere" });
    const empty = write("vim", "9.1");
    const r = renderReleases([ok, gone, { ...empty, artifact: { ...empty.artifact, items: [] } }], envs.environments);
    expect(r.rendered.map((x) => [x.release.spec.id, x.out.path])).toEqual([[ok.release.spec.id, "koji/tags/f45/bash.yaml"]]);
    expect(r.unrenderable).toEqual([{ id: empty.release.spec.id, reason: `cannot render: artifact ${empty.artifact.id} has no koji-build of package vim to tag into f45` }]);
  });
});

describe("planCommits", () => {
  it("makes one commit per release, in order, with the release's own message", () => {
    const a = write("bash", "5.2");
    const b = write("zsh", "5.9");
    const p = plan([a, b]);
    expect(p.commits.map((c) => c.files.map((f) => f.path))).toEqual([["koji/tags/f45/bash.yaml"], ["koji/tags/f45/zsh.yaml"]]);
    expect(p.commits.map((c) => parseReleaseIds(c.message))).toEqual([[a.release.spec.id], [b.release.spec.id]]);
    expect(p.releases).toEqual([{ id: a.release.spec.id, commit: 0 }, { id: b.release.spec.id, commit: 1 }]);
    expect(p.downgrades).toEqual([]);
  });

  it("makes no commit for a document the head already says (only the release id would differ)", () => {
    const first = write("bash", "5.2");
    const head = plan([first]);
    const again = { ...write("bash", "5.2"), artifact: first.artifact };
    const current = new Map(head.commits[0]?.files.map((f) => [f.path, f.content]));
    expect(plan([again], current)).toEqual({ commits: [], releases: [{ id: again.release.spec.id, commit: null }], downgrades: [] });
  });

  it("puts a later release saying the same as an earlier one of the batch in that one's commit", () => {
    const first = write("bash", "5.2");
    const twin = { ...write("bash", "5.2"), artifact: first.artifact };
    const p = plan([first, twin]);
    expect(p.commits).toHaveLength(1);
    expect(p.releases.map((r) => r.commit)).toEqual([0, 0]);
  });

  it("refuses to put an older build over a newer one, unless a person chose it", () => {
    const newer = write("bash", "5.3");
    const current = new Map(plan([newer]).commits[0]?.files.map((f) => [f.path, f.content]));
    const older = write("bash", "5.2");
    const refused = plan([older], current);
    expect(refused.commits).toEqual([]);
    expect(refused.releases).toEqual([]);
    expect(refused.downgrades).toEqual([{ id: older.release.spec.id, reason: expect.stringMatching(/^downgrade: bash-5\.2-1\.fc\d+ < bash-5\.3-1\.fc\d+$/) as string }]);
    const rollback = write("bash", "5.2", { explicit: true });
    expect(plan([rollback], current).commits).toHaveLength(1);
  });

  it("groups bulk releases next to each other with the same trigger into one commit listing every release", () => {
    const mass = { bulk: true, trigger: "user:mass-rebuild" };
    const a = write("bash", "5.2", mass);
    const b = write("zsh", "5.9", mass);
    const other = write("vim", "9.1", { bulk: true, trigger: "user:someone" });
    const single = write("git", "2.47");
    const c = write("tmux", "3.5", mass);
    const p = plan([a, b, other, single, c]);
    expect(p.commits.map((x) => x.files.length)).toEqual([2, 1, 1, 1]);
    expect(p.commits.map((x) => parseReleaseIds(x.message))).toEqual([[a.release.spec.id, b.release.spec.id], [other.release.spec.id], [single.release.spec.id], [c.release.spec.id]]);
    expect(p.releases.map((r) => r.commit)).toEqual([0, 0, 1, 2, 3]);
  });

  describe("with a backlog (coalesce)", () => {
    const coalesced = (items: ReturnType<typeof write>[], current = new Map<string, string>()) =>
      planCommits(renderReleases(items, envs.environments).rendered, current, { coalesce: true });

    it("puts a policy's releases next to each other in one commit listing every release; without a backlog, one commit each", () => {
      const items = ["bash", "zsh", "vim", "git"].map((pkg) => write(pkg, "1.0"));
      const p = coalesced(items);
      expect(p.commits).toHaveLength(1);
      expect(p.commits[0]?.files.map((f) => f.path)).toEqual(["bash", "zsh", "vim", "git"].map((pkg) => `koji/tags/f45/${pkg}.yaml`));
      expect(parseReleaseIds(p.commits[0]?.message ?? "")).toEqual(items.map((i) => i.release.spec.id));
      expect(parseBulkCommitMessage(p.commits[0]?.message ?? "")?.trigger).toBe("policy/rawhide-auto");
      expect(p.releases.map((r) => r.commit)).toEqual([0, 0, 0, 0]);
      expect(plan(items).commits).toHaveLength(4);
    });

    it("keeps a commit of its own for what a person made (ad hoc, rollback, forced), and splits where the trigger changes", () => {
      const a = write("bash", "1.0");
      const b = write("zsh", "1.0");
      const adHoc = write("vim", "1.0", { trigger: "user:alice" });
      const rollback = write("git", "1.0", { trigger: "rollback", explicit: true });
      const forced = write("tmux", "1.0", { explicit: true });
      const c = write("less", "1.0");
      const other = write("sed", "1.0", { trigger: "policy/other" });
      const d = write("gawk", "1.0", { trigger: "policy/other" });
      const p = coalesced([a, b, adHoc, rollback, forced, c, other, d]);
      expect(p.commits.map((x) => parseReleaseIds(x.message))).toEqual([
        [a.release.spec.id, b.release.spec.id],
        [adHoc.release.spec.id],
        [rollback.release.spec.id],
        [forced.release.spec.id],
        [c.release.spec.id],
        [other.release.spec.id, d.release.spec.id],
      ]);
      // A group of one keeps the release's own message, not a bulk one.
      expect(parseBulkCommitMessage(p.commits[4]?.message ?? "")).toBeUndefined();
      expect(p.commits[4]?.message).toBe(renderReleases([c], envs.environments).rendered[0]?.out.commitMessage);
    });

    it("still refuses downgrades and leaves out what the head already says; a package released twice ends at the later build", () => {
      const newer = write("bash", "5.3");
      const current = new Map(plan([newer]).commits[0]?.files.map((f) => [f.path, f.content]));
      const older = write("bash", "5.2");
      const same = { ...write("bash", "5.3"), artifact: newer.artifact };
      const first = write("zsh", "5.8");
      const second = write("zsh", "5.9");
      const p = coalesced([older, same, first, second], current);
      expect(p.downgrades.map((d) => d.id)).toEqual([older.release.spec.id]);
      expect(p.releases).toEqual([
        { id: same.release.spec.id, commit: null },
        { id: first.release.spec.id, commit: 0 },
        { id: second.release.spec.id, commit: 0 },
      ]);
      expect(p.commits).toHaveLength(1);
      expect(p.commits[0]?.files).toHaveLength(1);
      expect(p.commits[0]?.files[0]?.content).toContain("zsh-5.9-1");
    });
  });

  it("does not change the documents it was given", () => {
    const current = new Map<string, string>();
    plan([write("bash", "5.2")], current);
    expect(current.size).toBe(0);
  });
});

describe("assignCommits", () => {
  it("records each release with its commit, or the head for one the head already had", () => {
    const p = { commits: [], releases: [{ id: "a", commit: 0 }, { id: "b", commit: null }, { id: "c", commit: 1 }], downgrades: [] };
    expect(assignCommits(p, "h0", ["s1", "s2"])).toEqual([
      { id: "a", commitSha: "s1" },
      { id: "b", commitSha: "h0" },
      { id: "c", commitSha: "s2" },
    ]);
    expect(assignCommits({ ...p, releases: [{ id: "b", commit: null }] }, "h0", [])).toEqual([{ id: "b", commitSha: "h0" }]);
  });
});
