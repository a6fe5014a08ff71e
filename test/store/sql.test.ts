// The store's plain-SQL transactions: same SQL on both providers, atomic, and on SQLite never
// mixed into a Prisma transaction open on the same connection.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { inList, numberedPlaceholders, sqlRunnerOf, valuesList } from "../../src/store/sql.js";
import { openDatabase, sqlTimestamp } from "../../src/store/database.js";
import { migrate } from "../../src/store/migrator.js";
import { isDatabaseUnavailable } from "../../src/store/storeFailure.js";
import { freshDatabase, freshDatabaseUrl, testProviders, type TestDatabase } from "../support/database.js";

const HOLD_INSERT = `INSERT INTO "Hold" ("id", "environment", "package", "reason", "createdBy", "createdAt") VALUES`;

describe("SQL text helpers", () => {
  it("numbers placeholders for PostgreSQL in order", () => {
    expect(numberedPlaceholders(`SELECT ? WHERE "a" IN (?, ?) AND "b" = 'x'`)).toBe(`SELECT $1 WHERE "a" IN ($2, $3) AND "b" = 'x'`);
  });

  it("builds VALUES and IN lists", () => {
    expect(valuesList(2, 3)).toBe("(?, ?, ?), (?, ?, ?)");
    expect(valuesList(1, 2, "'queued', 0")).toBe("(?, ?, 'queued', 0)");
    expect(inList(3)).toBe("?, ?, ?");
  });
});

describe.each(testProviders)("SQL runner on %s", (provider) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.dispose();
    database = undefined;
  });

  async function open() {
    database = await freshDatabase(provider);
    const prisma = database.db.prisma;
    return { prisma, sql: sqlRunnerOf(prisma), stamp: sqlTimestamp(provider, new Date()) };
  }

  const packagesIn = async (prisma: TestDatabase["db"]["prisma"]) => (await prisma.hold.findMany({ orderBy: { package: "asc" } })).map((h) => h.package);

  it("commits when the work resolves, with RETURNING rows and changed-row counts", async () => {
    const { prisma, sql, stamp } = await open();
    const out = await sql.transaction(async (tx) => {
      const returned = await tx.all<{ id: string }>(`${HOLD_INSERT} ${valuesList(2, 6)} RETURNING "id"`, ["h1", "f44", "a", "r", "me", stamp, "h2", "f44", "b", "r", "me", stamp]);
      const changed = await tx.run(`UPDATE "Hold" SET "reason" = ? WHERE "id" IN (${inList(2)})`, ["why", "h1", "h2"]);
      return { returned: returned.map((r) => r.id).sort(), changed };
    });
    expect(out).toEqual({ returned: ["h1", "h2"], changed: 2 });
    expect(await packagesIn(prisma)).toEqual(["a", "b"]);
    expect((await prisma.hold.findUnique({ where: { id: "h1" } }))?.createdAt).toBeInstanceOf(Date);
  });

  it("rolls everything back when the work throws, and the store stays usable", async () => {
    const { prisma, sql, stamp } = await open();
    await expect(
      sql.transaction(async (tx) => {
        await tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["h1", "f44", "a", "r", "me", stamp]);
        // The same (environment, package) again: a unique violation from the database itself.
        await tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["h2", "f44", "a", "r", "me", stamp]);
      }),
    ).rejects.toThrow();
    expect(await packagesIn(prisma)).toEqual([]);
    await sql.transaction((tx) => tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["h3", "f44", "c", "r", "me", stamp]));
    expect(await packagesIn(prisma)).toEqual(["c"]);
  });

  it("waits for a Prisma transaction open on the same store: a rollback there does not take its write along", async () => {
    const { prisma, sql, stamp } = await open();
    let inside!: () => void;
    const prismaOpen = new Promise<void>((resolve) => (inside = resolve));
    const prismaTx = prisma
      .$transaction(async (tx) => {
        await tx.hold.create({ data: { id: "p1", environment: "f44", package: "prisma", reason: "r", createdBy: "me", createdAt: new Date() } });
        inside();
        await new Promise((r) => setTimeout(r, 150));
        throw new Error("rolled back on purpose");
      })
      .catch((err: Error) => err.message);
    await prismaOpen;
    const ours = sql.transaction(async (tx) => {
      // Inside the other transaction (one SQLite connection) this would see its uncommitted row.
      const seen = await tx.all<{ id: string }>(`SELECT "id" FROM "Hold"`);
      await tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["s1", "f44", "runner", "r", "me", stamp]);
      return seen.map((h) => h.id);
    });
    expect(await prismaTx).toBe("rolled back on purpose");
    expect(await ours).toEqual([]);
    expect(await packagesIn(prisma)).toEqual(["runner"]);
  });

  // On SQLite every statement shares one connection: a statement that ran while a transaction
  // was open there would be part of it, and answered as done, then undone by its rollback.
  it.each(["a Prisma transaction", "a runner transaction"])("keeps a write made while %s is open, when that transaction rolls back", async (which) => {
    const { prisma, sql, stamp } = await open();
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => (inside = resolve));
    const rolledBack = (async () => {
      const hold = async () => {
        inside();
        await new Promise((r) => setTimeout(r, 100));
        throw new Error("rolled back on purpose");
      };
      if (which === "a Prisma transaction") {
        await prisma.$transaction(async (tx) => {
          await tx.hold.create({ data: { id: "in-tx", environment: "f44", package: "in-tx", reason: "r", createdBy: "me", createdAt: new Date() } });
          await hold();
        });
      } else {
        await sql.transaction(async (tx) => {
          await tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["in-tx", "f44", "in-tx", "r", "me", stamp]);
          await hold();
        });
      }
    })().catch((err: Error) => err.message);
    await opened;
    await prisma.hold.create({ data: { id: "outside", environment: "f44", package: "outside", reason: "r", createdBy: "me", createdAt: new Date() } });
    await sql.transaction((tx) => tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["runner", "f44", "runner", "r", "me", stamp]));
    expect(await rolledBack).toBe("rolled back on purpose");
    expect(await packagesIn(prisma)).toEqual(["outside", "runner"]);
  });

  it("refuses statements once its transaction has finished", async () => {
    const { sql } = await open();
    let leaked: Parameters<Parameters<typeof sql.transaction>[0]>[0] | undefined;
    await sql.transaction(async (tx) => {
      leaked = tx;
    });
    await expect((leaked as NonNullable<typeof leaked>).all(`SELECT 1 AS "one"`)).rejects.toThrow();
  });
});

