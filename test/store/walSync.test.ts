// Commits made without an inline fsync are answered only after a sync that started after them.
import { describe, expect, it } from "vitest";
import { WalSync } from "../../src/store/walSync.js";

/** A sync whose runs finish only when the test says so. */
function gatedSync() {
  const runs: { finish: () => void; fail: (err: Error) => void }[] = [];
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      runs.push({ finish: resolve, fail: reject });
    });
  return { runs, sync };
}

const settle = () => new Promise((r) => setImmediate(r));

function tracked(p: Promise<void>) {
  const state = { done: false, error: undefined as unknown };
  p.then(
    () => (state.done = true),
    (err: unknown) => (state.error = err),
  );
  return state;
}

describe("WalSync", () => {
  it("answers a commit only once a sync started after it has finished", async () => {
    const { runs, sync } = gatedSync();
    const wal = new WalSync(sync);
    const first = tracked(wal.afterCommit());
    await settle();
    expect(runs).toHaveLength(1);
    expect(first.done).toBe(false);
    runs[0]?.finish();
    await settle();
    expect(first.done).toBe(true);
  });

  it("shares one sync among the commits made before it starts, and runs one more for those made during it", async () => {
    const { runs, sync } = gatedSync();
    const wal = new WalSync(sync);
    const early = [tracked(wal.afterCommit()), tracked(wal.afterCommit()), tracked(wal.afterCommit())];
    await settle();
    expect(runs).toHaveLength(1);
    // These commits wrote their log frames after the running sync began: it may not cover them.
    const late = [tracked(wal.afterCommit()), tracked(wal.afterCommit())];
    await settle();
    expect(runs).toHaveLength(1);
    runs[0]?.finish();
    await settle();
    expect(early.every((s) => s.done)).toBe(true);
    expect(late.some((s) => s.done)).toBe(false);
    expect(runs).toHaveLength(2);
    runs[1]?.finish();
    await settle();
    expect(late.every((s) => s.done)).toBe(true);
    expect(runs).toHaveLength(2);
  });

  it("fails the commits a failed sync was to cover, and syncs again for the next commit", async () => {
    const { runs, sync } = gatedSync();
    const wal = new WalSync(sync);
    const failed = [tracked(wal.afterCommit()), tracked(wal.afterCommit())];
    await settle();
    runs[0]?.fail(new Error("EIO"));
    await settle();
    expect(failed.map((s) => (s.error as Error | undefined)?.message)).toEqual(["EIO", "EIO"]);
    const next = tracked(wal.afterCommit());
    await settle();
    expect(runs).toHaveLength(2);
    runs[1]?.finish();
    await settle();
    expect(next.done).toBe(true);
  });
});
