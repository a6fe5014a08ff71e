// Probes: /healthz is liveness only; /readyz says whether the store answers and the GitOps
// remotes have not been out of reach for longer than a bound.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Prisma } from "../../store/database.js";
import { jsonResponse } from "../plugins/openapi.js";
import { Problem, PROBLEM_CONTENT_TYPE, problemResponse } from "../problem.js";
import { noQuery } from "../request.js";

export interface Readiness {
  /** Per repository written to: since when its remote has not answered (null while it does). */
  remotes: () => { repository: string; unreachableSince: Date | null }[];
  /** How long a remote may be out of reach before the replica is not ready. */
  remoteBoundMs: number;
}

// A probe must answer within its own timeout (Kubernetes' default is 1 s) even when the
// database hangs rather than refuses.
const DATABASE_PROBE_MS = 800;

const checksSchema = z.strictObject({
  database: z.enum(["ok", "failing"]),
  gitops: z.enum(["ok", "failing"]),
});

async function databaseAnswers(prisma: Prisma): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DATABASE_PROBE_MS)));
  try {
    return await Promise.race([prisma.$queryRawUnsafe("SELECT 1").then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, opts: { prisma: Prisma; readiness?: Readiness }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["operations"];

  api.get(
    "/healthz",
    {
      schema: {
        operationId: "healthz",
        summary: "Liveness probe",
        description: "Answers while the process serves HTTP; it checks nothing else.",
        tags,
        querystring: noQuery,
        response: { 200: jsonResponse("Alive", z.strictObject({ status: z.literal("ok") })) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  api.get(
    "/readyz",
    {
      schema: {
        operationId: "readyz",
        summary: "Readiness probe",
        description:
          "Ready while the database answers (within 0.8 s) and no GitOps remote has been out of reach for longer than RELENGD_READY_REMOTE_BOUND_SECONDS. Releases to an unreachable remote stay queued meanwhile.",
        tags,
        querystring: noQuery,
        response: {
          200: jsonResponse("Ready", z.strictObject({ status: z.literal("ready"), checks: checksSchema })),
          503: problemResponse(503, "Not ready: `checks` says which dependency fails, `unreachable` which remotes and since when"),
        },
      },
    },
    async (request, reply) => {
      const database = await databaseAnswers(opts.prisma);
      const now = Date.now();
      const unreachable = (opts.readiness?.remotes() ?? [])
        .filter((r) => r.unreachableSince !== null && now - r.unreachableSince.getTime() > (opts.readiness?.remoteBoundMs ?? Infinity))
        .map((r) => ({ repository: r.repository, since: (r.unreachableSince as Date).toISOString() }));
      const checks = { database: database ? ("ok" as const) : ("failing" as const), gitops: unreachable.length === 0 ? ("ok" as const) : ("failing" as const) };
      if (database && unreachable.length === 0) return { status: "ready" as const, checks };
      const why = [
        ...(database ? [] : ["the database does not answer"]),
        ...unreachable.map((u) => `the remote of repository ${u.repository} has been unreachable since ${u.since}`),
      ].join("; ");
      request.log.warn({ checks, unreachable }, "readiness: not ready");
      return reply
        .code(503)
        .type(PROBLEM_CONTENT_TYPE)
        .send(new Problem(503, "Not ready", why, "not-ready", { checks, unreachable }).body("/readyz"));
    },
  );
}
