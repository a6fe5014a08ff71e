// The store's one SQLite connection, as a Kysely driver.
//
// Kysely's own SqliteDriver prepares every statement anew and begins deferred transactions.
// This one keeps the properties the ingest and writer paths depend on:
// - one lock for every use of the connection, held by a transaction from BEGIN to its end (on
//   one connection, a statement run while another caller's transaction is open would join it);
// - prepared statements cached by their text (the query compiler's output for one query shape
//   is one text, so the cache stays small);
// - writes begin with BEGIN IMMEDIATE, so nothing inside them can be refused for another
//   process's write; while another process (a CLI verb) holds the write lock the connection's
//   lock is given back and the try comes again after a sleep, instead of the driver's own wait
//   blocking the event loop's thread;
// - with a WalSync, writes commit with synchronous=NORMAL and the store answers once the log has
//   been synced off the thread (walSync.ts): as durable as FULL, without an fsync per commit.
import type BetterSqlite3 from "better-sqlite3";
import { type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from "kysely";

/** better-sqlite3's error when another process holds the lock past the wait (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

// Distinct statement texts are few (a shape per row count of the multi-row inserts), so the
// cache is bounded only as a guard against a caller that builds SQL from data.
const STATEMENT_CACHE_LIMIT = 512;
/** The first waits are short (a CLI verb's write takes milliseconds); later ones back off. */
const BUSY_RETRY_MAX_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SqliteDriverOptions {
  /** How long a write transaction waits for a write lock another process holds. */
  busyTimeoutMs: number;
  /** Set when commits are made durable by a log sync after them (synchronous=NORMAL inside). */
  syncedCommits: boolean;
}

class SqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly db: BetterSqlite3.Database) {}

  statement(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.delete(this.statements.keys().next().value as string);
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  run(sql: string): void {
    this.statement(sql).run();
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const stmt = this.statement(compiledQuery.sql);
      const params = compiledQuery.parameters;
      if (stmt.reader) return Promise.resolve({ rows: stmt.all(...params) as R[] });
      const { changes, lastInsertRowid } = stmt.run(...params);
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
    } catch (err) {
      return rejected(err);
    }
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("the SQLite store does not stream query results");
  }
}

export class SqliteDriver implements Driver {
  private readonly connection: SqliteConnection;
  private readonly lock = new FifoLock();
  /** The lock's release for the connection while it is handed out. */
  private release: (() => void) | null = null;

  constructor(
    db: BetterSqlite3.Database,
    private readonly options: SqliteDriverOptions,
  ) {
    this.connection = new SqliteConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.release = await this.lock.acquire();
    return this.connection;
  }

  async beginTransaction(_connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = this.connection;
    if (settings.accessMode === "read only") {
      // Deferred: one snapshot for the statements of a read, taking no write lock.
      c.run("BEGIN");
      return;
    }
    const deadline = performance.now() + this.options.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(BUSY_RETRY_MAX_MS, wait * 2)) {
      // The safety level cannot change inside a transaction: it is set before BEGIN. Each try
      // is one synchronous step, so no other statement sees the lowered settings.
      if (this.options.syncedCommits) c.run("PRAGMA synchronous = NORMAL");
      c.run("PRAGMA busy_timeout = 0");
      try {
        c.run("BEGIN IMMEDIATE");
        return;
      } catch (err) {
        this.restoreSafety();
        if (!isSqliteBusy(err) || performance.now() >= deadline) throw err;
      } finally {
        c.run(`PRAGMA busy_timeout = ${this.options.busyTimeoutMs}`);
      }
      // Another process holds the write lock: others may use the connection meanwhile.
      this.release?.();
      await sleep(Math.min(wait, Math.max(0, deadline - performance.now())));
      this.release = await this.lock.acquire();
    }
  }

  commitTransaction(): Promise<void> {
    return this.end("COMMIT");
  }

  rollbackTransaction(): Promise<void> {
    return this.end("ROLLBACK");
  }

  /**
   * Ends the transaction and puts the safety level back. COMMIT always runs, so that a
   * transaction SQLite already rolled back on its own (SQLITE_FULL, …) fails here instead of
   * being reported committed; ROLLBACK only while one is open.
   */
  private end(statement: "COMMIT" | "ROLLBACK"): Promise<void> {
    try {
      if (statement === "COMMIT" || this.connection.db.inTransaction) this.connection.run(statement);
      return Promise.resolve();
    } catch (err) {
      return rejected(err);
    } finally {
      this.restoreSafety();
    }
  }

  releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = null;
    release?.();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    const release = await this.lock.acquire();
    try {
      this.connection.db.close();
    } finally {
      release();
    }
  }

  private restoreSafety(): void {
    if (this.options.syncedCommits && !this.connection.db.inTransaction) this.connection.run("PRAGMA synchronous = FULL");
  }
}

/** A first-come, first-served lock. */
class FifoLock {
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
}

/** A rejected promise with what a synchronous step threw (drivers throw Errors; anything else is wrapped). */
export function rejected(err: unknown): Promise<never> {
  return Promise.reject(err instanceof Error ? err : new Error("a store step threw a non-Error value", { cause: err }));
}
