// Opens the artifact store on SQLite or PostgreSQL, chosen by the database URL's scheme.
import path from "node:path";
import { parseDatabaseUrl, pgSearchPathOption, type DatabaseTarget, type Provider } from "./databaseUrl.js";
import { openStore, type Store } from "./store.js";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as SqliteClient, type Prisma as SqlitePrisma } from "./generated/sqlite/client.js";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client.js";
import { postgresRunner, registerSqlRunner, sqliteRunner } from "./sql.js";
import { ensurePrivateDatabaseFile, ensurePrivateDir } from "./privateFiles.js";
import { SqliteAdapterHandle } from "./sqliteConnection.js";

/**
 * Both generated clients have the same models and methods (one schema, two providers); the
 * store is written against the SQLite client's types and the PostgreSQL client is used through
 * them.
 */
export type Prisma = SqliteClient;

/** A client bound to an open interactive transaction. */
export type Tx = SqlitePrisma.TransactionClient;

export { parseDatabaseUrl, pgSearchPathOption, type DatabaseTarget, type Provider } from "./databaseUrl.js";

/**
 * Which provider a client was generated for, so repositories can pick provider-specific SQL for
 * their hot paths. Prisma's runtime class carries `_activeProvider` (declared in its runtime
 * typings, not on the generated client's public type).
 */
export function providerOf(prisma: Prisma): Provider {
  const active = (prisma as unknown as { _activeProvider?: string })._activeProvider;
  if (active !== "sqlite" && active !== "postgresql") throw new Error(`unknown Prisma provider ${String(active)}`);
  return active;
}

export interface Database {
  target: DatabaseTarget;
  prisma: Prisma;
  /** The store's one typed way to the database; repositories move onto it from `prisma`. */
  store: Store;
  close(): Promise<void>;
}

/**
 * A DateTime value for raw SQL, in the form Prisma itself writes: on SQLite ISO text with an
 * explicit offset (so Prisma's own filters compare alike), on PostgreSQL a Date.
 */
export function sqlTimestamp(provider: Provider, date: Date): Date | string {
  return provider === "sqlite" ? date.toISOString().replace("Z", "+00:00") : date;
}

/** A Boolean value for raw SQL: SQLite stores Prisma's Boolean as 0/1. */
export function sqlBoolean(provider: Provider, value: boolean): boolean | number {
  return provider === "sqlite" ? (value ? 1 : 0) : value;
}

/**
 * The most bind parameters one store statement carries, on both providers. Prisma 6.19 refuses
 * (P2029, before the database sees it) statements of its query builder with more than 999 on
 * SQLite and 32,766 on PostgreSQL; SQLite builds before 3.32 allow 999, later ones 32,766, and
 * PostgreSQL's protocol 65,535. The smallest is used everywhere, so one statement shape is
 * tested on both databases. Prisma's query builder also adds bind parameters of its own
 * (`LIMIT ? OFFSET ?` on every findMany), so a list is never given to it: statements that bind a
 * list run through the SQL runner (sql.ts), which counts exactly what is bound and refuses more.
 */
export const MAX_BIND_PARAMETERS = 999;

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

/**
 * How long a SQLite write waits for the lock another process (a CLI verb: token revoke, prune,
 * migrate) holds on the same file before it gives up with SQLITE_BUSY, which the API answers
 * with 503 and Retry-After.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export interface OpenOptions {
  /** SQLite: how the log file is synced after the store's own commits (tests watch it). */
  syncWal?: (walFile: string) => () => Promise<void>;
  /** SQLite: how long a write waits for another process's lock (default SQLITE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  if (target.provider === "sqlite") {
    ensurePrivateDir(path.dirname(target.location));
    ensurePrivateDatabaseFile(target.location);
    // CLI verbs may write while the server runs. Prisma's own statements wait for them inside
    // the driver (blocking the thread); the runner's transactions wait off it (sql.ts).
    const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS;
    const adapter = new SqliteAdapterHandle(new PrismaBetterSQLite3({ url: `file:${target.location}`, timeout: busyTimeoutMs }));
    const prisma = new SqliteClient({ adapter });
    registerSqlRunner(prisma, sqliteRunner(adapter, { ...(options.syncWal ? { syncOf: options.syncWal } : {}), busyTimeoutMs }));
    // WAL lets readers proceed during a write; synchronous=FULL makes every commit durable
    // before it returns (the API answers only after that). Group commit amortises the fsync.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = FULL");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    const store = await openStore(url, options);
    return { target, prisma, store, close: () => Promise.all([prisma.$disconnect(), store.close()]).then(() => undefined) };
  }
  const adapter = new PrismaPg(
    { connectionString: target.location, options: pgSearchPathOption(target.schema), max: 10 },
    { schema: target.schema },
  );
  const prisma = new PostgresClient({ adapter }) as unknown as Prisma;
  registerSqlRunner(prisma, postgresRunner(prisma));
  const store = await openStore(url, options);
  return { target, prisma, store, close: () => Promise.all([prisma.$disconnect(), store.close()]).then(() => undefined) };
}
