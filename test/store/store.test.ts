// The store's one way to the database: the same queries and the same row forms on both
// databases, atomic transactions, bind limits counted on every statement, and on SQLite commits
// answered only once durable and other processes' locks waited for off the thread.
import { copyFileSync, rmSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/store/storeFailure.js";
import { migrate } from "../../src/store/migrator.js";
import { isoFromPgTimestamp } from "../../src/store/postgresDialect.js";
import { BindLimitExceeded, chunksFor, flag, fromStamp, MAX_BIND_PARAMETERS, observeStatements, openStore, stamp, type OpenOptions, type Store, type Tx } from "../../src/store/store.js";
import { freshDatabaseUrl, testProviders } from "../support/database.js";

const at = new Date("2026-03-01T12:34:56.789Z");

function hold(id: string, pkg = id) {
  return { id, environment: "f44", package: pkg, reason: "r", createdBy: "me", createdAt: stamp(at) };
}

const holdIds = (tx: Tx) =>
  tx
    .selectFrom("Hold")
    .select("id")
    .orderBy("id")
    .execute()
    .then((rows) => rows.map((r) => r.id));

async function open(provider: "sqlite" | "postgresql", options: OpenOptions = {}): Promise<{ store: Store; close(): Promise<void> }> {
  const { url, drop } = freshDatabaseUrl(provider);
  await migrate(url);
  const store = await openStore(url, options);
  return {
    store,
    async close() {
      await store.close();
      await drop();
    },
  };
}

describe("store value forms", () => {
  it("stores a DateTime as ISO text with an offset and reads it back as the same instant", () => {
    expect(stamp(at)).toBe("2026-03-01T12:34:56.789+00:00");
    expect(fromStamp(stamp(at)).getTime()).toBe(at.getTime());
    expect(flag(true)).toBe(1);
    expect(flag(false)).toBe(0);
  });

  it("reads PostgreSQL's timestamp text (trimmed fractions, no fraction, an offset) as the SQLite form", () => {
    expect(isoFromPgTimestamp("2026-03-01 12:34:56.789")).toBe("2026-03-01T12:34:56.789+00:00");
    expect(isoFromPgTimestamp("2026-03-01 12:34:56.78")).toBe("2026-03-01T12:34:56.780+00:00");
    expect(isoFromPgTimestamp("2026-03-01 12:34:56")).toBe("2026-03-01T12:34:56.000+00:00");
    expect(isoFromPgTimestamp("2026-03-01 13:34:56+01")).toBe("2026-03-01T12:34:56.000+00:00");
    expect(() => isoFromPgTimestamp("infinity")).toThrow(/cannot read/);
  });

  it("cuts lists so that every chunk stays within one statement's binds", () => {
    const items = Array.from({ length: 2_500 }, (_, i) => i);
    const chunks = chunksFor(items, 3, 9);
    expect(chunks.flat()).toEqual(items);
    for (const c of chunks) expect(c.length * 3 + 9).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
    expect(chunks[0]?.length).toBe(330);
  });
});

describe.each(testProviders)("store on %s", (provider) => {
  let opened: Awaited<ReturnType<typeof open>> | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it("reads rows in the same forms on both databases (timestamps as ISO text, booleans as 0/1, counts as numbers)", async () => {
    opened = await open(provider);
    const { store } = opened;
    await store.transaction(async (tx) => {
      await tx.insertInto("Hold").values(hold("h1")).execute();
      await tx
        .insertInto("BusEvent")
        .values({ messageId: "m1", topic: "t", bareTopic: "t", status: "accepted", reason: "", receivedAt: stamp(at), updatedAt: stamp(at), parsed: flag(true), envelope: "{}" })
        .execute();
    });
    const row = await store.read((tx) => tx.selectFrom("Hold").selectAll().where("id", "=", "h1").executeTakeFirstOrThrow());
    expect(row.createdAt).toBe("2026-03-01T12:34:56.789+00:00");
    const event = await store.read((tx) => tx.selectFrom("BusEvent").select(["parsed", "deliveries", "seq"]).executeTakeFirstOrThrow());
    expect(event).toEqual({ parsed: 1, deliveries: 1, seq: 1 });
    const counted = await store.read((tx) => tx.selectFrom("Hold").select((e) => e.fn.countAll<number>().as("n")).executeTakeFirstOrThrow());
    expect(counted.n).toBe(1);
    // Compared as instants on PostgreSQL and as text on SQLite: the same answer either way.
    const later = await store.read((tx) => tx.selectFrom("Hold").select("id").where("createdAt", ">", stamp(new Date(at.getTime() - 1))).execute());
    expect(later.map((r) => r.id)).toEqual(["h1"]);
  });

  it("commits when the work resolves and rolls everything back when it throws, staying usable", async () => {
    opened = await open(provider);
    const { store } = opened;
    await expect(
      store.transaction(async (tx) => {
        await tx.insertInto("Hold").values(hold("h1", "a")).execute();
        // The same (environment, package) again: a unique violation from the database itself.
        await tx.insertInto("Hold").values(hold("h2", "a")).execute();
      }),
    ).rejects.toThrow();
    expect(await store.read(holdIds)).toEqual([]);
    await store.transaction((tx) => tx.insertInto("Hold").values(hold("h3")).execute());
    expect(await store.read(holdIds)).toEqual(["h3"]);
  });

  it("runs concurrent transactions one after another: no read-modify-write is lost", async () => {
    opened = await open(provider);
    const { store } = opened;
    await store.transaction((tx) => tx.insertInto("BusOutbox").values({ messageId: "m", key: "k", releaseSeq: 1, topic: "t", envelope: "{}", createdAt: stamp(at) }).execute());
    const bump = () =>
      store.transaction(async (tx) => {
        // PostgreSQL runs transactions side by side: the row lock is what orders them there.
        const { attempts } = await tx
          .selectFrom("BusOutbox")
          .select("attempts")
          .where("key", "=", "k")
          .$if(provider === "postgresql", (q) => q.forUpdate())
          .executeTakeFirstOrThrow();
        await new Promise((r) => setImmediate(r));
        await tx.updateTable("BusOutbox").set({ attempts: attempts + 1 }).where("key", "=", "k").execute();
      });
    await Promise.all(Array.from({ length: 40 }, bump));
    const { attempts } = await store.read((tx) => tx.selectFrom("BusOutbox").select("attempts").executeTakeFirstOrThrow());
    expect(attempts).toBe(40);
  });

  it("counts every statement's binds and refuses one beyond the limit before the database sees it", async () => {
    opened = await open(provider);
    const { store } = opened;
    const seen: number[] = [];
    const stop = observeStatements((_sql, binds) => seen.push(binds));
    try {
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`);
      await store.read((tx) => tx.selectFrom("Hold").select("id").where("id", "in", ids(MAX_BIND_PARAMETERS)).execute());
      expect(seen).toEqual([MAX_BIND_PARAMETERS]);
      const err: unknown = await store.read((tx) => tx.selectFrom("Hold").select("id").where("id", "in", ids(MAX_BIND_PARAMETERS + 1)).execute()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BindLimitExceeded);
      expect((err as BindLimitExceeded).binds).toBe(MAX_BIND_PARAMETERS + 1);
      // Inside a transaction too, which then rolls back.
      await expect(
        store.transaction(async (tx) => {
          await tx.insertInto("Hold").values(hold("kept-out")).execute();
          await tx.deleteFrom("Hold").where("id", "in", ids(MAX_BIND_PARAMETERS + 1)).execute();
        }),
      ).rejects.toBeInstanceOf(BindLimitExceeded);
      expect(await store.read(holdIds)).toEqual([]);
    } finally {
      stop();
    }
  });
});

describe("store on sqlite, durability", () => {
  it("commits without an inline fsync, answers after syncing the log, and leaves FULL for every other statement", async () => {
    const synced: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { url, drop } = freshDatabaseUrl("sqlite");
    await migrate(url);
    const store = await openStore(url, {
      syncWal: (file) => async () => {
        await gate;
        synced.push(file);
      },
    });
    const other = new BetterSqlite3(store.target.location, { readonly: true });
    try {
      let answered = false;
      const committed = store.transaction((tx) => tx.insertInto("Hold").values(hold("h1")).execute()).then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 50));
      // Committed (another connection sees it) but not yet answered: the log is not synced yet.
      expect(other.prepare(`SELECT count(*) AS n FROM "Hold"`).get()).toEqual({ n: 1 });
      expect(answered).toBe(false);
      const level = () => store.read(async (tx) => Number(Object.values((await sql<Record<string, number>>`PRAGMA synchronous`.execute(tx)).rows[0] ?? {})[0]));
      expect(await level()).toBe(2);
      release();
      await committed;
      expect(synced).toEqual([`${store.target.location}-wal`]);
      // A failed transaction restores the safety level too.
      await expect(store.transaction(async (tx) => sql`INSERT INTO "Nope" VALUES (1)`.execute(tx))).rejects.toThrow();
      expect(await level()).toBe(2);
    } finally {
      other.close();
      await store.close();
      await drop();
    }
  });
});

describe("store on sqlite, checkpoints", () => {
  // What is in the database file itself, without the log: a copy of the file alone, opened.
  function checkpointedHolds(file: string, dir: string): number {
    const copy = path.join(dir, "checkpointed.db");
    copyFileSync(file, copy);
    const db = new BetterSqlite3(copy, { readonly: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM "Hold"`).get() as { n: number }).n;
    } finally {
      db.close();
      rmSync(copy, { force: true });
    }
  }

  it("never checkpoints in a commit of its own; a worker thread copies the log into the database file soon after", async () => {
    const { url, drop } = freshDatabaseUrl("sqlite");
    await migrate(url);
    const store = await openStore(url);
    const dir = path.dirname(store.target.location);
    try {
      const autocheckpoint = await store.read(async (tx) => Object.values((await sql<Record<string, number>>`PRAGMA wal_autocheckpoint`.execute(tx)).rows[0] ?? {})[0]);
      expect(autocheckpoint).toBe(0);
      // A few commits: far below the 1,000 pages at which SQLite would checkpoint by itself.
      for (let i = 0; i < 5; i++) await store.transaction((tx) => tx.insertInto("Hold").values(hold(`c${i}`)).execute());
      let inFile = 0;
      for (let tries = 0; tries < 100 && inFile < 5; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        // Later commits nudge the worker again.
        await store.transaction((tx) => tx.insertInto("Hold").values(hold(`n${tries}`)).execute());
        inFile = checkpointedHolds(store.target.location, dir);
      }
      expect(inFile, "rows copied into the database file by a checkpoint").toBeGreaterThanOrEqual(5);
    } finally {
      await store.close();
      await drop();
    }
  });
});

