import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stamp } from "../../src/store/store.js";
import { isUniqueViolation } from "../../src/store/storeErrors.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

/** What a failing store write rejects with. */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error("the write did not fail");
}

describe.each(testProviders)("store errors on %s", (provider) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await freshDatabase(provider);
  });
  afterAll(async () => database?.dispose());

  it("tells a unique key or a primary key stored twice from other failures", async () => {
    const store = database.db;
    const now = stamp(new Date());
    const token = { jti: "twice", revokedAt: now, expiresAt: null };
    await store.transaction((tx) => tx.insertInto("RevokedToken").values(token).execute());
    const primaryKey = await failureOf(() => store.transaction((tx) => tx.insertInto("RevokedToken").values(token).execute()));
    expect(isUniqueViolation(primaryKey)).toBe(true);

    const outbox = { messageId: "m-1", key: "k-1", releaseSeq: 1, topic: "t", envelope: "{}", createdAt: now };
    await store.transaction((tx) => tx.insertInto("BusOutbox").values(outbox).execute());
    const uniqueKey = await failureOf(() => store.transaction((tx) => tx.insertInto("BusOutbox").values({ ...outbox, messageId: "m-2" }).execute()));
    expect(isUniqueViolation(uniqueKey)).toBe(true);

    // A NOT NULL column left empty is a constraint too, but not this one.
    const notNull = await failureOf(() => store.transaction((tx) => tx.insertInto("BusOutbox").values({ ...outbox, key: "k-2", topic: null as unknown as string }).execute()));
    expect(isUniqueViolation(notNull)).toBe(false);
  });

  it("says no for anything that is not a driver error", () => {
    expect(isUniqueViolation(new Error("unique"))).toBe(false);
    expect(isUniqueViolation({ code: "P2002" })).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
    expect(isUniqueViolation("23505")).toBe(false);
  });
});
