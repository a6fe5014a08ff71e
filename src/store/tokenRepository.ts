// Revoked token ids (jti). Tokens themselves are never stored: they are signed, not looked up.
import type { Prisma } from "./database.js";

export class TokenRepository {
  constructor(private readonly prisma: Prisma) {}

  async revoke(jti: string, expiresAt?: Date): Promise<"revoked" | "already-revoked"> {
    const prior = await this.prisma.revokedToken.findUnique({ where: { jti } });
    if (prior) return "already-revoked";
    await this.prisma.revokedToken.create({ data: { jti, revokedAt: new Date(), expiresAt: expiresAt ?? null } });
    return "revoked";
  }

  /** Ids of revoked tokens that could still verify (not past their own expiry). */
  async activeRevocations(now = new Date()): Promise<Set<string>> {
    const rows = await this.prisma.revokedToken.findMany({
      where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      select: { jti: true },
    });
    return new Set(rows.map((r) => r.jti));
  }
}
