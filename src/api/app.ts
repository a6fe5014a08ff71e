// The fastify application factory: tests build it in-process with real dependencies.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { TokenService } from "../auth/tokens.js";
import { artifactLimits } from "../domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION, type MappingOptions } from "../domain/busMapping.js";
import type { PolicyEventHandler } from "../flow/evaluatePolicies.js";
import type { ReleaseDeps } from "../flow/release.js";
import type { PolicyHolder } from "../policy/loader.js";
import type { DecisionRepository } from "../store/decisionRepository.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import { BusEventRepository } from "../store/busEventRepository.js";
import type { Prisma } from "../store/database.js";
import { authPlugin } from "./plugins/auth.js";
import { errorsPlugin } from "./plugins/errors.js";
import { Metrics, metricsPlugin } from "./plugins/metrics.js";
import { artifactRoutes } from "./routes/artifacts.js";
import { eventRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { policyRoutes } from "./routes/policies.js";
import { releaseRoutes } from "./routes/releases.js";

export interface AppDeps {
  prisma: Prisma;
  artifacts: ArtifactRepository;
  tokens: TokenService;
  /** Releases, rollbacks, holds, environments. */
  releases: ReleaseDeps;
  /** Policy decisions, evaluation on push/append, the reloadable policy set. */
  policies: {
    decisions: DecisionRepository;
    onEvent: PolicyEventHandler;
    holder: Pick<PolicyHolder, "get" | "reload">;
  };
  logger: FastifyBaseLogger | false;
  /** The process's metrics registry (the bus consumer counts into it too); a new one if absent. */
  metrics?: Metrics;
  /** How bus messages (POST /api/v1/events) map to artifacts. */
  bus?: { mapping: MappingOptions };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: artifactLimits.bodyBytes,
    // A caller's request id is kept when it is safe to log; otherwise one is made up.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  // JSON only: a text/plain body would otherwise reach the routes as a string.
  app.removeContentTypeParser("text/plain");
  await app.register(errorsPlugin);
  await app.register(authPlugin, { tokens: deps.tokens });
  await app.register(healthRoutes, { prisma: deps.prisma });
  await app.register(artifactRoutes, { artifacts: deps.artifacts, decisions: deps.policies.decisions, policyEvent: deps.policies.onEvent });
  await app.register(policyRoutes, { holder: deps.policies.holder });
  await app.register(releaseRoutes, { deps: deps.releases });
  // The Fedora message bus bridge (issue 5): the metrics registry and the event log.
  const metrics = deps.metrics ?? new Metrics();
  await app.register(metricsPlugin, { metrics });
  await app.register(eventRoutes, {
    bus: {
      artifacts: deps.artifacts,
      events: new BusEventRepository(deps.prisma),
      policyEvent: deps.policies.onEvent,
      mapping: deps.bus?.mapping ?? { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
      count: metrics.countBusMessage,
    },
  });
  return app;
}
