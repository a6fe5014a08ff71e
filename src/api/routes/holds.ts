// /api/v1/holds: thin adapters onto the hold use cases (place, lift) and the list of holds.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { addHold, liftHold } from "../../flow/hold.js";
import type { ReleaseDeps } from "../../flow/release.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { conflict, forbidden, invalid, notFound, problemResponse, problemResponses } from "../problem.js";
import { environmentName, idParams, packageName, reasonText } from "../request.js";
import { holdSchema, holdView } from "../views.js";

const holdParams = idParams("hold");
const holdBody = z.strictObject({ environment: environmentName, package: packageName, reason: reasonText });
const holdQuery = z.strictObject({ environment: environmentName.optional(), package: packageName.optional() });

export function holdRoutes(app: FastifyInstance, opts: { deps: ReleaseDeps }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = opts.deps;

  api.get(
    "/api/v1/holds",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listHolds",
        summary: "List holds",
        tags: ["holds"],
        querystring: holdQuery,
        response: { 200: jsonResponse("The holds", z.strictObject({ items: z.array(holdSchema) })), 503: problemResponse(503) },
      },
    },
    async (request) => {
      const { environment, package: pkg } = request.query;
      const filter = { ...(environment === undefined ? {} : { environment }), ...(pkg === undefined ? {} : { package: pkg }) };
      return { items: (await deps.releases.holds(filter)).map(holdView) };
    },
  );

  api.post(
    "/api/v1/holds",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "addHold",
        summary: "Hold a package in an environment",
        tags: ["holds"],
        body: holdBody,
        response: {
          201: jsonResponse("Held", holdSchema),
          409: problemResponse(409, "Already held (`hold`)"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const body = request.body;
      const outcome = await addHold(deps, principal, body);
      switch (outcome.status) {
        case "added":
          return reply.code(201).send(holdView(outcome.hold));
        case "exists":
          throw conflict("already-held", `${body.environment}/${body.package} is already held: ${outcome.hold.reason}`, { hold: holdView(outcome.hold) });
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unknown-environment":
          throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
      }
    },
  );

  api.delete(
    "/api/v1/holds/:id",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "liftHold",
        summary: "Lift a hold",
        tags: ["holds"],
        params: holdParams,
        response: { 200: jsonResponse("The hold that was lifted", holdSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { id } = request.params;
      const outcome = await liftHold(deps, principal, id);
      switch (outcome.status) {
        case "removed":
          return holdView(outcome.hold);
        case "not-found":
          throw notFound(`no hold ${id}`);
        case "forbidden":
          throw forbidden(outcome.reason);
      }
    },
  );
  return Promise.resolve();
}
