// Group commit: concurrent submissions share a batch; with `concurrent` > 1 (PostgreSQL) a new
// batch starts while earlier ones are still being written, never more than that many at once.
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/store/groupCommit.js";

/** A write that holds each batch until released, recording what it was given. */
function heldWrites() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  let writing = 0;
  let mostAtOnce = 0;
  const write = async (batch: number[]) => {
    batches.push(batch);
    writing += 1;
    mostAtOnce = Math.max(mostAtOnce, writing);
    await new Promise<void>((resolve) => releases.push(resolve));
    writing -= 1;
    return batch.map((n) => n * 10);
  };
  return { write, batches, releaseAll: () => releases.splice(0).forEach((r) => r()), mostAtOnce: () => mostAtOnce };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("GroupCommit", () => {
  it("with one batch at a time, submissions made while a batch is written wait and go into the next one together", async () => {
    const w = heldWrites();
    const group = new GroupCommit(w.write, 256, 1);
    const first = group.submit(1);
    await turn();
    const later = [2, 3, 4].map((n) => group.submit(n));
    await turn();
    expect(w.batches).toEqual([[1]]);
    w.releaseAll();
    expect(await first).toBe(10);
    while (w.batches.length < 2) await turn();
    w.releaseAll();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    expect(w.mostAtOnce()).toBe(1);
  });

  it("with three at a time, starts a batch while earlier ones are written, and no fourth", async () => {
    const w = heldWrites();
    const group = new GroupCommit(w.write, 256, 3);
    const submitted: Promise<number>[] = [];
    for (const wave of [[1], [2, 3], [4], [5, 6]]) {
      submitted.push(...wave.map((n) => group.submit(n)));
      await turn();
      await turn();
    }
    // The fourth wave waits for a batch to finish.
    expect(w.batches).toEqual([[1], [2, 3], [4]]);
    w.releaseAll();
    while (w.batches.length < 4) await turn();
    expect(w.batches[3]).toEqual([5, 6]);
    w.releaseAll();
    expect(await Promise.all(submitted)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(w.mostAtOnce()).toBe(3);
    await group.idle();
  });

  it("starts a batch beside a running one only once enough items wait; fewer join the next batch", async () => {
    const w = heldWrites();
    const group = new GroupCommit(w.write, 256, 2, 3);
    const submitted = [group.submit(1)];
    await turn();
    submitted.push(group.submit(2), group.submit(3));
    await turn();
    await turn();
    expect(w.batches).toEqual([[1]]);
    submitted.push(group.submit(4));
    await turn();
    await turn();
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    submitted.push(group.submit(5));
    await turn();
    w.releaseAll();
    while (w.batches.length < 3) await turn();
    expect(w.batches[2]).toEqual([5]);
    w.releaseAll();
    expect(await Promise.all(submitted)).toEqual([10, 20, 30, 40, 50]);
  });

  it("retries each item of a failed batch alone", async () => {
    const group = new GroupCommit<number, number>(async (batch) => {
      if (batch.includes(13)) throw new Error("unlucky");
      return batch.map((n) => n + 1);
    }, 256, 2);
    const outcomes = await Promise.allSettled([1, 13, 2].map((n) => group.submit(n)));
    expect(outcomes).toMatchObject([
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: { message: "unlucky" } },
      { status: "fulfilled", value: 3 },
    ]);
  });
});
