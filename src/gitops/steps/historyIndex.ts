// Step: what the remote's history already has. A release whose commit is in history is pushed,
// whatever its record says (crash recovery, idempotency): history is read once, then only the
// commits new since, and a restart starts at the store's watermark, not at the first commit.
import type { Logger } from "pino";
import type { ReleaseRepository } from "../../store/releaseRepository.js";
import type { Workspace } from "../workspace.js";
import type { BatchResult } from "./batch.js";

/** Release ids looked for in one `git log` (each a --grep of its own). */
const RELEASE_IDS_PER_GREP = 500;

export interface HistoryIndexDeps {
  releases: Pick<ReleaseRepository, "markPushed" | "markPushedFromHistory" | "pushedWatermark" | "unrecordedReleases" | "notPushed">;
  repository: string;
  branch: string;
  logger: Logger;
}

/** What of a workspace the index reads. */
export type HistorySource = Pick<Workspace, "isAncestor" | "releaseIdsBetween">;

export class HistoryIndex {
  /**
   * Release ids found in the remote's history, with their commit; kept up to `scannedHead`.
   * Only releases not yet recorded as pushed are kept: those are the ones a batch may hold
   * again (after a crash between push and record, or a retry), and they are few, where all
   * the ids of a branch's history grow without bound.
   */
  private readonly inHistory = new Map<string, string>();
  private scannedHead: string | null = null;
  /** Whether this process has looked in history for the releases a write may have reached before it started. */
  private looked = false;

  constructor(private readonly deps: HistoryIndexDeps) {}

  get reconciled(): boolean {
    return this.looked;
  }

  /** Releases found in history (or pushed by this writer) not yet recorded as pushed. */
  get remembered(): number {
    return this.inHistory.size;
  }

  /** The workspace was rebuilt: what was read of it is read again. */
  forget(): void {
    this.scannedHead = null;
    this.inHistory.clear();
  }

  /**
   * This writer pushed these commits, up to `tip`: the next scan starts after them. Remembered
   * until recorded: should recording fail, the next batch finds them here.
   */
  pushed(assigned: readonly { id: string; commitSha: string }[], tip: string): void {
    for (const a of assigned) if (!this.inHistory.has(a.id)) this.inHistory.set(a.id, a.commitSha);
    this.scannedHead = tip;
  }

  /** Records releases whose commits are in the remote's history as pushed; they need no remembering after that. */
  async recordPushed(items: readonly { id: string; commitSha: string }[], result: BatchResult, how: "written" | "fromHistory" = "fromHistory"): Promise<void> {
    if (items.length === 0) return;
    if (how === "written") await this.deps.releases.markPushed([...items]);
    else await this.deps.releases.markPushedFromHistory([...items]);
    result.pushed.push(...items);
    for (const i of items) this.inHistory.delete(i.id);
  }

  /**
   * Leaves out of a batch what history already has: releases a scan just recorded pushed, and
   * those pushed by this writer whose record failed (recorded now).
   */
  async withoutWritten<T extends { release: { id: string } }>(items: T[], result: BatchResult): Promise<T[]> {
    const recorded = new Set(result.pushed.map((p) => p.id));
    const done = items.flatMap((p) => {
      const commitSha = recorded.has(p.release.id) ? undefined : this.inHistory.get(p.release.id);
      return commitSha ? [{ id: p.release.id, commitSha }] : [];
    });
    if (done.length > 0) await this.recordPushed(done, result);
    for (const d of done) recorded.add(d.id);
    return items.filter((p) => !recorded.has(p.release.id));
  }

  /**
   * Records every release in history up to `head` that the store does not have as pushed, reading
   * only what is new: the commits since the last scan, or, first in a process (or after a rewrite),
   * since the store's watermark (a commit below which every release is recorded), so that a
   * restart costs what was written since, not the repository's whole history. Only without a
   * watermark in `head`'s history is all of it read.
   */
  async scan(ws: HistorySource, head: string | null, result: BatchResult): Promise<void> {
    // Pushed by this writer, their record failed: recorded before anything else is, or the
    // watermark would pass over them.
    if (this.inHistory.size > 0) await this.recordPushed([...this.inHistory].map(([id, commitSha]) => ({ id, commitSha })), result);
    if (!head) {
      // No branch yet: nothing can be in its history.
      this.forget();
      this.looked = true;
      return;
    }
    if (head === this.scannedHead) return;
    let from = this.scannedHead && (await ws.isAncestor(this.scannedHead, head)) ? this.scannedHead : null;
    if (!from) {
      this.inHistory.clear();
      const watermark = await this.deps.releases.pushedWatermark(this.deps.repository, this.deps.branch);
      if (watermark && (await ws.isAncestor(watermark, head))) from = watermark;
    }
    const found = await ws.releaseIdsBetween(from, head);
    if (!this.looked && from) {
      // Releases a write reached before this process started (its record lost in a crash, failed
      // by attempts since, retried) may lie below the watermark: looked for by id, so the cost
      // is what is not recorded, not the history's length.
      const attempted = (await this.deps.releases.unrecordedReleases(this.deps.repository, this.deps.branch)).filter((id) => !found.has(id));
      for (let i = 0; i < attempted.length; i += RELEASE_IDS_PER_GREP) {
        for (const [id, sha] of await ws.releaseIdsBetween(null, from, attempted.slice(i, i + RELEASE_IDS_PER_GREP))) found.set(id, sha);
      }
    }
    // Asked after the scan: a release in this history that is pushed by now stays pushed.
    const open = found.size > 0 ? await this.deps.releases.notPushed([...found.keys()]) : new Set<string>();
    const recorded = new Set(result.pushed.map((p) => p.id));
    const written = [...found].filter(([id]) => open.has(id) && !recorded.has(id)).map(([id, commitSha]) => ({ id, commitSha }));
    if (written.length > 0) {
      this.deps.logger.info({ repository: this.deps.repository, releases: written.length }, "releases found in the remote's history recorded as pushed");
      await this.recordPushed(written, result);
    }
    this.looked = true;
    this.scannedHead = head;
  }
}
