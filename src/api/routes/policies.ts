// /api/v1/policies: what the server decides with, and an atomic reload.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { policyTrigger, policyTriggers } from "../../domain/policy.js";
import type { PolicyHolder } from "../../policy/loader.js";
import { jsonResponse } from "../plugins/openapi.js";
import { problemResponse, unprocessable } from "../problem.js";

const policySummarySchema = z
  .strictObject({
    name: wellFormedString(),
    description: wellFormedString().nullable(),
    on: z.array(z.enum(policyTriggers)),
    schedule: z.strictObject({ cron: wellFormedString(), timezone: wellFormedString() }).nullable(),
    environment: wellFormedString().meta({ description: "Where it releases to" }),
    trigger: wellFormedString().meta({ description: "The trigger its releases record (Relengd-Trigger)" }),
    bulk: z.boolean().meta({ description: "Its releases are written one commit per batch" }),
  })
  .meta({ id: "PolicySummary" });

const reloadedSchema = z.strictObject({ ok: z.literal(true), policies: z.number().int(), environments: z.number().int() });

export function policyRoutes(app: FastifyInstance, opts: { holder: Pick<PolicyHolder, "get" | "reload"> }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/api/v1/policies",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listPolicies",
        summary: "List the policies in force",
        tags: ["policies"],
        response: { 200: jsonResponse("The policy set and when it was loaded", z.strictObject({ loadedAt: z.iso.datetime(), items: z.array(policySummarySchema) })) },
      },
    },
    () => {
      const set = opts.holder.get();
      return Promise.resolve({
        loadedAt: set.loadedAt.toISOString(),
        items: set.policies.map((p) => ({
          name: p.metadata.name,
          description: p.metadata.description ?? null,
          on: p.spec.on,
          schedule: p.spec.schedule ?? null,
          environment: p.spec.release.environment,
          trigger: policyTrigger(p),
          bulk: p.spec.release.bulk,
        })),
      });
    },
  );

  api.post(
    "/api/v1/policies/reload",
    {
      config: { role: "admin" },
      schema: {
        operationId: "reloadPolicies",
        summary: "Reload the policies",
        description: "Reads policies/ again (fetching it first when it comes from git). All or nothing: a broken file keeps the previous set in force.",
        tags: ["policies"],
        response: {
          200: jsonResponse("Reloaded: how many policies and environments are now in force", reloadedSchema),
          422: problemResponse(422, "A policy or environments file is not valid; the previous set stays in force"),
        },
      },
    },
    async (request) => {
      const result = await opts.holder.reload();
      if (!result.ok) {
        request.log.warn({ error: result.error }, "policy reload refused; the old set stays");
        throw unprocessable("policies-invalid", `policies not reloaded, the previous set stays in force:\n${result.error}`);
      }
      request.log.info({ policies: result.policies, environments: result.environments }, "policies reloaded");
      return result;
    },
  );
  return Promise.resolve();
}
