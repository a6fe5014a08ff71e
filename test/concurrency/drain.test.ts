// The single-flight drain loop every queue drainer shares (writer, shadow writer, bus publisher, announcer).
import { describe, expect, it } from "vitest";
import { Drain } from "../../src/concurrency/drain.js";

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe("Drain", () => {
  it("runs one pass per wake when idle, never two at once", async () => {
    let inFlight = 0;
    let most = 0;
    let passes = 0;
    const drain = new Drain(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      passes++;
      inFlight--;
    }, { onError: (err) => { throw err; } });
    drain.wake();
    expect(drain.busy).toBe(true);
    await drain.settled();
    expect(drain.busy).toBe(false);
    drain.wake();
    await drain.settled();
    expect({ passes, most }).toEqual({ passes: 2, most: 1 });
  });

  it("wakes during a pass ask for exactly one more pass after it", async () => {
    const first = gate();
    const log: string[] = [];
    let n = 0;
    const drain = new Drain(async () => {
      const pass = ++n;
      log.push(`start ${pass}`);
      if (pass === 1) await first.opened;
      log.push(`end ${pass}`);
    }, { onError: (err) => { throw err; } });
    drain.wake();
    // Wakes before the pass starts are its own: it has not read the queue yet.
    drain.wake();
    await new Promise((r) => setTimeout(r, 1));
    expect(log).toEqual(["start 1"]);
    drain.wake();
    drain.wake();
    drain.wake();
    first.open();
    await drain.settled();
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  });

  it("a wake from inside a pass (re-entrant) schedules the next pass, not a nested one", async () => {
    const log: string[] = [];
    let n = 0;
    const drain: Drain = new Drain(async () => {
      const pass = ++n;
      log.push(`start ${pass}`);
      if (pass < 3) drain.wake();
      await Promise.resolve();
      log.push(`end ${pass}`);
    }, { onError: (err) => { throw err; } });
    drain.wake();
    await drain.settled();
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
  });

  it("a pass that throws ends the loop (the pending wake dropped) and is reported; the next wake runs again", async () => {
    const errors: unknown[] = [];
    const first = gate();
    let n = 0;
    const drain = new Drain(async () => {
      n++;
      if (n === 1) {
        await first.opened;
        throw new Error("broker gone");
      }
    }, { onError: (err) => errors.push(err) });
    drain.wake();
    drain.wake();
    first.open();
    await drain.settled();
    expect(n).toBe(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(["broker gone"]);
    drain.wake();
    await drain.settled();
    expect(n).toBe(2);
  });

  it("a pass returning false ends the loop without the pass a wake asked for", async () => {
    const first = gate();
    let n = 0;
    const drain = new Drain(async () => {
      n++;
      await first.opened;
      return false;
    }, { onError: (err) => { throw err; } });
    drain.wake();
    drain.wake();
    first.open();
    await drain.settled();
    expect(n).toBe(1);
  });

  it("stop waits for the running pass, drops the pending wake and ignores later ones", async () => {
    const first = gate();
    let n = 0;
    let sawStopped = false;
    const drain: Drain = new Drain(async () => {
      n++;
      await first.opened;
      sawStopped = drain.stopped;
    }, { onError: (err) => { throw err; } });
    drain.wake();
    await new Promise((r) => setTimeout(r, 1));
    drain.wake();
    let stopped = false;
    const stopping = drain.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    first.open();
    await stopping;
    expect({ n, sawStopped, busy: drain.busy }).toEqual({ n: 1, sawStopped: true, busy: false });
    drain.wake();
    expect(drain.busy).toBe(false);
  });

  it("a stop right after a wake runs no pass", async () => {
    let n = 0;
    const drain = new Drain(async () => void n++, { onError: (err) => { throw err; } });
    drain.wake();
    await drain.stop();
    expect(n).toBe(0);
  });
});