describe("SQL runner on sqlite, durability", () => {
  it("commits without an inline fsync, answers after syncing the log, and leaves FULL for every other commit", async () => {
    const { url, drop } = freshDatabaseUrl("sqlite");
    await migrate(url);
    const synced: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const db = await openDatabase(url, {
      syncWal: (file) => async () => {
        await gate;
        synced.push(file);
      },
    });
    try {
      const prisma = db.prisma;
      const sql = sqlRunnerOf(prisma);
      let answered = false;
      const committed = sql
        .transaction((tx) => tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, ["h1", "f44", "a", "r", "me", sqlTimestamp("sqlite", new Date())]))
        .then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 50));
      // Committed (another reader sees it) but not yet answered: the log is not synced yet.
      expect(await prisma.hold.count()).toBe(1);
      expect(answered).toBe(false);
      const level = async () => Number((await prisma.$queryRawUnsafe<{ synchronous: number | bigint }[]>("PRAGMA synchronous"))[0]?.synchronous);
      expect(await level()).toBe(2);
      release();
      await committed;
      expect(synced).toEqual([`${db.target.location}-wal`]);
      // A failed transaction restores the safety level too.
      await expect(sql.transaction(async (tx) => tx.run(`INSERT INTO "Nope" VALUES (1)`))).rejects.toThrow();
      expect(await level()).toBe(2);
    } finally {
      await db.close();
      await drop();
    }
  });
});

// A CLI verb (token revoke, prune, migrate) writing to the server's SQLite file holds its lock
// meanwhile. The runner waits for it without blocking the thread, and gives up with SQLITE_BUSY
// after the busy timeout, leaving the connection as it found it.
describe("SQL runner on sqlite, another process holding the write lock", () => {
  async function openLocked(busyTimeoutMs: number) {
    const { url, drop } = freshDatabaseUrl("sqlite");
    await migrate(url);
    const db = await openDatabase(url, { busyTimeoutMs });
    // Prisma connects on its first query; the runner needs the connection.
    await db.prisma.hold.count();
    const other = new BetterSqlite3(db.target.location);
    other.exec("BEGIN IMMEDIATE");
    const level = async (pragma: "synchronous" | "busy_timeout") => Number(Object.values((await db.prisma.$queryRawUnsafe<Record<string, number | bigint>[]>(`PRAGMA ${pragma}`))[0] ?? {})[0]);
    const insert = (id: string) => sqlRunnerOf(db.prisma).transaction((tx) => tx.run(`${HOLD_INSERT} ${valuesList(1, 6)}`, [id, "f44", id, "r", "me", sqlTimestamp("sqlite", new Date())]));
    return {
      db,
      other,
      level,
      insert,
      async close() {
        if (other.open) other.close();
        await db.close();
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
        expect(await t.db.prisma.hold.count()).toBe(0);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(done).toBe(false);
      // A Prisma write arriving now would commit with the connection's level: FULL, not the runner's NORMAL.
      expect(await t.level("synchronous")).toBe(2);
      expect(await t.level("busy_timeout")).toBe(30_000);
      t.other.exec("COMMIT");
      await waiting;
      expect((await t.db.prisma.hold.findMany()).map((h) => h.id)).toEqual(["waited"]);
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
      expect(await t.db.prisma.hold.count()).toBe(0);
      expect(await t.level("synchronous")).toBe(2);
      expect(await t.level("busy_timeout")).toBe(150);
      await t.insert("after");
      expect((await t.db.prisma.hold.findMany()).map((h) => h.id)).toEqual(["after"]);
    } finally {
      await t.close();
    }
  });
});
