// Describing a release: its timeline from the record, the decision and the hold; its document and
// commit rendered as the writer commits them. Stores are in-memory stand-ins: the use case only reads.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { parseEnvironmentsYaml } from "../../src/domain/environment.js";
import { renderRelease, toReleaseSpec } from "../../src/domain/release.js";
import { TRAILER } from "../../src/domain/commitMessages/trailers.js";
import { describeReleaseDocument, describeReleaseTimeline, releaseTimeline, type DescribeReleaseDeps, type QueuingDecision } from "../../src/flow/describeRelease.js";
import type { EnvironmentSet } from "../../src/domain/environmentSet.js";
import type { HoldRecord, ReleaseRecord } from "../../src/store/releaseRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { queuedRelease } from "../support/writerFixtures.js";

const at = (minute: number) => new Date(Date.UTC(2025, 4, 1, 12, minute));

const base: ReleaseRecord = queuedRelease(
  { id: "a-1", package: "bash" },
  { seq: 1, id: "01JTESTRELEASE000000000000", trigger: "rollback", createdBy: "alice", force: true, forceReason: "bad build in the tag", createdAt: at(0), updatedAt: at(0) },
);

describe("release timeline from a record", () => {
  it("a rollback waiting for a retry: queued (forced), the hold it placed, the failed attempt and when the next one is", () => {
    const r = { ...base, attempts: 2, error: "remote unreachable", nextAttemptAt: at(9), updatedAt: at(5) };
    const hold = { id: "h", environment: "rawhide", package: "bash", reason: "rollback", createdBy: "alice", createdAt: at(0), releaseId: r.id };
    expect(releaseTimeline(r, { hold })).toEqual([
      { state: "queued", at: at(0).toISOString(), detail: "by rollback (alice); forced: bad build in the tag" },
      { state: "held", at: at(0).toISOString(), detail: "hold on rawhide/bash placed: rollback" },
      { state: "retrying", at: at(5).toISOString(), detail: `attempt 2 failed: remote unreachable; next attempt at ${at(9).toISOString()}` },
    ]);
  });

  it("a hold placed by another release is not this release's", () => {
    const hold = { id: "h", environment: "rawhide", package: "bash", reason: "by hand", createdBy: "bob", createdAt: at(1), releaseId: null };
    expect(releaseTimeline(base, { hold }).map((e) => e.state)).toEqual(["queued"]);
  });

  it("committed and superseded say their commit and successor", () => {
    expect(releaseTimeline({ ...base, status: "committed", commitSha: "abc123", updatedAt: at(2) }).at(-1)).toEqual({ state: "committed", at: at(2).toISOString(), detail: "commit abc123 made, not pushed yet" });
    expect(releaseTimeline({ ...base, status: "superseded", supersededBy: "01JOTHER", reason: null, updatedAt: at(3) }).at(-1)).toEqual({ state: "superseded", at: at(3).toISOString(), detail: "superseded by release 01JOTHER" });
  });

  it("a policy's release starts with the decision that fired it; pushed, failed and blocked say where and why", () => {
    const byPolicy = { ...base, trigger: "policy/rawhide-auto", createdBy: "relengd", force: false, forceReason: null };
    const decision = { policy: "rawhide-auto", createdAt: at(0), reason: null };
    expect(releaseTimeline({ ...byPolicy, status: "pushed", commitSha: "abc123", pushedAt: at(4), updatedAt: at(4) }, { decision })).toEqual([
      { state: "decided", at: at(0).toISOString(), detail: "policy rawhide-auto fired" },
      { state: "queued", at: at(0).toISOString(), detail: "by policy/rawhide-auto (relengd)" },
      { state: "pushed", at: at(4).toISOString(), detail: "commit abc123 pushed to gitops/main" },
    ]);
    expect(releaseTimeline({ ...byPolicy, status: "failed", attempts: 1, error: "push rejected", updatedAt: at(6) }).at(-1)).toEqual({ state: "failed", at: at(6).toISOString(), detail: "after 1 attempt: push rejected" });
    expect(releaseTimeline({ ...byPolicy, status: "blocked", reason: "rawhide/bash is held: by hand", updatedAt: at(7) }).at(-1)).toEqual({ state: "blocked", at: at(7).toISOString(), detail: "rawhide/bash is held: by hand" });
  });
});

// The shipped environments, as the server reads them.
const environmentsFile = path.resolve(__dirname, "../../policies/environments.yaml");
const shipped = parseEnvironmentsYaml(readFileSync(environmentsFile, "utf8"));
if (!shipped.ok) throw new Error(`${environmentsFile}: ${JSON.stringify(shipped.issues)}`);
const environments: EnvironmentSet = { repositories: new Map(), environments: new Map(shipped.value.environments.map((e) => [e.name, e])), source: environmentsFile };

