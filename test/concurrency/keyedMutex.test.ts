// The per-key FIFO lock the writers share: one batch at a time per (remote, branch).
import { describe, expect, it } from "vitest";
import { KeyedMutex } from "../../src/concurrency/keyedMutex.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("KeyedMutex", () => {
  it("runs the holders of one key one at a time, in the order they asked", async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let inside = 0;
    const holder = (name: string, ms: number) =>
      mutex.run("k", async () => {
        inside++;
        expect(inside).toBe(1);
        log.push(`in ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`out ${name}`);
        inside--;
        return name;
      });
    const results = await Promise.all([holder("a", 15), holder("b", 1), holder("c", 5)]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["in a", "out a", "in b", "out b", "in c", "out c"]);
  });

  it("does not make holders of different keys wait for each other", async () => {
    const mutex = new KeyedMutex();
    let release: () => void = () => undefined;
    const blocked = mutex.run("a", () => new Promise<void>((r) => (release = r)));
    await tick();
    let other = false;
    await mutex.run("b", async () => {
      other = true;
    });
    expect(other).toBe(true);
    release();
    await blocked;
  });

  it("passes the lock on when a holder throws, and the error to that holder's caller", async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run("k", async () => {
      await tick();
      throw new Error("push rejected");
    });
    const next = mutex.run("k", async () => "next ran");
    await expect(failing).rejects.toThrow("push rejected");
    await expect(next).resolves.toBe("next ran");
  });

  it("forgets a key once nobody holds or waits for it", async () => {
    const mutex = new KeyedMutex();
    let release: () => void = () => undefined;
    const first = mutex.run("k", () => new Promise<void>((r) => (release = r)));
    const second = mutex.run("k", async () => undefined);
    expect(mutex.held("k")).toBe(true);
    await tick();
    release();
    await first;
    expect(mutex.held("k")).toBe(true);
    await second;
    expect(mutex.held("k")).toBe(false);
  });

  it("is not re-entrant: a holder asking for its own key again waits behind itself", async () => {
    const mutex = new KeyedMutex();
    let inner = false;
    const outer = mutex.run("k", async () => {
      void mutex.run("k", async () => {
        inner = true;
      });
      await tick();
      // Still inside the outer hold: the nested call has not run.
      return inner;
    });
    expect(await outer).toBe(false);
    await tick();
    expect(inner).toBe(true);
  });
});
