// /api/v1/policies: what the server decides with, and an atomic reload.
import type { FastifyInstance } from "fastify";
import { policyTrigger } from "../../domain/policy.js";
import type { PolicyHolder } from "../../policy/loader.js";
import { unprocessable } from "../problem.js";

export async function policyRoutes(app: FastifyInstance, opts: { holder: Pick<PolicyHolder, "get" | "reload"> }): Promise<void> {
  app.get("/api/v1/policies", { config: { role: "reader" } }, async () => {
    const set = opts.holder.get();
    return {
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
    };
  });

  app.post("/api/v1/policies/reload", { config: { role: "admin" } }, async (request) => {
    const result = await opts.holder.reload();
    if (!result.ok) {
      request.log.warn({ error: result.error }, "policy reload refused; the old set stays");
      throw unprocessable(`policies not reloaded, the previous set stays in force:\n${result.error}`);
    }
    request.log.info({ policies: result.policies, environments: result.environments }, "policies reloaded");
    return result;
  });
}
