// The server process: config → store → (writer) → HTTP server; graceful shutdown.
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./api/app.js";
import { Metrics } from "./api/plugins/metrics.js";
import { OidcVerifier } from "./auth/oidc.js";
import { RevocationList, TokenService } from "./auth/tokens.js";
import { BusConsumer } from "./bus/consumer.js";
import { BusPublisher } from "./bus/publisher.js";
import { announcingWrites, ReleaseAnnouncer } from "./bus/releaseEvents.js";
import { resolveTokenSecret, type Config } from "./config.js";
import { ensureBareRepository } from "./gitops/repository.js";
import { ShadowWriter, shadowWorkspaceDir } from "./gitops/shadowWriter.js";
import { leaseKey, Writer, type WriterDeps } from "./gitops/writer.js";
import { GitPolicySource } from "./policy/gitSource.js";
import { PolicyHolder } from "./policy/loader.js";
import { evaluateCreated, policyEventHandler, type EvaluateDeps } from "./flow/evaluatePolicies.js";
import { applyWaitingResults, ingestBusDelivery, type BusDeps } from "./flow/ingestBusMessage.js";
import { describeSummary, runSchedule } from "./flow/runSchedule.js";
import { Scheduler } from "./policy/scheduler.js";
import { ScheduleRunRepository } from "./store/scheduleRunRepository.js";
import { PruneRepository } from "./store/pruneRepository.js";
import { startPruneSchedule } from "./flow/prune.js";
import { WaiverRepository } from "./store/waiverRepository.js";
import { DecisionRepository } from "./store/decisionRepository.js";
import { ArtifactRepository } from "./store/artifactRepository.js";
import { branchLeaseFor } from "./store/branchLease.js";
import { BusEventRepository } from "./store/busEventRepository.js";
import { BusOutboxRepository } from "./store/busOutboxRepository.js";
import { ShadowRepository } from "./store/shadowRepository.js";
import { openDatabase, type Database } from "./store/database.js";
import { ReleaseRepository } from "./store/releaseRepository.js";
import { migrate } from "./store/migrator.js";
import { ensurePrivateDir } from "./store/privateFiles.js";
import { TokenRepository } from "./store/tokenRepository.js";

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  writer: Writer;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  // First: the GitOps repository and the database would otherwise create the data dir 0755.
  ensurePrivateDir(config.dataDir);
  const secret = resolveTokenSecret(config, (msg) => logger.warn(msg));
  const report = await migrate(config.databaseUrl);
  if (report.applied.length > 0) logger.info({ applied: report.applied }, "database migrated");
  if (report.modified.length > 0) logger.warn({ modified: report.modified }, "applied migrations changed on disk since they ran");

  if (await ensureBareRepository(config.gitopsRepo)) logger.info({ repo: config.gitopsRepo }, "created local bare GitOps repository");
  // The bus mirror's shadow repository (RELENGD_SHADOW_REMOTE): made here too when it is a local path.
  if (!/^[a-z][a-z0-9+.-]*:\/\/|^[^/]+@[^/:]+:/i.test(config.shadowRepo) && (await ensureBareRepository(config.shadowRepo))) {
    logger.info({ repo: config.shadowRepo }, "created local bare shadow repository");
  }

  // A broken policy file at start-up stops the server: there is no previous set to keep.
  const source = config.policiesGit
    ? new GitPolicySource({ ...config.policiesGit, checkout: path.join(config.dataDir, "policies-checkout") })
    : undefined;
  await source?.sync();
  const policies = new PolicyHolder(source?.dir ?? config.policiesDir, config.gitopsRepo, source);
  const environments = policies.environments;
  logger.info(
    { environments: [...environments().environments.keys()], policies: policies.get().policies.map((p) => p.metadata.name), dir: config.policiesDir },
    "policies loaded",
  );

  const db = await openDatabase(config.databaseUrl);
  const releases = new ReleaseRepository(db.prisma);
  const decisions = new DecisionRepository(db.prisma);
  const waivers = new WaiverRepository(db.prisma);
  const metrics = new Metrics();
  const decided = (list: readonly { policy: string; fired: boolean; waiting: boolean }[]) => {
    for (const d of list) metrics.policyDecisions.inc({ policy: d.policy, outcome: d.fired ? "fired" : d.waiting ? "waiting" : "skipped" });
  };
  // Policies on a pushed artifact are decided inside its ingest transaction.
  const artifacts = new ArtifactRepository(db.prisma, {
    afterCreate: (tx, created) => evaluateCreated({ releases, decisions, waivers, policies: () => policies.get(), notify: (repo) => writer.notify(repo), decided }, tx, created),
  });
  // Replicas sharing PostgreSQL: one writes each branch, the others take over when it dies.
  const lease = branchLeaseFor(db.target, (keys, err) => logger.warn({ err, branches: keys }, "lost the writer lease of these branches; another replica may take them"));
  // relengd.release.* on the bus (RELENGD_AMQP_URL): announced into the outbox, published from it.
  const outbox = new BusOutboxRepository(db.store);
  const publisher = config.amqp ? new BusPublisher({ url: config.amqp.url, exchange: config.amqp.exchange, logger, ...(config.amqp.publishPrefix ? { topicPrefix: config.amqp.publishPrefix } : {}) }, outbox) : undefined;
  const releaseEvents = publisher ? new ReleaseAnnouncer({ outbox, logger, added: () => publisher.wake() }) : undefined;
  // The ingest rules read the Rawhide version from RELENGD_RAWHIDE_VERSION, as the bus mapping does.
  const rules = { rawhideVersion: config.rawhideVersion };
  const writer = new Writer(
    announcingWrites({ releases, artifacts, environments, rules, workspacesDir: path.join(config.dataDir, "workspaces"), logger, lease, ...writerMetrics(metrics) }, releaseEvents),
    { batchSize: config.writerBatchSize },
  );
  metrics.observeQueue(() => releases.queueStats());
  const readiness = { writers: () => writer.health(), remoteBoundMs: config.readyRemoteBoundMs };
  metrics.observeWriters(readiness);
  metrics.observeLeases(() => {
    const held = new Set(lease.held());
    return [...environments().repositories.values()].filter((r) => held.has(leaseKey(r))).map((r) => r.name);
  });
  const revocations = new RevocationList(
    () => new TokenRepository(db.store).activeRevocations(),
    config.revocationRefreshMs,
    (err) => logger.error({ err }, "could not refresh token revocations"),
  );
  await revocations.start();
  const evaluateDeps: EvaluateDeps = { artifacts, releases, decisions, waivers, policies: () => policies.get(), notify: (repo) => writer.notify(repo), rules, decided };
  const scheduler = new Scheduler({
    policies: () => policies.get(),
    runs: new ScheduleRunRepository(db.store),
    run: async (policy, slot) => describeSummary(await runSchedule(evaluateDeps, policy, slot)),
    logger,
  });
  policies.onReload(() => scheduler.rearm());
  const onPolicyEvent = policyEventHandler(evaluateDeps, (err, artifactId) => logger.error({ err, artifactId }, "policy evaluation failed"));
  // Bus messages (from the consumer or POST /api/v1/events) wake it; it starts with the writer.
  const shadow = new ShadowWriter({ changes: new ShadowRepository(db.store), url: config.shadowRepo, workspaceDir: shadowWorkspaceDir(config.dataDir), logger, lease });
  const app = await buildApp({
    prisma: db.prisma,
    store: db.store,
    artifacts,
    tokens: new TokenService(secret, revocations.has, config.oidc ? new OidcVerifier(config.oidc) : undefined),
    releases: { releases, artifacts, environments, notify: (repo) => writer.notify(repo), rules },
    policies: {
      decisions,
      holder: policies,
      onEvent: onPolicyEvent,
    },
    logger,
    metrics,
    bus: { mapping: { rawhideVersion: config.rawhideVersion }, onShadowChange: () => shadow.notify() },
    readiness,
    anonymousRead: config.anonymousRead,
  });
  const onHangup = () => {
    void policies.reload().then((result) => {
      if (result.ok) logger.info(result, "SIGHUP: policies reloaded");
      else logger.error({ error: result.error }, "SIGHUP: policies not reloaded; the previous set stays");
    });
  };
  process.on("SIGHUP", onHangup);
  // Resumes what a previous run left queued or committed (crash recovery).
  await writer.start();
  // Finishes the shadow commits a previous run left queued, then follows the bus.
  shadow.start();
  await releaseEvents?.start();
  publisher?.start();
  await scheduler.start();
  // Retention on a schedule (RELENGD_PRUNE_SCHEDULE); each slot runs once across replicas.
  const prune = config.prune
    ? startPruneSchedule({ store: new PruneRepository(db.store), runs: new ScheduleRunRepository(db.store), logger }, config.prune)
    : undefined;
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address, database: db.target.provider, gitops: config.gitopsRepo }, "relengd serving");
  // The Fedora message bus (RELENGD_AMQP_URL): connects in the background, retrying with backoff.
  const busDeps: BusDeps = {
    artifacts,
    events: new BusEventRepository(db.store),
    policyEvent: onPolicyEvent,
    mapping: { rawhideVersion: config.rawhideVersion },
    count: metrics.countBusMessage,
    onShadowChange: () => shadow.notify(),
  };
  const bus = config.amqp
    ? new BusConsumer({
        ...config.amqp,
        handle: (delivery) => ingestBusDelivery(busDeps, delivery),
        // Results that arrived before their build, once CI or the bus stored an artifact with it.
        sweep: { run: () => applyWaitingResults(busDeps), everyMs: 60_000 },
        logger,
      })
    : undefined;
  bus?.start();
  return {
    app,
    db,
    writer,
    url: address,
    async close() {
      // app.close stops accepting and waits for requests in flight (their commits included).
      process.off("SIGHUP", onHangup);
      // Messages already received are finished and acked before the store closes.
      await bus?.stop();
      await app.close();
      await scheduler.stop();
      await prune?.stop();
      await writer.stop();
      await shadow.stop();
      // What is not published yet stays in the outbox for the next start.
      await releaseEvents?.stop();
      await publisher?.stop();
      await lease.close();
      revocations.stop();
      await db.close();
    },
  };
}

/** The writer's timings and outcomes, counted into the process's metrics. */
function writerMetrics(metrics: Metrics): Pick<WriterDeps, "instruments" | "onWritten"> {
  return {
    instruments: {
      commitSeconds: (repository, seconds) => metrics.writerCommit.observe({ repository }, seconds),
      pushSeconds: (repository, seconds) => metrics.writerPush.observe({ repository }, seconds),
      pushRetried: (repository) => metrics.pushRetries.inc({ repository }),
      writeFailed: (repository, cause) => metrics.writeFailures.inc({ repository, cause }),
    },
    onWritten: (result) => {
      const count = (outcome: string, n: number) => n > 0 && metrics.releasesWritten.inc({ repository: result.repository, outcome }, n);
      count("pushed", result.pushed.length);
      count("superseded", result.superseded.length);
      count("blocked", result.blocked.length);
      count("failed", result.failed.length);
    },
  };
}

/** SIGTERM/SIGINT: close gracefully; a second signal exits at once. */
export function closeOnSignals(server: RunningServer, logger: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
