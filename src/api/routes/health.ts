// Probes: /healthz is liveness only; /readyz says whether the store answers and no GitOps
// writer has failed every attempt (remote, workspace, store, …) for longer than a bound.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { WriteFailureCause, WriterHealth } from "../../gitops/writer.js";
import { sql } from "kysely";
import type { Store } from "../../store/store.js";
import { jsonResponse } from "../plugins/openapi.js";
import { Problem, PROBLEM_CONTENT_TYPE, problemResponse } from "../problem.js";
import { noQuery } from "../request.js";

export interface Readiness {
  /** Per repository written to: since when every write attempt has failed, and why. */
  writers: () => Pick<WriterHealth, "repository" | "failingSince" | "cause" | "error">[];
  /** How long a writer may fail every attempt (RELENGD_READY_REMOTE_BOUND_SECONDS) before the replica is not ready. */
  remoteBoundMs: number;
  /** The clock the bound is measured with. */
  now?: () => Date;
}

export interface WriterNotReady {
  repository: string;
  cause: WriteFailureCause;
  since: Date;
  error: string;
}

/** The writers that have failed every attempt for longer than `boundMs` at `now`: what makes /readyz 503 (and the metric say why). */
export function writersNotReady(writers: ReturnType<Readiness["writers"]>, boundMs: number, now: Date): WriterNotReady[] {
  return writers.flatMap((w) =>
    w.failingSince !== null && now.getTime() - w.failingSince.getTime() > boundMs ? [{ repository: w.repository, cause: w.cause ?? "other", since: w.failingSince, error: w.error ?? "" }] : [],
  );
}

// A probe must answer within its own timeout (Kubernetes' default is 1 s) even when the
// database hangs rather than refuses.
const DATABASE_PROBE_MS = 800;

const checksSchema = z.strictObject({
  database: z.enum(["ok", "failing"]),
  gitops: z.enum(["ok", "failing"]),
});

async function databaseAnswers(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DATABASE_PROBE_MS)));
  try {
    return await Promise.race([store.read((tx) => sql`SELECT 1`.execute(tx)).then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, opts: { store: Store; readiness?: Readiness }): Promise<void> {
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
    () => Promise.resolve({ status: "ok" as const }),
  );

  api.get(
    "/readyz",
    {
      schema: {
        operationId: "readyz",
        summary: "Readiness probe",
        description:
          "Ready while the database answers (within 0.8 s) and no GitOps writer has failed every attempt for longer than RELENGD_READY_REMOTE_BOUND_SECONDS, whatever the cause (remote unreachable or refusing, local workspace, store, …). Releases stay queued meanwhile.",
        tags,
        querystring: noQuery,
        response: {
          200: jsonResponse("Ready", z.strictObject({ status: z.literal("ready"), checks: checksSchema })),
          503: problemResponse(503, "Not ready: `checks` says which dependency fails, `failing` which writers since when and why (`cause`: remote, workspace, store, other), `unreachable` the failing writers whose remote is the cause"),
        },
      },
    },
    async (request, reply) => {
      const database = await databaseAnswers(opts.store);
      const readiness = opts.readiness;
      const failing = readiness ? writersNotReady(readiness.writers(), readiness.remoteBoundMs, readiness.now?.() ?? new Date()).map((w) => ({ ...w, since: w.since.toISOString() })) : [];
      const unreachable = failing.filter((w) => w.cause === "remote").map((w) => ({ repository: w.repository, since: w.since }));
      const checks = { database: database ? ("ok" as const) : ("failing" as const), gitops: failing.length === 0 ? ("ok" as const) : ("failing" as const) };
      if (database && failing.length === 0) return { status: "ready" as const, checks };
      const why = [
        ...(database ? [] : ["the database does not answer"]),
        ...failing.map((w) =>
          w.cause === "remote"
            ? `the remote of repository ${w.repository} has been unreachable since ${w.since} (${w.error})`
            : `the writer of repository ${w.repository} has failed every attempt since ${w.since}, cause ${w.cause} (${w.error})`,
        ),
      ].join("; ");
      request.log.warn({ checks, failing }, "readiness: not ready");
      return reply
        .code(503)
        .type(PROBLEM_CONTENT_TYPE)
        .send(new Problem(503, "Not ready", why, "not-ready", { checks, failing, unreachable }).body("/readyz"));
    },
  );
  return Promise.resolve();
}
