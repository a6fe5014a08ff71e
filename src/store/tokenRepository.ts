// Revoked token ids (jti). Tokens themselves are never stored: they are signed, not looked up.
import { stamp, type Store } from "./store.js";

export class TokenRepository {
  constructor(private readonly store: Store) {}

  async revoke(jti: string, expiresAt?: Date): Promise<"revoked" | "already-revoked"> {
    return this.store.transaction(async (tx) => {
      const inserted = await tx
        .insertInto("RevokedToken")
        .values({ jti, revokedAt: stamp(new Date()), expiresAt: expiresAt ? stamp(expiresAt) : null })
        .onConflict((c) => c.column("jti").doNothing())
        .executeTakeFirst();
      return inserted.numInsertedOrUpdatedRows === 0n ? "already-revoked" : "revoked";
    });
  }

  /** Ids of revoked tokens that could still verify (not past their own expiry). */
  async activeRevocations(now = new Date()): Promise<Set<string>> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("RevokedToken")
        .select("jti")
        .where((w) => w.or([w("expiresAt", "is", null), w("expiresAt", ">", stamp(now))]))
        .execute(),
    );
    return new Set(rows.map((r) => r.jti));
  }

}
