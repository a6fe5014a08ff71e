// Probes: /healthz is liveness only; /readyz says whether the store answers.
import type { FastifyInstance } from "fastify";
import type { Prisma } from "../../store/database.js";
import { Problem, PROBLEM_CONTENT_TYPE } from "../problem.js";

export async function healthRoutes(app: FastifyInstance, opts: { prisma: Prisma }): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    try {
      await opts.prisma.$queryRawUnsafe("SELECT 1");
      return { status: "ready", checks: { database: "ok" } };
    } catch (err) {
      request.log.warn({ err }, "readiness: database unreachable");
      return reply
        .code(503)
        .type(PROBLEM_CONTENT_TYPE)
        .send(new Problem(503, "Not ready", "the database does not answer", "not-ready", { checks: { database: "failing" } }).body("/readyz"));
    }
  });
}
