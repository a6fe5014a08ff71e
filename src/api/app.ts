// The fastify application factory: tests build it in-process with real dependencies.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { TokenService } from "../auth/tokens.js";
import { artifactLimits } from "../domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION, type MappingOptions } from "../domain/busMapping.js";
import type { PolicyEventHandler } from "../flow/evaluatePolicies.js";
import type { BusDeps } from "../flow/ingestBusMessage.js";
import type { PushQueue } from "../flow/pushArtifact.js";
import type { ReleaseDeps } from "../flow/release.js";
import type { RequestService } from "../flow/requestDeps.js";
import type { PolicyHolder } from "../policy/loader.js";
import type { DecisionRepository } from "../store/decisionRepository.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import { BusEventRepository } from "../store/busEventRepository.js";
import { ObservedRepository } from "../store/observedRepository.js";
import { observedRoutes } from "./routes/observed.js";
import { KojiTagRepository } from "../store/kojiTagRepository.js";
import { OverviewRepository } from "../store/overviewRepository.js";
import { WaiverRepository } from "../store/waiverRepository.js";
import { isDatabaseUnavailable } from "../store/storeFailure.js";
import { authPlugin } from "./plugins/auth.js";
import { answerClientError, errorsPlugin, frameworkProblem } from "./plugins/errors.js";
import { parseJsonBody } from "./jsonBody.js";
import { PROBLEM_CONTENT_TYPE } from "./problem.js";
import { Metrics, metricsPlugin } from "./plugins/metrics.js";
import { openapiPlugin } from "./plugins/openapi.js";
import { requestValidatorCompiler } from "./request.js";
import { responseSerializerCompiler } from "./response.js";
import type { Store } from "../store/store.js";
// Loading a route module names its schemas (Release, Hold, Environment...), and the OpenAPI
// document lists the named schemas in that order: a new route module goes where its schemas
// should appear, so that openapi.yaml stays put.
import { artifactRoutes } from "./routes/artifacts.js";
import { dashboardRoutes, signInPage } from "./routes/dashboard.js";
import { eventRoutes } from "./routes/events.js";
import { kojiTagRoutes } from "./routes/kojiTags.js";
import { shadowAgreementRoutes } from "./routes/shadowAgreement.js";
import { ScmTicketRepository } from "../store/scmTicketRepository.js";
import { healthRoutes, type Readiness } from "./routes/health.js";
import { policyRoutes } from "./routes/policies.js";
import { releaseDescriptionRoutes, releaseRoutes } from "./routes/releases.js";
import { rollbackRoutes } from "./routes/rollbacks.js";
import { holdRoutes } from "./routes/holds.js";
import { environmentRoutes, environmentStateRoutes } from "./routes/environments.js";
import { requestRoutes } from "./routes/requests.js";
import { forgeWebhookRoutes } from "./routes/forgeWebhook.js";
import type { ForgeWebhookDeps } from "../flow/receiveForgeWebhook.js";
import { ForgeDeliveryRepository } from "../store/forgeDeliveryRepository.js";
import { overviewRoutes } from "./routes/overview.js";
import { reportRoutes } from "./routes/reports.js";
import { BrokenDepsReportRepository } from "../store/brokenDepsReportRepository.js";
import type { OwnersSource } from "../policy/ownerAliases.js";

