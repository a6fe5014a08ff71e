// One error handler: every failure leaves as application/problem+json, and no 4xx is a 5xx.
import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { isSqliteBusy } from "../../store/sqliteConnection.js";
import { Problem, PROBLEM_CONTENT_TYPE } from "../problem.js";

// Fastify's own client errors, by code, mapped to what the caller did wrong.
function fromFastifyError(err: FastifyError): Problem | undefined {
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new Problem(400, "Invalid request body", `body is not valid JSON: ${err.message}`, "invalid-json", {}, [
        { path: "/", message: "is not valid JSON", in: "body" },
      ]);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new Problem(413, "Request body too large", err.message, "body-too-large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new Problem(415, "Unsupported media type", "send the body as application/json", "unsupported-media-type", {}, [
        { path: "/content-type", message: "must be application/json", in: "header" },
      ]);
    default:
      if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
        return new Problem(err.statusCode, "Bad request", err.message, "bad-request");
      }
      return undefined;
  }
}

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
const DATABASE_RETRY_AFTER_SECONDS = 5;

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

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError | Problem, request, reply) => {
    let problem = err instanceof Problem ? err : fromFastifyError(err);
    if (!problem && isDatabaseUnavailable(err)) {
      request.log.warn({ err }, "database unavailable");
      problem = new Problem(503, "Service unavailable", "the database does not answer right now; retry later", "database-unavailable");
      void reply.header("retry-after", String(DATABASE_RETRY_AFTER_SECONDS));
    }
    if (!problem) {
      request.log.error({ err }, "unhandled error");
      problem = new Problem(500, "Internal error", "the server failed; the request id is in the logs", "internal");
    }
    void reply
      .code(problem.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problem.body(request.url.split("?")[0]));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(new Problem(404, "Not found", `no route ${request.method} ${request.url.split("?")[0]}`, "no-route").body());
  });
});
