// Transactions for the store's hot paths (ingest, release queueing, decisions, the writer's
// status updates), written as plain SQL with `?` placeholders and run on either provider.
//
// On SQLite they bypass Prisma's client: every raw statement through it is serialised, planned
// by its WebAssembly query compiler and prepared anew by the adapter, which cost more CPU than
// the database spent (half the server's CPU during a mass rebuild). Here statements are
// prepared once and run on the adapter's own connection, holding the lock every use of that
// connection takes (sqliteConnection.ts), and their commits are made durable off the event
// loop's thread (walSync.ts). On PostgreSQL the same SQL runs in
// a Prisma interactive transaction (pooled connections, network round trips dominate there).
import type Database from "better-sqlite3";
import { MAX_BIND_PARAMETERS, type Prisma, type Provider, type Tx } from "./database.js";
import { isSqliteBusy, type SqliteAdapterHandle } from "./sqliteConnection.js";
import { fileSync, WalSync } from "./walSync.js";

/** A bind value both drivers accept (booleans and dates go through sqlBoolean / sqlTimestamp). */
export type SqlValue = string | number | bigint | boolean | Date | null;

/** One open transaction. SQL uses `?` placeholders and double-quoted identifiers. */
export interface SqlTx {
  readonly provider: Provider;
  /** Rows of a query (or of a statement with RETURNING). */
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlRunner {
  readonly provider: Provider;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlTx) => Promise<T>): Promise<T>;
  /**
   * Runs reads only: on SQLite in a deferred transaction (one snapshot, no write lock, no log
   * sync to wait for), on PostgreSQL on the pool without a transaction.
   */
  read<T>(work: (tx: SqlTx) => Promise<T>): Promise<T>;
}

/** A statement with more bind parameters than MAX_BIND_PARAMETERS: a caller did not chunk its list. */
export class BindLimitExceeded extends Error {
  constructor(
    readonly binds: number,
    sql: string,
  ) {
    super(`statement binds ${binds} parameters, more than the ${MAX_BIND_PARAMETERS} one statement may carry: ${sql.slice(0, 120)}`);
  }
}

type StatementObserver = (sql: string, binds: number) => void;
const observers = new Set<StatementObserver>();

/**
 * Calls `observer` with every statement the runners are about to send and its bind count, until
 * the returned function is called (tests: the bind-limit suite measures each store statement).
 */