export interface AppDeps {
  /** The store the routes' repositories are built on. */
  store: Store;
  artifacts: ArtifactRepository;
  /** Pushed artifacts, stored with what the policies decide about them. */
  pushes: PushQueue;
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
  bus?: { mapping: MappingOptions; onShadowChange?: () => void; approval?: BusDeps["approval"]; onObserved?: () => void };
  /** Reader routes without a token (RELENGD_ANONYMOUS_READ); off unless true. */
  anonymousRead?: boolean;
  /** Check every response against its route schema (a mismatch is a 500); on under the test suite. */
  checkResponses?: boolean;
  /** What /readyz checks besides the database: the writers' remotes. */
  readiness?: Readiness;
  /** Requests by merge request: the /api/v1/requests routes are registered only when given. */
  requests?: RequestService;
  /** POST /api/v1/forge/webhook; absent: the route answers 404 (webhooks off). */
  forgeWebhook?: ForgeWebhookDeps;
  /** issue 18: who owns each source package, for the broken-dependency report's pages (absent: not known). */
  reportOwners?: OwnersSource;
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
    // find-my-way's default (100) is shorter than the ids relengd accepts (artifact ids up to
    // 200 characters, message ids 255): such a route would answer 404. Longer targets get 414.
    routerOptions: { maxParamLength: 1024 },
    // What fastify and node refuse before any route or hook runs is problem+json too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const problem = frameworkProblem(error);
      void reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.body());
    },
    clientErrorHandler: answerClientError,
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  // JSON only: a text/plain body would otherwise reach the routes as a string.
  app.removeContentTypeParser("text/plain");
  // relengd's own JSON parser: UTF-8 only, bounded nesting, no prototype keys, well-formed text.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, parseJsonBody);
  // Route schemas are zod: requests fail as problems naming the field; in tests, responses are
  // checked against what the OpenAPI document promises.
  app.setValidatorCompiler(requestValidatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler(deps.checkResponses ?? process.env.NODE_ENV === "test"));
  await app.register(errorsPlugin, { isDatabaseUnavailable });
  // Before any route: it documents each route as it is added.
  await app.register(openapiPlugin);
  await app.register(authPlugin, { tokens: deps.tokens, anonymousRead: deps.anonymousRead ?? false, signInPage });
  await app.register(healthRoutes, { store: deps.store, ...(deps.readiness ? { readiness: deps.readiness } : {}) });
  await app.register(artifactRoutes, {
    artifacts: deps.artifacts,
    pushes: deps.pushes,
    decisions: deps.policies.decisions,
    policyEvent: deps.policies.onEvent,
    rules: deps.releases.rules,
    waivers: new WaiverRepository(deps.store),
  });
  await app.register(policyRoutes, { holder: deps.policies.holder });
  await app.register(releaseRoutes, { deps: deps.releases });
  await app.register(rollbackRoutes, { deps: deps.releases });
  await app.register(holdRoutes, { deps: deps.releases });
  await app.register(environmentRoutes, { deps: deps.releases });
  if (deps.requests) await app.register(requestRoutes, { requests: deps.requests });
  // Always registered (the document lists it); off (404) until a secret is configured.
  await app.register(forgeWebhookRoutes, { deps: deps.forgeWebhook ?? { secret: undefined, deliveries: new ForgeDeliveryRepository(deps.store), repository: () => undefined, look: () => undefined } });
  // The Fedora message bus bridge: the metrics registry and the event log.
  const metrics = deps.metrics ?? new Metrics();
  const requests = deps.requests;
  if (requests) metrics.observeRequests(() => requests.requests.counts());
  await app.register(metricsPlugin, { metrics });
  await app.register(eventRoutes, {
    bus: {
      artifacts: deps.artifacts,
      pushes: deps.pushes,
      events: new BusEventRepository(deps.store),
      policyEvent: deps.policies.onEvent,
      mapping: deps.bus?.mapping ?? { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
      count: metrics.countBusMessage,
      ...(deps.bus?.onShadowChange ? { onShadowChange: deps.bus.onShadowChange } : {}),
      ...(deps.bus?.approval ? { approval: deps.bus.approval } : {}),

      ...(deps.bus?.onObserved ? { onObserved: deps.bus.onObserved } : {}),
    },
  });
  // issue 17: the shadow's scm tickets compared with the request processor.
  const scmTickets = new ScmTicketRepository(deps.store);
  metrics.observeShadowAgreement(() => scmTickets.agreementCounts());
  await app.register(shadowAgreementRoutes, { tickets: scmTickets });
  // Koji tag state observed on the bus, for `relengd plan`.
  await app.register(kojiTagRoutes, { kojiTags: new KojiTagRepository(deps.store) });
  // Dist-git branches and Koji side tags observed on the bus (issue 17).
  await app.register(observedRoutes, { observed: new ObservedRepository(deps.store) });
  // The web dashboard: its page at /, assets under /assets/, then the read-only summaries it
  // reads. The OpenAPI document lists paths in registration order, so these stay last.
  await app.register(dashboardRoutes, {});
  const overview = new OverviewRepository(deps.store);
  const environments = deps.releases.environments;
  await app.register(overviewRoutes, { overview, environments });
  await app.register(environmentStateRoutes, { overview, environments });
  await app.register(releaseDescriptionRoutes, { deps: { releases: deps.releases.releases, artifacts: deps.releases.artifacts, decisions: overview, environments } });
  // issue 18: the broken-dependency reports, JSON and HTML.
  const brokenDeps = new BrokenDepsReportRepository(deps.store);
  metrics.observeBrokenDeps(() => brokenDeps.latestPerTree());
  await app.register(reportRoutes, { reports: brokenDeps, ...(deps.reportOwners ? { owners: deps.reportOwners } : {}) });
  return app;
}
