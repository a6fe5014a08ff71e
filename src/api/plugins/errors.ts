// One error handler: every failure leaves as application/problem+json, and no 4xx is a 5xx.
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
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

const DATABASE_RETRY_AFTER_SECONDS = 5;

export interface ErrorsOptions {
  /**
   * Whether an error says the database cannot be reached right now (a 503 with Retry-After, not
   * a 500). The store knows its drivers' errors; the application passes its predicate in.
   */
  isDatabaseUnavailable: (err: unknown) => boolean;
}

export const errorsPlugin = fp((app: FastifyInstance, opts: ErrorsOptions) => {
  const { isDatabaseUnavailable } = opts;
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
    for (const [name, value] of Object.entries(problem.headers)) void reply.header(name, value);
    void reply
      .code(problem.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problem.body(pathOf(request.url)));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(new Problem(404, "Not found", `no route ${request.method} ${pathOf(request.url)}`, "no-route").body());
  });

  // Longer URLs are refused before routing, below node's own 16 KiB header limit (which gives 431).
  app.addHook("onRequest", (request) => {
    if (request.url.length <= MAX_URL_LENGTH) return Promise.resolve();
    return Promise.reject(new Problem(414, "URI too long", `the request target is ${request.url.length} characters; relengd accepts at most ${MAX_URL_LENGTH}`, "uri-too-long"));
  });
  return Promise.resolve();
});

/** Longest request target (path and query) accepted; ids are at most 255 characters, queries a few filters. */
export const MAX_URL_LENGTH = 8192;

// The path part of a request target, cut short: a problem names where it happened, not the whole URL.
function pathOf(url: string): string {
  const path = url.split("?")[0] ?? "";
  return path.length > 512 ? `${path.slice(0, 512)}...` : path;
}

/**
 * fastify's `frameworkErrors`: a request target it cannot decode (`/api/v1/artifacts/%ff`,
 * FST_ERR_BAD_URL) or a failed route constraint, answered before any route or hook runs.
 */
export function frameworkProblem(error: FastifyError): Problem {
  if (error.code === "FST_ERR_BAD_URL") {
    return new Problem(400, "Bad request target", "the path holds a percent-encoding that is not valid UTF-8", "bad-url", {}, [
      { path: "/", message: "is not a valid percent-encoded UTF-8 path", in: "params" },
    ]);
  }
  return fromFastifyError(error) ?? new Problem(400, "Bad request", error.message, "bad-request");
}

const CLIENT_ERRORS: Record<string, { status: number; title: string; detail: string; slug: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: "Request header fields too large", detail: "the request's headers are larger than the 16 KiB accepted", slug: "headers-too-large" },
  HPE_URI_TOO_LONG: { status: 414, title: "URI too long", detail: "the request target is too long", slug: "uri-too-long" },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: "Request timeout", detail: "the request did not arrive in time", slug: "request-timeout" },
};

/**
 * The server's `clientError` handler (fastify's `clientErrorHandler`): node refused the request
 * before fastify saw it (headers over the limit, bytes that are not HTTP), so the answer is
 * written on the socket, as problem+json like every other.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const known = CLIENT_ERRORS[err.code ?? ""] ?? { status: 400, title: "Bad request", detail: "the request is not valid HTTP", slug: "bad-http" };
  const body = JSON.stringify(new Problem(known.status, known.title, known.detail, known.slug).body());
  if (!socket.writable) {
    socket.destroy(err);
    return;
  }
  socket.end(`HTTP/1.1 ${known.status} ${known.title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