export function observeStatements(observer: StatementObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/**
 * The one place where a statement's bind parameters are counted: every store statement that
 * binds a list runs through here, so the count is the parameters themselves, nothing hidden
 * (Prisma's query builder adds LIMIT and OFFSET parameters of its own to every findMany).
 */
function checkedParams(sql: string, params: readonly SqlValue[]): unknown[] {
  for (const o of observers) o(sql, params.length);
  if (params.length > MAX_BIND_PARAMETERS) throw new BindLimitExceeded(params.length, sql);
  return params as unknown[];
}

// Distinct statement texts are few (a shape per row count of the multi-row inserts), so the
// cache is bounded only as a guard against a caller that builds SQL from data.
const STATEMENT_CACHE_LIMIT = 512;

/** What the runner found out about a connection when it first used it. */
interface SqliteConnection {
  db: Database.Database;
  /**
   * Set when the database is in WAL mode with synchronous=FULL (openDatabase's settings): the
   * runner's transactions then commit with NORMAL and wait for this sync of the log instead.
   */
  walSync: WalSync | null;
}

export interface SqliteRunnerOptions {
  /** Syncs the log after the runner's commits (tests watch it). */
  syncOf?: (walFile: string) => () => Promise<void>;
  /** How long a transaction waits for a write lock another process holds. */
  busyTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The first waits are short (a CLI verb's write takes milliseconds); later ones back off. */
const BUSY_RETRY_MAX_MS = 50;

class SqliteRunner implements SqlRunner {
  readonly provider = "sqlite";
  private readonly statements = new Map<string, Database.Statement>();
  private connection: SqliteConnection | undefined;
  private readonly syncOf: (walFile: string) => () => Promise<void>;
  private readonly busyTimeoutMs: number;

  constructor(
    private readonly handle: SqliteAdapterHandle,
    options: SqliteRunnerOptions,
  ) {
    this.syncOf = options.syncOf ?? fileSync;
    this.busyTimeoutMs = options.busyTimeoutMs;
  }

  async transaction<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    const { db, walSync, release } = await this.begin();
    let finished = false;
    const tx: SqlTx = {
      provider: "sqlite",
      all: <Row>(sql: string, params: readonly SqlValue[] = []) => {
        if (finished) return Promise.reject(new Error("transaction already finished"));
        return Promise.resolve(this.statement(db, sql).all(...checkedParams(sql, params)) as Row[]);
      },
      run: (sql: string, params: readonly SqlValue[] = []) => {
        if (finished) return Promise.reject(new Error("transaction already finished"));
        return Promise.resolve(this.statement(db, sql).run(...checkedParams(sql, params)).changes);
      },
    };
    let result: T;
    try {
      result = await work(tx);
      finished = true;
      this.statement(db, "COMMIT").run();
    } catch (err) {
      finished = true;
      try {
        if (db.inTransaction) this.statement(db, "ROLLBACK").run();
      } finally {
        this.restoreSafety(db, walSync);
        release();
      }
      throw err;
    }
    this.restoreSafety(db, walSync);
    release();
    // Answered only once the commit is on stable storage, as with FULL.
    if (walSync) await walSync.afterCommit();
    return result;
  }

  async read<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    const release = await this.handle.lock.acquire();
    try {
      const db = this.handle.current();
      this.connectionFor(db);
      let finished = false;
      const tx: SqlTx = {
        provider: "sqlite",
        all: <Row>(sql: string, params: readonly SqlValue[] = []) => {
          if (finished) return Promise.reject(new Error("read already finished"));
          return Promise.resolve(this.statement(db, sql).all(...checkedParams(sql, params)) as Row[]);
        },
        run: () => Promise.reject(new Error("a read runs no statement that writes")),
      };
      // Deferred: a snapshot for the chunks of one read, taking no write lock.
      this.statement(db, "BEGIN").run();
      try {
        return await work(tx);
      } finally {
        finished = true;
        if (db.inTransaction) this.statement(db, "COMMIT").run();
      }
    } finally {
      release();
    }
  }

  /**
   * Takes the connection's lock and begins with BEGIN IMMEDIATE: the write lock up front, so
   * that nothing in the transaction can be refused for another process's write. Each try is
   * one synchronous step: no other statement on the connection runs while its busy timeout is
   * zero or, with walSync, while the safety level is NORMAL outside this transaction. While
   * another process holds the write lock the connection's lock is given back (Prisma's reads go
   * on) and the try comes again after a sleep, until the busy timeout has passed: the driver's
   * own wait would block the thread that long.
   */
  private async begin(): Promise<{ db: Database.Database; walSync: WalSync | null; release: () => void }> {
    const deadline = performance.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(BUSY_RETRY_MAX_MS, wait * 2)) {
      const release = await this.handle.lock.acquire();
      try {
        const db = this.handle.current();
        const { walSync } = this.connectionFor(db);
        // The safety level cannot change inside a transaction: it is set before BEGIN.
        if (walSync) this.statement(db, "PRAGMA synchronous = NORMAL").run();
        this.statement(db, "PRAGMA busy_timeout = 0").run();
        try {
          this.statement(db, "BEGIN IMMEDIATE").run();
          return { db, walSync, release };
        } catch (err) {
          this.restoreSafety(db, walSync);
          if (!isSqliteBusy(err) || performance.now() >= deadline) throw err;
        } finally {
          this.statement(db, `PRAGMA busy_timeout = ${this.busyTimeoutMs}`).run();
        }
      } catch (err) {
        release();
        throw err;
      }
      release();
      await sleep(Math.min(wait, Math.max(0, deadline - performance.now())));
    }
  }

  private restoreSafety(db: Database.Database, walSync: WalSync | null): void {
    if (walSync && !db.inTransaction) this.statement(db, "PRAGMA synchronous = FULL").run();
  }

  private connectionFor(db: Database.Database): SqliteConnection {
    if (this.connection?.db !== db) {
      this.statements.clear();
      const wal = String(db.pragma("journal_mode", { simple: true })).toLowerCase() === "wal";
      const full = Number(db.pragma("synchronous", { simple: true })) === 2;
      this.connection = { db, walSync: wal && full && db.name !== ":memory:" ? new WalSync(this.syncOf(`${db.name}-wal`)) : null };
    }
    return this.connection;
  }

  private statement(db: Database.Database, sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.delete(this.statements.keys().next().value as string);
      stmt = db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` inside literals). */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class PostgresTx implements SqlTx {
  readonly provider = "postgresql";
  /** `tx`: an interactive transaction, or the client itself for reads outside one. */
  constructor(private readonly tx: Tx | Prisma) {}

  all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    try {
      return this.tx.$queryRawUnsafe<Row[]>(numberedPlaceholders(sql), ...checkedParams(sql, params));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    try {
      return this.tx.$executeRawUnsafe(numberedPlaceholders(sql), ...checkedParams(sql, params));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

class PostgresRunner implements SqlRunner {
  readonly provider = "postgresql";
  constructor(private readonly prisma: Prisma) {}

  transaction<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PostgresTx(tx)));
  }

  read<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return work(new PostgresTx(this.prisma));
  }
}

/** The direct runner on SQLite's connection; `syncOf` syncs the log after its commits. */
export function sqliteRunner(handle: SqliteAdapterHandle, options: SqliteRunnerOptions): SqlRunner {
  return new SqliteRunner(handle, options);
}

/** The runner on PostgreSQL: Prisma's interactive transactions. */
export function postgresRunner(prisma: Prisma): SqlRunner {
  return new PostgresRunner(prisma);
}

const runners = new WeakMap<Prisma, SqlRunner>();

/** openDatabase registers the runner of each client it opens. */
export function registerSqlRunner(prisma: Prisma, runner: SqlRunner): void {
  runners.set(prisma, runner);
}

/** The runner of a client opened by openDatabase. */
export function sqlRunnerOf(prisma: Prisma): SqlRunner {
  const runner = runners.get(prisma);
  if (!runner) throw new Error("this Prisma client was not opened by openDatabase: no SQL runner for it");
  return runner;
}

/**
 * `(?, ?, ?), (?, ?, ?)`: the VALUES list of a multi-row statement of `rows` rows, each row
 * ending in `constants` (SQL literals the same in every row) when given.
 */
export function valuesList(rows: number, columns: number, constants?: string): string {
  const row = `(${new Array<string>(columns).fill("?").join(", ")}${constants ? `, ${constants}` : ""})`;
  return new Array<string>(rows).fill(row).join(", ");
}

/** `?, ?, ?`: an IN list of `n` values. */
export function inList(n: number): string {
  return new Array<string>(n).fill("?").join(", ");
}
