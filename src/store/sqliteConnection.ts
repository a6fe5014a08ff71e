// The one SQLite connection of a process, shared by Prisma and the store's SQL runner.
//
// Prisma's better-sqlite3 adapter serialises its transactions with a lock of its own, but runs
// every other statement at once: on a single connection, a write made while a transaction is
// open becomes part of that transaction. Its caller is told it is done, and a rollback of the
// transaction then undoes it. Here every use of the connection takes one lock, and a
// transaction holds it from BEGIN to COMMIT or ROLLBACK.
import type Database from "better-sqlite3";
import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type SqliteTransaction = Awaited<ReturnType<SqliteAdapter["startTransaction"]>>;

/** better-sqlite3's error when another process holds the lock past the wait (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/** A first-come, first-served lock. */
export class ConnectionLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves, once every earlier holder has released it, to the function that releases it. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const turn = this.tail.then(() => {
      let done = false;
      return () => {
        if (done) return;
        done = true;
        release();
      };
    });
    this.tail = this.tail.then(() => released);
    return turn;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}

/**
 * Wraps the SQLite adapter factory: the adapter Prisma connects takes `lock` for every
 * statement and for the whole of every transaction, and the store's SQL runner reaches the
 * same connection and lock here (Prisma connects lazily, and again after a disconnect).
 */
export class SqliteAdapterHandle {
  readonly provider = "sqlite";
  readonly adapterName: string;
  readonly lock = new ConnectionLock();
  private connection: Database.Database | undefined;

  constructor(private readonly factory: PrismaBetterSQLite3) {
    this.adapterName = factory.adapterName;
  }

  async connect(): Promise<SqliteAdapter> {
    const adapter = await this.factory.connect();
    this.connection = connectionOf(adapter);
    return serialized(adapter, this.lock);
  }

  connectToShadowDb(): Promise<SqliteAdapter> {
    return this.factory.connectToShadowDb();
  }

  /** The better-sqlite3 connection Prisma uses; only to be used while holding `lock`. */
  current(): Database.Database {
    if (!this.connection) throw new Error("the SQLite store is not connected yet (no query has run)");
    return this.connection;
  }
}

/**
 * The better-sqlite3 connection inside the adapter. The adapter keeps it in a plain `client`
 * field that its typings do not declare; relengd pins @prisma/adapter-better-sqlite3 exactly,
 * and this check fails loudly at start-up should a new version move it.
 */
function connectionOf(adapter: SqliteAdapter): Database.Database {
  const client = (adapter as unknown as { client?: Database.Database }).client;
  if (!client || typeof client.prepare !== "function" || typeof client.inTransaction !== "boolean") {
    throw new Error("@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`; the SQLite fast path needs updating");
  }
  return client;
}

function serialized(adapter: SqliteAdapter, lock: ConnectionLock): SqliteAdapter {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => lock.run(() => adapter.queryRaw(query)),
    executeRaw: (query) => lock.run(() => adapter.executeRaw(query)),
    executeScript: (script) => lock.run(() => adapter.executeScript(script)),
    async startTransaction(isolationLevel) {
      const release = await lock.acquire();
      try {
        return holding(await adapter.startTransaction(isolationLevel), release);
      } catch (err) {
        release();
        throw err;
      }
    },
    ...(adapter.getConnectionInfo ? { getConnectionInfo: () => (adapter.getConnectionInfo as NonNullable<SqliteAdapter["getConnectionInfo"]>)() } : {}),
    dispose: () => adapter.dispose(),
  };
}

/** The transaction, releasing the connection's lock once it is committed or rolled back. */
function holding(tx: SqliteTransaction, release: () => void): SqliteTransaction {
  const end = (finish: () => Promise<void>) => async () => {
    try {
      await finish();
    } finally {
      release();
    }
  };
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => tx.queryRaw(query),
    executeRaw: (query) => tx.executeRaw(query),
    commit: end(() => tx.commit()),
    rollback: end(() => tx.rollback()),
  };
}
