// Transactions for the store's hot paths (ingest, release queueing, decisions, the writer's
// status updates), written as plain SQL with `?` placeholders and run on either provider.
//
// On SQLite they bypass Prisma's client: every raw statement through it is serialised, planned
// by its WebAssembly query compiler and prepared anew by the adapter, which cost more CPU than
// the database spent (half the server's CPU during a mass rebuild). Here statements are
// prepared once and run on the adapter's own connection, inside the adapter's own transaction
// lock, so they never interleave with a Prisma transaction, and their commits are made durable
// off the event loop's thread (walSync.ts). On PostgreSQL the same SQL runs in
// a Prisma interactive transaction (pooled connections, network round trips dominate there).
import type Database from "better-sqlite3";
import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type { Prisma, Provider, Tx } from "./database.js";
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
}

type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;

/**
 * Wraps the SQLite adapter factory so that the store can reach the adapter Prisma connects
 * (Prisma connects lazily, and again after a disconnect).
 */
export class SqliteAdapterHandle {
  readonly provider = "sqlite";
  readonly adapterName: string;
  private adapter: SqliteAdapter | undefined;

  constructor(private readonly factory: PrismaBetterSQLite3) {
    this.adapterName = factory.adapterName;
  }

  async connect(): Promise<SqliteAdapter> {
    this.adapter = await this.factory.connect();
    return this.adapter;
  }

  connectToShadowDb(): Promise<SqliteAdapter> {
    return this.factory.connectToShadowDb();
  }

  current(): SqliteAdapter {
    if (!this.adapter) throw new Error("the SQLite store is not connected yet (no query has run)");
    return this.adapter;
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

/** Error codes of better-sqlite3 when another connection holds the lock (SQLITE_BUSY and its extended codes). */
const isSqliteBusy = (err: unknown): boolean => typeof (err as { code?: unknown } | null)?.code === "string" && /^SQLITE_BUSY/.test((err as { code: string }).code);

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
    const adapter = this.handle.current();
    const { db, walSync } = this.connectionFor(connectionOf(adapter));
    // The adapter's lock serialises this with Prisma's own interactive transactions; it runs
    // BEGIN. As in Prisma's client, COMMIT/ROLLBACK are sent as statements, then the
    // transaction object releases the lock.
    const open = await adapter.startTransaction();
    let finished = false;
    const tx: SqlTx = {
      provider: "sqlite",
      all: <Row>(sql: string, params: readonly SqlValue[] = []) => {
        if (finished) return Promise.reject(new Error("transaction already finished"));
        return Promise.resolve(this.statement(db, sql).all(...(params as unknown[])) as Row[]);
      },
      run: (sql: string, params: readonly SqlValue[] = []) => {
        if (finished) return Promise.reject(new Error("transaction already finished"));
        return Promise.resolve(this.statement(db, sql).run(...(params as unknown[])).changes);
      },
    };
    let result: T;
    try {
      // The adapter's BEGIN is deferred: the write lock would be taken by the first write, and
      // waiting for it there would block the thread for up to the busy timeout. The empty
      // transaction is ended and the lock taken here, waiting off the thread.
      this.statement(db, "COMMIT").run();
      await this.beginImmediate(db, walSync);
      result = await work(tx);
      finished = true;
      this.statement(db, "COMMIT").run();
    } catch (err) {
      finished = true;
      try {
        if (db.inTransaction) this.statement(db, "ROLLBACK").run();
      } finally {
        this.restoreSafety(db, walSync);
        await open.rollback();
      }
      throw err;
    }
    this.restoreSafety(db, walSync);
    await open.commit();
    // Answered only once the commit is on stable storage, as with FULL.
    if (walSync) await walSync.afterCommit();
    return result;
  }

  /**
   * BEGIN IMMEDIATE (the write lock up front: nothing in the transaction can then be refused
   * for another connection's write), tried without the driver's blocking busy wait and retried
   * after a sleep while another process holds the lock, for up to the busy timeout. Each try is
   * one synchronous step: no other statement on this connection can run while the busy timeout
   * is zero or, with walSync, while the safety level is NORMAL outside this transaction.
   */
  private async beginImmediate(db: Database.Database, walSync: WalSync | null): Promise<void> {
    const deadline = performance.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(BUSY_RETRY_MAX_MS, wait * 2)) {
      // The safety level cannot change inside a transaction: it is set before BEGIN.
      if (walSync) this.statement(db, "PRAGMA synchronous = NORMAL").run();
      this.statement(db, "PRAGMA busy_timeout = 0").run();
      try {
        this.statement(db, "BEGIN IMMEDIATE").run();
        return;
      } catch (err) {
        this.restoreSafety(db, walSync);
        if (!isSqliteBusy(err) || performance.now() >= deadline) throw err;
      } finally {
        this.statement(db, `PRAGMA busy_timeout = ${this.busyTimeoutMs}`).run();
      }
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
  constructor(private readonly tx: Tx) {}

  all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.tx.$queryRawUnsafe<Row[]>(numberedPlaceholders(sql), ...params);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.tx.$executeRawUnsafe(numberedPlaceholders(sql), ...params);
  }
}

class PostgresRunner implements SqlRunner {
  readonly provider = "postgresql";
  constructor(private readonly prisma: Prisma) {}

  transaction<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PostgresTx(tx)));
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
