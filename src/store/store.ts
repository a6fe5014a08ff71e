// The artifact store: the one way to the database, on SQLite or PostgreSQL.
//
// Every runtime query is a Kysely query over the table types prisma-kysely generates from
// prisma/schema.prisma (so it is checked against the schema at compile time), run on the
// driver connections: better-sqlite3 through the store's own driver (sqliteDriver.ts), pg
// through Kysely's PostgreSQL dialect set up to return SQLite's column forms
// (postgresDialect.ts). Prisma stays the schema and the migrations. Flows get one transaction
// type: `Tx`, from `store.transaction(work)`.
import path from "node:path";
import Database from "better-sqlite3";
import {
  Kysely,
  PostgresAdapter,
  PostgresDriver,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { DB } from "./generated/kysely/types.js";
import { parseDatabaseUrl, type DatabaseTarget, type Provider } from "./databaseUrl.js";
import { postgresPool } from "./postgresDialect.js";
import { ensurePrivateDatabaseFile, ensurePrivateDir } from "./privateFiles.js";
import { rejected, SqliteDriver } from "./sqliteDriver.js";
import { SqliteCheckpointer } from "./sqliteCheckpointer.js";
import { fileSync, WalSync } from "./walSync.js";

export type { DB } from "./generated/kysely/types.js";
export type { DatabaseTarget, Provider } from "./databaseUrl.js";

/** Queries inside one transaction (or one read): what repositories and flows are given. */
export type Tx = Kysely<DB>;

export interface Store {
  readonly provider: Provider;
  readonly target: DatabaseTarget;
  /**
   * Runs `work` in one write transaction: committed when it resolves, rolled back when it
   * throws. Resolves only once the commit is on stable storage.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs reads only: on SQLite in one deferred transaction (one snapshot, no write lock, no log
   * sync to wait for), on PostgreSQL on the pool without a transaction.
   */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The most bind parameters one store statement carries, on both databases. SQLite builds before
 * 3.32 allow 999, later ones 32,766, and PostgreSQL's protocol 65,535: the smallest is used
 * everywhere, so one statement shape is tested on both databases. Every statement is counted
 * as it is sent (BindLimitExceeded past it); lists are cut with `chunksFor`.
 */
export const MAX_BIND_PARAMETERS = 999;

/** A statement with more bind parameters than MAX_BIND_PARAMETERS: a caller did not chunk its list. */
export class BindLimitExceeded extends Error {
  constructor(
    readonly binds: number,
    sql: string,
  ) {
    super(`statement binds ${binds} parameters, more than the ${MAX_BIND_PARAMETERS} one statement may carry: ${sql.slice(0, 120)}`);
  }
}

/**
 * Splits `items` so that each chunk binds at most MAX_BIND_PARAMETERS at `perItem` each, with
 * `reserved` parameters of the statement's other conditions besides.
 */
export function chunksFor<T>(items: readonly T[], perItem: number, reserved = 0): T[][] {
  const size = Math.max(1, Math.floor((MAX_BIND_PARAMETERS - reserved) / perItem));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type StatementObserver = (sql: string, binds: number, parameters: readonly unknown[]) => void;
const observers = new Set<StatementObserver>();

/**
 * Calls `observer` with every statement the store is about to send, its bind count and its
 * parameters, until the returned function is called (tests: the bind-limit suite measures each
 * store statement; the query benchmark explains them).
 */
export function observeStatements(observer: StatementObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** A DateTime column's value as stored: ISO text with an explicit offset (Prisma's own form on SQLite). */
export function stamp(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

/** A stored DateTime column's value as a Date. */
export function fromStamp(value: string): Date {
  return new Date(value);
}

/** A Boolean column's value as stored (0/1; PostgreSQL takes and returns the same through the store). */
export function flag(value: boolean): number {
  return value ? 1 : 0;
}

/**
 * How long a SQLite write waits for the lock another process (a CLI verb: token revoke, prune,
 * migrate) holds on the same file before it gives up with SQLITE_BUSY, which the API answers
 * with 503 and Retry-After.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export interface OpenOptions {
  /** SQLite: how the log file is synced after the store's commits (tests watch it). */
  syncWal?: (walFile: string) => () => Promise<void>;
  /** SQLite: how long a write waits for another process's lock (default SQLITE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number;
}

export function openStore(url: string, options: OpenOptions = {}): Promise<Store> {
  try {
    const target = parseDatabaseUrl(url);
    return Promise.resolve(target.provider === "sqlite" ? openSqlite(target, options) : openPostgres(target, options));
  } catch (err) {
    return rejected(err);
  }
}

function openSqlite(target: DatabaseTarget, options: OpenOptions): Store {
  ensurePrivateDir(path.dirname(target.location));
  ensurePrivateDatabaseFile(target.location);
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS;
  const db = new Database(target.location, { timeout: busyTimeoutMs });
  // WAL lets readers proceed during a write; synchronous=FULL makes every commit durable before
  // it returns. The store's transactions commit with NORMAL and wait for a sync of the log
  // instead (walSync.ts), which one sync shares among every commit made before it.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  // Checkpoints run in a worker thread (sqliteCheckpointer.ts), never in a COMMIT of ours.
  db.pragma("wal_autocheckpoint = 0");
  const checkpointer = new SqliteCheckpointer(target.location, () => db.pragma("wal_autocheckpoint = 1000"));
  const walSync = new WalSync((options.syncWal ?? fileSync)(`${target.location}-wal`));
  const driver = new SqliteDriver(db, { busyTimeoutMs, syncedCommits: true });
  const kysely = new Kysely<DB>({ dialect: dialect(driver, new LockingSqliteAdapter(), () => new SqliteQueryCompiler(), (k) => new SqliteIntrospector(k)) });
  return {
    provider: "sqlite",
    target,
    async transaction(work) {
      const result = await kysely.transaction().execute(work);
      // Answered only once the commit is on stable storage, as with FULL; the connection is
      // free meanwhile, so commits made during this sync share the next one.
      await walSync.afterCommit();
      checkpointer.nudge();
      return result;
    },
    read(work) {
      return kysely.transaction().setAccessMode("read only").execute(work);
    },
    async close() {
      await checkpointer.stop();
      // The last connection to close checkpoints what is left, here.
      await kysely.destroy();
    },
  };
}

function openPostgres(target: DatabaseTarget, options: OpenOptions): Store {
  const pool = postgresPool(target, options.poolSize ?? 10);
  const kysely = new Kysely<DB>({
    dialect: dialect(new PostgresDriver({ pool }), new PostgresAdapter(), () => new PostgresQueryCompiler(), (k) => new PostgresIntrospector(k)),
  });
  return {
    provider: "postgresql",
    target,
    transaction: (work) => kysely.transaction().execute(work),
    read: (work) => work(kysely),
    close: () => kysely.destroy(),
  };
}

/** The store's driver serialises the SQLite connection itself (and lets go of it while waiting for another process). */
class LockingSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

function dialect(
  driver: Driver,
  adapter: SqliteAdapter | PostgresAdapter,
  compiler: () => SqliteQueryCompiler | PostgresQueryCompiler,
  introspector: (db: Kysely<DB>) => SqliteIntrospector | PostgresIntrospector,
): Dialect {
  return {
    createDriver: () => new BindCheckingDriver(driver),
    createAdapter: () => adapter,
    createQueryCompiler: compiler,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Dialect interface types the introspector's database as Kysely<any>
    createIntrospector: (db: Kysely<any>) => introspector(db as Kysely<DB>),
  };
}

/**
 * The one place where a statement's bind parameters are counted: every statement of the store
 * passes here on either database.
 */
class BindCheckingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
  private readonly unwrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let checked = this.wrapped.get(connection);
    if (!checked) {
      checked = {
        executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
          const binds = query.parameters.length;
          for (const o of observers) o(query.sql, binds, query.parameters);
          if (binds > MAX_BIND_PARAMETERS) return Promise.reject(new BindLimitExceeded(binds, query.sql));
          return connection.executeQuery<R>(query);
        },
        streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
      };
      this.wrapped.set(connection, checked);
      this.unwrapped.set(checked, connection);
    }
    return checked;
  }

  private innerOf(connection: DatabaseConnection): DatabaseConnection {
    return this.unwrapped.get(connection) ?? connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(this.innerOf(connection), settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(this.innerOf(connection));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(this.innerOf(connection));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
