// One error handler: every failure leaves as application/problem+json, and no 4xx is a 5xx.
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

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError | Problem, request, reply) => {
    let problem = err instanceof Problem ? err : fromFastifyError(err);
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