// A CLI verb (token revoke, prune, migrate) writing to the server's SQLite file holds its lock
// meanwhile. The store waits for it without blocking the thread, and gives up with SQLITE_BUSY
// after the busy timeout, leaving the connection as it found it.
describe("store on sqlite, another process holding the write lock", () => {
  async function openLocked(busyTimeoutMs: number) {
    const { url, drop } = freshDatabaseUrl("sqlite");
    await migrate(url);
    const store = await openStore(url, { busyTimeoutMs });
    const other = new BetterSqlite3(store.target.location);
    other.exec("BEGIN IMMEDIATE");
    const level = (pragma: "synchronous" | "busy_timeout") =>
      store.read(async (tx) => Number(Object.values((await sql<Record<string, number>>`PRAGMA ${sql.raw(pragma)}`.execute(tx)).rows[0] ?? {})[0]));
    const insert = (id: string) => store.transaction((tx) => tx.insertInto("Hold").values(hold(id)).execute());
    return {
      store,
      other,
      level,
      insert,
      async close() {
        if (other.open) other.close();
        await store.close();
        await drop();
      },
    };
  }

  it("waits off the thread: reads go on meanwhile at full safety, and the write lands once the lock is released", async () => {
    const t = await openLocked(30_000);
    try {
      let done = false;
      const waiting = t.insert("waited").then(() => (done = true));
      // Were the wait inside the driver, this process could not run anything until it ended,
      // not even the other connection's COMMIT below.
      for (let i = 0; i < 5; i++) {
        expect(await t.store.read(holdIds)).toEqual([]);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(done).toBe(false);
      expect(await t.level("synchronous")).toBe(2);
      expect(await t.level("busy_timeout")).toBe(30_000);
      t.other.exec("COMMIT");
      await waiting;
      expect(await t.store.read(holdIds)).toEqual(["waited"]);
    } finally {
      await t.close();
    }
  });

  it("gives up after the busy timeout with SQLITE_BUSY, writes nothing, and leaves the connection as it was", async () => {
    const t = await openLocked(150);
    try {
      const err: unknown = await t.insert("refused").catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("SQLITE_BUSY");
      expect(isDatabaseUnavailable(err)).toBe(true);
      t.other.exec("COMMIT");
      expect(await t.store.read(holdIds)).toEqual([]);
      expect(await t.level("synchronous")).toBe(2);
      expect(await t.level("busy_timeout")).toBe(150);
      await t.insert("after");
      expect(await t.store.read(holdIds)).toEqual(["after"]);
    } finally {
      await t.close();
    }
  });
});