function artifact(input: Partial<ArtifactInput>): Artifact {
  const parsed = parseArtifact(sampleArtifact(input));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** Stores holding the given records; every read is answered from them. */
function stores(records: { releases?: ReleaseRecord[]; artifacts?: Artifact[]; holds?: HoldRecord[]; decisions?: (QueuingDecision & { artifactId: string; releaseId: string })[] }): DescribeReleaseDeps {
  return {
    releases: {
      get: async (id) => records.releases?.find((r) => r.id === id) ?? null,
      hold: async (environment, pkg) => records.holds?.find((h) => h.environment === environment && h.package === pkg) ?? null,
    },
    artifacts: { getMany: async (ids) => new Map((records.artifacts ?? []).filter((a) => ids.includes(a.id)).map((a) => [a.id, a])) },
    decisions: {
      decisionFor: async (artifactId, releaseId) => {
        const d = records.decisions?.find((x) => x.artifactId === artifactId && x.releaseId === releaseId);
        return d ? { policy: d.policy, event: d.event, reason: d.reason, createdAt: d.createdAt } : null;
      },
    },
    environments: () => environments,
  };
}

describe("describeReleaseTimeline", () => {
  const pushed: ReleaseRecord = { ...base, trigger: "policy/rawhide-auto", createdBy: "relengd", force: false, forceReason: null, status: "pushed", commitSha: "abc123", pushedAt: at(4), updatedAt: at(4) };
  const decision = { artifactId: pushed.artifactId, releaseId: pushed.id, policy: "rawhide-auto", event: "result", reason: null, createdAt: at(0) };

  it("an unknown release is not found", async () => {
    expect(await describeReleaseTimeline(stores({}), "01JNOSUCHRELEASE0000000000")).toEqual({ status: "not-found" });
  });

  it("finds the release with the decision that queued it, oldest state first", async () => {
    const outcome = await describeReleaseTimeline(stores({ releases: [pushed], decisions: [decision] }), pushed.id);
    expect(outcome).toEqual({
      status: "found",
      release: pushed,
      decision: { policy: "rawhide-auto", event: "result", reason: null, createdAt: at(0) },
      entries: releaseTimeline(pushed, { decision }),
    });
    if (outcome.status === "found") expect(outcome.entries.map((e) => e.state)).toEqual(["decided", "queued", "pushed"]);
  });

  it("shows the hold on its package only when this release placed it", async () => {
    const rollback = { ...base, id: "01JROLLBACK000000000000000" };
    const placed = { id: "h1", environment: "rawhide", package: "bash", reason: "rollback", createdBy: "alice", createdAt: at(0), releaseId: rollback.id };
    const states = async (hold: HoldRecord) => {
      const outcome = await describeReleaseTimeline(stores({ releases: [rollback], holds: [hold] }), rollback.id);
      return outcome.status === "found" ? outcome.entries.map((e) => e.state) : [];
    };
    expect(await states(placed)).toEqual(["queued", "held"]);
    expect(await states({ ...placed, releaseId: "01JSOMEOTHERRELEASE0000000" })).toEqual(["queued"]);
  });
});

describe("describeReleaseDocument", () => {
  const a = artifact({ package: "python-requests", release: "rawhide" });
  const nvr = (a.items.find((i) => i.kind === "koji-build") as { nvr: string }).nvr;
  // The document names the release: its id must be one relengd could have made (a ULID).
  const release: ReleaseRecord = { ...base, id: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D3", artifactId: a.id, package: "python-requests", status: "pushed", commitSha: "abc123", pushedAt: at(4), updatedAt: at(4) };

  it("renders the document and commit the writer commits, trailers in the message's order", async () => {
    const outcome = await describeReleaseDocument(stores({ releases: [release], artifacts: [a] }), release.id);
    const rawhide = environments.environments.get("rawhide");
    if (!rawhide) throw new Error(`no rawhide in ${environmentsFile}`);
    const written = renderRelease(toReleaseSpec(release), a, rawhide);
    expect(outcome).toEqual({
      status: "found",
      release,
      document: {
        kind: "KojiTag",
        path: "koji/tags/f45/python-requests.yaml",
        content: written.content,
        commit: {
          sha: "abc123",
          bulk: false,
          subject: `koji-tag: ${nvr} → f45`,
          message: written.commitMessage,
          trailers: [
            { name: TRAILER.releaseId, value: release.id },
            { name: TRAILER.artifactId, value: a.id },
            { name: TRAILER.environment, value: "rawhide" },
            { name: TRAILER.trigger, value: "rollback" },
            { name: TRAILER.nvr, value: nvr },
            { name: TRAILER.forceReason, value: "bad build in the tag" },
          ],
        },
      },
    });
  });

  it("a bulk release shares its batch's commit: no subject or message of its own, only its trailer lines", async () => {
    const bulk = { ...release, bulk: true, force: false, forceReason: null, trigger: "policy/mass-rebuild" };
    const outcome = await describeReleaseDocument(stores({ releases: [bulk], artifacts: [a] }), bulk.id);
    expect(outcome.status === "found" && outcome.document.commit).toEqual({
      sha: "abc123",
      bulk: true,
      subject: null,
      message: null,
      trailers: [
        { name: TRAILER.releaseId, value: bulk.id },
        { name: TRAILER.artifactId, value: a.id },
        { name: TRAILER.environment, value: "rawhide" },
        { name: TRAILER.trigger, value: "policy/mass-rebuild" },
        { name: TRAILER.nvr, value: nvr },
      ],
    });
  });

  it("says why there is no document: unknown release, environment no longer declared, artifact gone, artifact no longer qualifying", async () => {
    expect(await describeReleaseDocument(stores({ artifacts: [a] }), release.id)).toEqual({ status: "not-found" });
    const retired = { ...release, environment: "retired" };
    expect(await describeReleaseDocument(stores({ releases: [retired], artifacts: [a] }), release.id)).toEqual({ status: "environment-undeclared", release: retired });
    expect(await describeReleaseDocument(stores({ releases: [release] }), release.id)).toEqual({ status: "unknown-artifact", release });
    const noBuild = { ...a, items: a.items.filter((i) => i.kind !== "koji-build") };
    expect(await describeReleaseDocument(stores({ releases: [release], artifacts: [noBuild] }), release.id)).toEqual({
      status: "unrenderable",
      release,
      reason: `artifact ${a.id} has no koji-build of package python-requests to tag into f45`,
    });
  });
});
