// Which store errors are the database's (unreachable, busy, a transaction conflict) rather than a caller's: those are worth a retry.
import { isSqliteBusy } from "./sqliteConnection.js";

// A database that is down, restarting, out of connections or locked by another process: the
// request may succeed later, so the caller hears 503 with Retry-After instead of a 500. Prisma
// codes: P1001 unreachable, P1002/P1008 timed out, P1017 connection closed, P2037 too many
// connections. SQLSTATEs: class 08 (connection exception), 57P01-57P03 (shutting down,
// crashed, starting up), 53300.
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2037"]);
const UNAVAILABLE_ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
// node-postgres's own words when the socket goes away under a query or a connect times out.
const PG_CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/**
 * Whether `err` says the database cannot be reached right now. Prisma wraps driver errors
 * (meta.driverAdapterError), raw queries may surface the DriverAdapterError itself (its `cause`
 * has the kind and the SQLSTATE), and pg's own errors may come through unwrapped.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.code === "string" && (UNAVAILABLE_PRISMA_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  // SQLite's file locked by another process (a CLI verb writing) past the busy timeout, as the
  // store's SQL runner surfaces it.
  if (isSqliteBusy(e)) return true;
  if (typeof e.kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.originalCode === "string" && UNAVAILABLE_SQLSTATE.test(e.originalCode)) return true;
  if (typeof e.message === "string" && PG_CONNECTION_LOST.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1) || isDatabaseUnavailable(e.meta?.driverAdapterError, depth + 1);
}

// Prisma P2034: a write conflict or deadlock, the transaction may be retried. SQLSTATE 40001
// (serialization failure) and 40P01 (deadlock detected) say the same from PostgreSQL.
const RETRYABLE_SQLSTATE = /^(40001|40P01)$/;

/**
 * Whether a failure came from the database being unable to act right now (down, locked,
 * a conflicting transaction) rather than from what it was asked: the same request may succeed
 * when made again, so a bus message that met it is redelivered rather than rejected.
 */
export function isTransientStoreFailure(err: unknown, depth = 0): boolean {
  if (isDatabaseUnavailable(err)) return true;
  if (depth > 4 || typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (e.code === "P2034" || (typeof e.code === "string" && RETRYABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.originalCode === "string" && RETRYABLE_SQLSTATE.test(e.originalCode)) return true;
  return isTransientStoreFailure(e.cause, depth + 1) || isTransientStoreFailure(e.meta?.driverAdapterError, depth + 1);
}
