import { afterEach, describe, expect, it, vi } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";

const SECRET = "a-secret-for-the-token-cache-tests-0123456789";

describe("token verification cache", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("still refuses a token once it expires, after it was accepted and cached", async () => {
    // The clock is set, not waited for: a 1 s token issued at x.999 s is already expired at x+1.000,
    // which made this test fail now and then when it slept through real time.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-25T12:00:00.000Z"));
    const tokens = new TokenService(SECRET);
    const { token } = await tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 60 });
    expect((await tokens.verify(token)).subject).toBe("ci");
    vi.setSystemTime(new Date("2026-11-25T12:00:59.000Z"));
    expect((await tokens.verify(token)).subject).toBe("ci");
    vi.setSystemTime(new Date("2026-11-25T12:01:00.500Z"));
    await expect(tokens.verify(token)).rejects.toThrow("token has expired");
  });

  it("refuses a cached token as soon as it is revoked", async () => {
    const revoked = new Set<string>();
    const tokens = new TokenService(SECRET, (jti) => revoked.has(jti));
    const { token, jti } = await tokens.issue({ subject: "ci", role: "ci", ttlSeconds: 3600 });
    await tokens.verify(token);
    revoked.add(jti);
    await expect(tokens.verify(token)).rejects.toThrow("token has been revoked");
  });

  it("does not cache a token signed with another secret", async () => {
    const other = new TokenService("another-secret-for-the-token-cache-tests-987654");
    const { token } = await other.issue({ subject: "x", role: "admin", ttlSeconds: 3600 });
    const tokens = new TokenService(SECRET);
    await expect(tokens.verify(token)).rejects.toThrow("signature");
    await expect(tokens.verify(token)).rejects.toThrow("signature");
  });
});
