// The server process: config → store → the application (composition root) → HTTP server and
// the bus; graceful shutdown.
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { composeApplication } from "./application.js";
import { OidcVerifier } from "./auth/oidc.js";
import { RevocationList, TokenService } from "./auth/tokens.js";
import { BusConsumer } from "./bus/consumer.js";
import { BusPublisher } from "./bus/publisher.js";
import { resolveTokenSecret, type Config } from "./config.js";
import { applyWaitingResults, ingestBusDelivery } from "./flow/ingestBusMessage.js";
import { startPruneSchedule } from "./flow/prune.js";
import { ensureBareRepository } from "./gitops/repository.js";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "./domain/gitopsReadme.js";
import { shadowWorkspaceDir } from "./gitops/shadowWriter.js";
import type { Writer } from "./gitops/writer.js";
import { GitPolicySource } from "./policy/gitSource.js";
import { PolicyHolder } from "./policy/loader.js";
import { branchLeaseFor } from "./store/branchLease.js";
import { migrate } from "./store/migrator.js";
import { ensurePrivateDir } from "./store/privateFiles.js";
import { PruneRepository } from "./store/pruneRepository.js";
import { ScheduleRunRepository } from "./store/scheduleRunRepository.js";
import { openStore, type Store } from "./store/store.js";
import { TokenRepository } from "./store/tokenRepository.js";
import { RepoclosureChecks } from "./checks/repoclosureChecks.js";
import { mailerFor } from "./mail/mailer.js";
import { BrokenDepsReportRepository } from "./store/brokenDepsReportRepository.js";
import { KojiTagRepository } from "./store/kojiTagRepository.js";

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
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

  // Its first commit, the README, lets every clone branch off main for a request.
  const gitopsReadme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };
  if (await ensureBareRepository(config.gitopsRepo, { readme: gitopsReadme })) logger.info({ repo: config.gitopsRepo }, "created local bare GitOps repository");
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
  logger.info(
    { environments: [...policies.environments().environments.keys()], policies: policies.get().policies.map((p) => p.metadata.name), dir: config.policiesDir },
    "policies loaded",
  );

  const store = await openStore(config.databaseUrl);
  const revocations = new RevocationList(
    () => new TokenRepository(store).activeRevocations(),
    config.revocationRefreshMs,
    (err) => logger.error({ err }, "could not refresh token revocations"),
  );
  await revocations.start();
  // Replicas sharing PostgreSQL: one writes each branch, the others take over when it dies.
  const lease = branchLeaseFor(store.target, (keys, err) => logger.warn({ err, branches: keys }, "lost the writer lease of these branches; another replica may take them"));
  // relengd.release.* on the bus (RELENGD_AMQP_URL): announced into the outbox, published from it.
  let publisher: BusPublisher | undefined;
  // issue 18: repoclosure checks (report policies; the gate shares them) and the report's mail.
  const kojiTags = new KojiTagRepository(store);
  const checks = new RepoclosureChecks({
    reports: new BrokenDepsReportRepository(store),
    tagHistory: (tag, packages) => kojiTags.history(tag, packages),
    runner: { dnf: config.repoclosure.dnf, workDir: config.repoclosure.workDir, timeoutMs: config.repoclosure.timeoutMs, memoryBytes: config.repoclosure.memoryBytes },
    maxAgeMs: config.repoclosure.maxAgeMs,
    keepWorkMs: config.repoclosure.keepWorkMs,
    logger,
  });
  const mailer = mailerFor(config.mail);
  const application = await composeApplication({
    store,
    policies,
    // The ingest rules read the Rawhide version from RELENGD_RAWHIDE_VERSION, as the bus mapping does.
    rules: { rawhideVersion: config.rawhideVersion },
    tokens: new TokenService(secret, revocations.has, config.oidc ? new OidcVerifier(config.oidc) : undefined),
    logger,
    workspacesDir: path.join(config.dataDir, "workspaces"),
    writer: { batchSize: config.writerBatchSize, coalesceAbove: config.writerCoalesceAbove },
    shadow: { url: config.shadowRepo, workspaceDir: shadowWorkspaceDir(config.dataDir) },
    lease,
    ...(config.amqp ? { announce: { added: () => publisher?.wake() } } : {}),
    readyRemoteBoundMs: config.readyRemoteBoundMs,
    anonymousRead: config.anonymousRead,
    ...(config.requestsRepository ? { requests: { repository: config.requestsRepository, pollMs: config.requestPollMs, factsDir: source?.dir ?? config.policiesDir } } : {}),
    ...(config.forgeWebhookSecret ? { forgeWebhookSecret: config.forgeWebhookSecret } : {}),
    repoclosure: { checks, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}) },
    reports: {
      mailer,
      mail: { from: config.mail.from, ownerAddressTemplate: config.mail.ownerAddress, ...(config.mail.list ? { list: config.mail.list } : {}) },
      ...(config.ownerAliasesFile ? { ownerAliasesFile: config.ownerAliasesFile } : {}),
    },
  });
  const { app, writer } = application;
  if (config.amqp) {
    publisher = new BusPublisher(
      { url: config.amqp.url, exchange: config.amqp.exchange, logger, ...(config.amqp.publishPrefix ? { topicPrefix: config.amqp.publishPrefix } : {}) },
      application.outbox,
    );
  }
  const onHangup = () => {
    void policies.reload().then((result) => {
      if (result.ok) logger.info(result, "SIGHUP: policies reloaded");
      else logger.error({ error: result.error }, "SIGHUP: policies not reloaded; the previous set stays");
    });
  };
  process.on("SIGHUP", onHangup);
  await application.start();
  publisher?.start();
  // Retention on a schedule (RELENGD_PRUNE_SCHEDULE); each slot runs once across replicas.
  const prune = config.prune ? startPruneSchedule({ store: new PruneRepository(store), reports: new PruneRepository(store), runs: new ScheduleRunRepository(store), logger }, config.prune) : undefined;
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address, database: store.provider, gitops: config.gitopsRepo }, "relengd serving");
  // The Fedora message bus (RELENGD_AMQP_URL): connects in the background, retrying with backoff.
  const bus = config.amqp
    ? new BusConsumer({
        ...config.amqp,
        handle: (delivery) => ingestBusDelivery(application.bus, delivery),
        // Results that arrived before their build, once CI or the bus stored an artifact with it.
        sweep: { run: () => applyWaitingResults(application.bus), everyMs: 60_000 },
        logger,
      })
    : undefined;
  bus?.start();
  return {
    app,
    store,
    writer,
    url: address,
    async close() {
      process.off("SIGHUP", onHangup);
      // Messages already received are finished and acked before the store closes.
      await bus?.stop();
      await prune?.stop();
      await application.close();
      mailer.close();
      await publisher?.stop();
      await lease.close();
      revocations.stop();
      await store.close();
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
