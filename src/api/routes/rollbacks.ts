// /api/v1/rollbacks: a thin adapter onto the rollback use case.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { ARTIFACT_ID_PATTERN } from "../../domain/artifact.js";
import type { ReleaseDeps } from "../../flow/release.js";
import { rollback } from "../../flow/rollback.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { forbidden, invalid, problemResponse, unprocessable } from "../problem.js";
import { environmentName, packageName, reasonText } from "../request.js";
import { holdSchema, holdView, releaseSchema, releaseView } from "../views.js";

const rollbackBody = z.strictObject({
  environment: environmentName,
  package: packageName,
  artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id").optional().meta({ description: "The artifact to go back to; the one released before the current one if absent" }),
  reason: reasonText.optional(),
});

export function rollbackRoutes(app: FastifyInstance, opts: { deps: ReleaseDeps }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = opts.deps;

  api.post(
    "/api/v1/rollbacks",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "rollback",
        summary: "Roll a package back in an environment",
        description: "Releases an earlier artifact of the package and holds the package there, so that policies do not undo the rollback.",
        tags: ["releases"],
        body: rollbackBody,
        response: {
          202: jsonResponse("The rollback release is queued and the hold placed", z.strictObject({ release: releaseSchema, hold: holdSchema })),
          422: problemResponse(422, "Nothing to roll back to"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const outcome = await rollback(deps, principal, request.body);
      switch (outcome.status) {
        case "queued":
          return reply.code(202).send({ release: releaseView(outcome.release), hold: holdView(outcome.hold) });
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unknown-environment":
          throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
        case "unprocessable":
          throw unprocessable(outcome.code, outcome.reason);
      }
    },
  );
  return Promise.resolve();
}
