// Which store errors are the database's (unreachable, busy, a transaction conflict) rather than a caller's: those are worth a retry.
import { isSqliteBusy } from "./sqliteDriver.js";
import { BindLimitExceeded } from "./store.js";

// A database that is down, restarting, out of connections or locked by another process: the
// request may succeed later, so the caller hears 503 with Retry-After instead of a 500.
// SQLSTATEs: class 08 (connection exception), 57P01-57P03 (shutting down, crashed, starting
// up), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
// The socket's own errors when PostgreSQL cannot be reached or goes away.
const UNAVAILABLE_SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
// node-postgres's own words when the socket goes away under a query or a connect times out.
const PG_CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/**
 * Whether `err` says the database cannot be reached right now: a driver error, or one that
 * carries it as its cause (a connect failure to several addresses is an AggregateError).
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code))) return true;
  // SQLite's file locked by another process (a CLI verb writing) past the busy timeout.
  if (isSqliteBusy(e)) return true;
  if (typeof e.message === "string" && PG_CONNECTION_LOST.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

// SQLSTATE 40001 (serialization failure) and 40P01 (deadlock detected): the transaction may be retried.
const RETRYABLE_SQLSTATE = /^(40001|40P01)$/;

/**
 * Whether a failure came from the database being unable to act right now (down, locked,
 * a conflicting transaction) rather than from what it was asked: the same request may succeed
 * when made again, so a bus message that met it is redelivered rather than rejected.
 */
export function isTransientStoreFailure(err: unknown, depth = 0): boolean {
  if (isDatabaseUnavailable(err)) return true;
  if (depth > 4 || typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; cause?: unknown };
  if (typeof e.code === "string" && RETRYABLE_SQLSTATE.test(e.code)) return true;
  return isTransientStoreFailure(e.cause, depth + 1);
}

/**
 * Whether an error came from the store at all (a driver's error, a statement refused for its
 * binds, the database unreachable) rather than from git or relengd's own code: the writer's
 * failures are told apart by it.
 */
export function isStoreError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  if (err instanceof BindLimitExceeded || isDatabaseUnavailable(err)) return true;
  const e = err as { name?: unknown; severity?: unknown; code?: unknown };
  // better-sqlite3's SqliteError; pg's DatabaseError carries the server's severity and SQLSTATE.
  return e.name === "SqliteError" || (typeof e.severity === "string" && typeof e.code === "string");
}
