// Step historyIndex: what the remote's history already has is recorded pushed, reading only what is new.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { emptyResult } from "../../../src/gitops/steps/batch.js";
import { HistoryIndex, type HistoryIndexDeps, type HistorySource } from "../../../src/gitops/steps/historyIndex.js";

/** A linear history: commit `c<n>` carries release `r<n>`. */
function history(length: number) {
  const commits = Array.from({ length }, (_, i) => ({ sha: `c${i + 1}`, release: `r${i + 1}` }));
  const reads: string[] = [];
  const ws: HistorySource = {
    isAncestor: async (a, head) => commits.findIndex((c) => c.sha === a) <= commits.findIndex((c) => c.sha === head),
    releaseIdsBetween: async (from, head, only) => {
      reads.push(`${from ?? "root"}..${head}${only ? ` only ${only.join(",")}` : ""}`);
      const start = from ? commits.findIndex((c) => c.sha === from) + 1 : 0;
      const end = commits.findIndex((c) => c.sha === head) + 1;
      return new Map(commits.slice(start, end).filter((c) => !only || only.includes(c.release)).map((c) => [c.release, c.sha]));
    },
  };
  return { ws, reads };
}

function store(over: { pushed?: string[]; watermark?: string | null; unrecorded?: string[] } = {}) {
  const pushed = new Set(over.pushed ?? []);
  const calls: string[] = [];
  const releases: HistoryIndexDeps["releases"] = {
    markPushed: async (items) => {
      calls.push(`markPushed ${items.map((i) => `${i.id}@${i.commitSha}`).join(",")}`);
      items.forEach((i) => pushed.add(i.id));
    },
    markPushedFromHistory: async (items) => {
      calls.push(`fromHistory ${items.map((i) => `${i.id}@${i.commitSha}`).join(",")}`);
      items.forEach((i) => pushed.add(i.id));
    },
    pushedWatermark: async () => over.watermark ?? null,
    unrecordedReleases: async () => over.unrecorded ?? [],
    notPushed: async (ids) => new Set(ids.filter((id) => !pushed.has(id))),
  };
  return { releases, calls };
}

const deps = (releases: HistoryIndexDeps["releases"]): HistoryIndexDeps => ({ releases, repository: "gitops", branch: "main", logger: pino({ level: "silent" }) });

describe("HistoryIndex", () => {
  it("first scans from the store's watermark, then only the commits new since", async () => {
    const { ws, reads } = history(5);
    const { releases, calls } = store({ pushed: ["r1", "r2"], watermark: "c2" });
    const index = new HistoryIndex(deps(releases));
    expect(index.reconciled).toBe(false);
    const result = emptyResult("gitops");
    await index.scan(ws, "c3", result);
    await index.scan(ws, "c3", result);
    await index.scan(ws, "c5", result);
    expect(reads).toEqual(["c2..c3", "c3..c5"]);
    expect(calls).toEqual(["fromHistory r3@c3", "fromHistory r4@c4,r5@c5"]);
    expect(result.pushed.map((p) => p.id)).toEqual(["r3", "r4", "r5"]);
    expect(index.reconciled).toBe(true);
  });

  it("reads all of history without a watermark, and looks below one for releases a write reached before the restart", async () => {
    const all = history(3);
    await new HistoryIndex(deps(store().releases)).scan(all.ws, "c3", emptyResult("gitops"));
    expect(all.reads).toEqual(["root..c3"]);
    const below = history(4);
    const { releases, calls } = store({ pushed: ["r2", "r3"], watermark: "c3", unrecorded: ["r1", "r9"] });
    await new HistoryIndex(deps(releases)).scan(below.ws, "c4", emptyResult("gitops"));
    expect(below.reads).toEqual(["c3..c4", "root..c3 only r1,r9"]);
    expect(calls).toEqual(["fromHistory r4@c4,r1@c1"]);
  });

  it("scans all again after a rewrite (the last head is no ancestor) and forgets on a missing branch", async () => {
    const { ws, reads } = history(3);
    const index = new HistoryIndex(deps(store({ pushed: ["r1", "r2", "r3"] }).releases));
    await index.scan(ws, "c3", emptyResult("gitops"));
    await index.scan({ ...ws, isAncestor: async () => false }, "c2", emptyResult("gitops"));
    await index.scan(ws, null, emptyResult("gitops"));
    await index.scan(ws, "c1", emptyResult("gitops"));
    expect(reads).toEqual(["root..c3", "root..c2", "root..c1"]);
  });

  it("remembers what this writer pushed until it is recorded; a batch holding it again records it with that commit", async () => {
    const { ws, reads } = history(2);
    const { releases, calls } = store({ pushed: ["r1", "r2"] });
    const index = new HistoryIndex(deps(releases));
    await index.scan(ws, "c1", emptyResult("gitops"));
    index.pushed([{ id: "rX", commitSha: "c2" }], "c2");
    expect(index.remembered).toBe(1);
    const result = emptyResult("gitops");
    const rest = await index.withoutWritten([{ release: { id: "rX" } }, { release: { id: "rY" } }], result);
    expect(rest).toEqual([{ release: { id: "rY" } }]);
    expect(calls).toEqual(["fromHistory rX@c2"]);
    expect(index.remembered).toBe(0);
    // The pushed tip counts as scanned: nothing is read again.
    await index.scan(ws, "c2", result);
    expect(reads).toEqual(["root..c1"]);
  });

  it("records what it remembers before anything else on the next scan (the watermark must not pass over it)", async () => {
    const { ws } = history(3);
    const { releases, calls } = store({ pushed: ["r1", "r2"] });
    const index = new HistoryIndex(deps(releases));
    await index.scan(ws, "c2", emptyResult("gitops"));
    index.pushed([{ id: "r3", commitSha: "c3" }], "c3");
    const result = emptyResult("gitops");
    await index.recordPushed([{ id: "rZ", commitSha: "c3" }], result, "written");
    await index.scan(ws, "c3", result);
    expect(calls).toEqual(["markPushed rZ@c3", "fromHistory r3@c3"]);
    expect(result.pushed.map((p) => p.id)).toEqual(["rZ", "r3"]);
  });

  it("leaves out of a batch what a scan of this batch already recorded, without recording it twice", async () => {
    const { ws } = history(2);
    const { releases, calls } = store();
    const index = new HistoryIndex(deps(releases));
    const result = emptyResult("gitops");
    await index.scan(ws, "c2", result);
    expect(await index.withoutWritten([{ release: { id: "r1" } }, { release: { id: "r3" } }], result)).toEqual([{ release: { id: "r3" } }]);
    expect(calls).toEqual(["fromHistory r1@c1,r2@c2"]);
  });
});
