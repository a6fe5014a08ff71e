// Exponential backoff with a cap and optional jitter, shared by the writers and the broker link.
import { describe, expect, it } from "vitest";
import { backoff } from "../../src/concurrency/backoff.js";

describe("backoff", () => {
  it("doubles from the first delay and stops at the cap", () => {
    const delay = backoff({ firstMs: 1000, maxMs: 300_000 });
    expect([0, 1, 2, 3, 8, 9, 50, 5000].map(delay)).toEqual([1000, 2000, 4000, 8000, 256_000, 300_000, 300_000, 300_000]);
  });

  it("treats a negative retry as the first", () => {
    expect(backoff({ firstMs: 25, maxMs: 2000 })(-3)).toBe(25);
  });

  it("spreads each delay by the jitter fraction either way, rounded to whole milliseconds", () => {
    const at = (r: number) => backoff({ firstMs: 25, maxMs: 2000, jitter: 0.5, random: () => r });
    expect(at(0)(2)).toBe(50);
    expect(at(0.5)(2)).toBe(100);
    expect(at(0.999)(2)).toBe(150);
    const broker = (r: number) => backoff({ firstMs: 1000, maxMs: 30_000, jitter: 0.2, random: () => r });
    expect([broker(0)(0), broker(0.5)(0), broker(0.75)(40)]).toEqual([800, 1000, 33_000]);
  });

  it("asks the random source only when there is jitter", () => {
    let asked = 0;
    const delay = backoff({ firstMs: 10, maxMs: 100, random: () => (asked++, 0) });
    expect(delay(1)).toBe(20);
    expect(asked).toBe(0);
  });

  it("stays finite for huge retry counts and a zero first delay", () => {
    expect(backoff({ firstMs: 0, maxMs: 100 })(10_000)).toBe(0);
    expect(backoff({ firstMs: 1, maxMs: Number.MAX_SAFE_INTEGER })(10_000)).toBe(2 ** 30);
  });
});
