// mapConcurrent: results in order, never more than the limit at once, one failure kept to its item.
import { describe, expect, it } from "vitest";
import { mapConcurrent } from "../../src/concurrency/index.js";

describe("mapConcurrent", () => {
  it("keeps the list's order whatever order the jobs end in", async () => {
    const out = await mapConcurrent([30, 10, 20, 0], 2, async (ms, i) => {
      await new Promise((r) => setTimeout(r, ms));
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3].map((value) => ({ status: "fulfilled", value })));
  });

  it("runs at most `limit` jobs at once", async () => {
    let running = 0;
    let most = 0;
    await mapConcurrent(Array.from({ length: 20 }, (_, i) => i), 4, async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    expect(most).toBe(4);
  });

  it("keeps a failure to its own item", async () => {
    const out = await mapConcurrent(["a", "b", "c"], 3, (x) => (x === "b" ? Promise.reject(new Error("no b")) : Promise.resolve(x)));
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("answers an empty list with an empty list", async () => {
    expect(await mapConcurrent([], 4, () => Promise.resolve(1))).toEqual([]);
  });
});
