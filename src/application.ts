// The composition root: one place that builds relengd's parts from a store and a policy set,
// for the server (main.ts), the tests and the benchmarks alike, so that what runs in a test is
// wired the way production wires it.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./api/app.js";
import { Metrics } from "./api/plugins/metrics.js";
import type { TokenService } from "./auth/tokens.js";
import { announcingWrites, ReleaseAnnouncer } from "./bus/releaseEvents.js";
import type { RepoclosureChecks } from "./checks/repoclosureChecks.js";
import { RepoclosureGate, type RepoclosureGateOptions } from "./checks/repoclosureGate.js";
import { RequestAnnouncer } from "./bus/requestEvents.js";
import type { ArtifactRuleOptions } from "./domain/artifactRules.js";
import type { MappingOptions } from "./domain/busMapping.js";
import { policyEventHandler, type EvaluateDeps, type PolicyEventHandler } from "./flow/evaluatePolicies.js";
import type { BusDeps } from "./flow/ingestBusMessage.js";
import { pushQueue, type PushQueue } from "./flow/pushArtifact.js";
import type { ReleaseDeps } from "./flow/release.js";
import { runScheduledPolicy } from "./flow/runSchedule.js";
import type { ProduceBrokenDepsReportDeps, ReportMailConfig } from "./flow/produceBrokenDepsReport.js";
import type { Mailer } from "./mail/mailer.js";
import { ownersSource } from "./policy/ownerAliases.js";
import { BrokenDepsReportRepository } from "./store/brokenDepsReportRepository.js";
import { decideRequestByPerson } from "./flow/decideRequestByPerson.js";
import { recordRequest, rejudgeRequest, type RecordRequestDeps } from "./flow/recordRequest.js";
import type { RequestService } from "./flow/requestDeps.js";
import { submitRequest } from "./flow/submitRequest.js";
import { RequestPoller } from "./gitops/requestPoller.js";
import { RequestSubmitter } from "./gitops/requestSubmission.js";
import { ShadowWriter } from "./gitops/shadowWriter.js";
import { FactsHolder, writeAllowedSigners } from "./policy/facts.js";
import { noFacts } from "./domain/requests/facts.js";
import { ObservedFacts } from "./policy/observedFacts.js";
import { ObservedRepository } from "./store/observedRepository.js";
import { RequestRepository, type RequestRecord } from "./store/requestRepository.js";
import { ForgeDeliveryRepository } from "./store/forgeDeliveryRepository.js";
import type { ForgeWebhookDeps } from "./flow/receiveForgeWebhook.js";
import type { ResolvedRepository } from "./domain/environmentSet.js";
import { leaseKey, Writer, type WriterDeps, type WriterOptions } from "./gitops/writer.js";
import type { PolicyHolder } from "./policy/loader.js";
import { Scheduler, SlotAbandoned } from "./policy/scheduler.js";
import { RepoclosureCancelled } from "./flow/checkRepoclosure.js";
import { ArtifactRepository } from "./store/artifactRepository.js";
import { LocalBranchLease, type BranchLease } from "./store/branchLease.js";
import { BusEventRepository } from "./store/busEventRepository.js";
import { BusOutboxRepository } from "./store/busOutboxRepository.js";
import { DecisionRepository } from "./store/decisionRepository.js";
import { ReleaseRepository } from "./store/releaseRepository.js";
import { ScheduleRunRepository } from "./store/scheduleRunRepository.js";
import { ShadowRepository } from "./store/shadowRepository.js";
import type { Store } from "./store/store.js";
import { WaiverRepository } from "./store/waiverRepository.js";

export interface ApplicationParts {
  store: Store;
  /** The policy set and its environments (reloadable in the server, fixed in some tests). */
  policies: Pick<PolicyHolder, "get" | "reload" | "environments"> & Partial<Pick<PolicyHolder, "onReload">>;
  /** The ingest rules (the Rawhide version); the bus mapping reads the same. */
  rules: ArtifactRuleOptions & MappingOptions;
  tokens: TokenService;
  logger: Logger;
  /** fastify's request log; false: none. Default: `logger`. */
  httpLogger?: FastifyBaseLogger | false;
  /** Where the writer keeps its git workspaces. */
  workspacesDir: string;
  writer?: Partial<WriterOptions>;
  /** The shadow repository the bus mirror writes (absent: no shadow writer). */
  shadow?: { url: string; workspaceDir: string };
  /** Replicas sharing PostgreSQL: one writes each branch. Default: this process holds every branch. */
  lease?: BranchLease;
  /** relengd.release.* and relengd.request.* announcements: the publisher's wake-up (absent: nothing is announced). */
  announce?: { added: () => void };
  /** The clock of policy decisions (tests move it); default the wall clock. */
  now?: () => Date;
  /** The clock of the writer's failures and of /readyz judging them. */
  clock?: () => Date;
  /** /readyz: how long a writer may fail every attempt. */
  readyRemoteBoundMs: number;
  anonymousRead?: boolean;
  metrics?: Metrics;
  /** A policy evaluation that failed after its request was answered; default: logged. */
  onPolicyError?: (err: unknown, artifactId: string) => void;
  /**
   * Requests: the repository (a name in environments.yaml) whose `requests/…` branches are
   * requests, how often they are looked for, and the folder facts paths are relative to (the
   * policies folder). Absent: no requests.
   */
  requests?: { repository: string; pollMs?: number; factsDir: string; fetch?: typeof fetch };
  /** RELENGD_FORGE_WEBHOOK_SECRET: POST /api/v1/forge/webhook verifies deliveries with it (absent: webhooks off). */
  forgeWebhookSecret?: string;
  /**
   * Issue 18: the repoclosure checks the gate runs before a compose release is queued (stopped on
   * close), and RELENGD_PUBLIC_URL for the report links. Absent: releases with a preflight wait
   * `checking` until a server with checks starts.
   */
  repoclosure?: { checks: Pick<RepoclosureChecks, "check" | "stop"> & Partial<Pick<RepoclosureChecks, "onChecked">>; publicUrl?: string; gate?: Partial<RepoclosureGateOptions> };
  /**
   * Issue 18: what report policies (spec.report) mail with: the mailer and its settings, the
   * owners file. They run their checks with `repoclosure.checks`. Absent: a report policy's run
   * fails saying so.
   */
  reports?: { mailer: Mailer; mail: ReportMailConfig; ownerAliasesFile?: string };
}

/** The request parts, when requests are on. */
export interface RequestParts {
  repository: RequestRepository;
  service: RequestService;
  poller: RequestPoller;
  facts: FactsHolder;
  /** The repository requests are made to, as environments.yaml declares it now. */
  target(): ResolvedRepository | undefined;
  /**
   * A verified webhook named the forge account of a branch's revision: looks now, and judges
   * again a request of that revision the poller judged before the webhook came.
   */
  authorRecorded(branch: string, revision: string): void;
  /** issue 17 T: the dist-git branches observed on the bus, merged into the facts. */
  observed?: ObservedFacts;
  /**
   * Loads the facts, warms the writer of the requests repository, starts polling (after the writer
   * started). Resolves at once: a facts URL that does not answer must not keep the server from
   * listening; the poller starts once the facts are in (`ready`).
   */
  start(): Promise<void>;
  /** Resolves when the facts are loaded and the poller runs (or start failed, logged). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export interface Application {
  app: FastifyInstance;
  metrics: Metrics;
  artifacts: ArtifactRepository;
  releases: ReleaseRepository;
  decisions: DecisionRepository;
  waivers: WaiverRepository;
  outbox: BusOutboxRepository;
  writer: Writer;
  shadow: ShadowWriter | undefined;
  announcer: ReleaseAnnouncer | undefined;
  scheduler: Scheduler;
  /** What policy evaluation runs with (schedules and tests use it too). */
  evaluate: EvaluateDeps;
  /** Where pushes are stored with what the policies decide. */
  pushes: PushQueue & { idle(): Promise<void> };
  onPolicyEvent: PolicyEventHandler;
  /** What a bus delivery is applied with (the consumer's handler). */
  bus: BusDeps;
  requests: RequestParts | undefined;
  /** The repoclosure gate (absent without `parts.repoclosure`). */
  gate: RepoclosureGate | undefined;
  /** Starts the background parts: the writer (resuming what a crash left), the shadow writer, the announcer, the schedules. */
  start(): Promise<void>;
  /** Stops them and the HTTP app; the store stays open (its opener closes it). */
  close(): Promise<void>;
}

export async function composeApplication(parts: ApplicationParts): Promise<Application> {
  const { store, policies, rules, logger } = parts;
  const metrics = parts.metrics ?? new Metrics();
  const environments = () => policies.environments();
  const releases = new ReleaseRepository(store);
  const decisions = new DecisionRepository(store);
  const waivers = new WaiverRepository(store);
  const artifacts = new ArtifactRepository(store);
  const outbox = new BusOutboxRepository(store);
  const lease = parts.lease ?? new LocalBranchLease();
  // relengd.request.*: each status change puts its message in the outbox in its own transaction.
  const requestAnnouncer = parts.announce ? new RequestAnnouncer({ added: parts.announce.added }) : undefined;
  const requestStore = parts.requests ? new RequestRepository(store, requestAnnouncer) : undefined;
  const forgeDeliveries = new ForgeDeliveryRepository(store);
  const seconds = (from: Date, to: Date | null) => Math.max(0, ((to ?? new Date()).getTime() - from.getTime()) / 1000);
  const announcer = parts.announce ? new ReleaseAnnouncer({ outbox, logger, added: parts.announce.added }) : undefined;
  const writer = new Writer(
    announcingWrites(
      {
        releases,
        artifacts,
        environments,
        rules,
        workspacesDir: parts.workspacesDir,
        logger,
        lease,
        publicUrl: parts.repoclosure?.publicUrl,
        ...writerMetrics(metrics),
        ...(parts.clock ? { now: parts.clock } : {}),
        ...(requestStore
          ? {
              requests: requestStore,
              onMerged: (outcome) => {
                requestAnnouncer?.committed();
                if (outcome.status === "merged") metrics.requestMerged(outcome.request.kind, seconds(outcome.request.seenAt, parts.clock?.() ?? new Date()));
              },
            }
          : {}),
      },
      announcer,
    ),
    parts.writer ?? {},
  );
  const gate = parts.repoclosure
    ? new RepoclosureGate(
        {
          releases,
          checks: parts.repoclosure.checks,
          environments,
          lease,
          notify: (repo) => writer.notify(repo),
          blocked: (ids) => announcer?.blockedAtGate(ids),
          publicUrl: parts.repoclosure.publicUrl,
          logger,
        },
        parts.repoclosure.gate ?? {},
      )
    : undefined;
  const checking = () => gate?.notify();
  metrics.observeQueue(() => releases.queueStats());
  metrics.observeChecking(() => releases.checkingStats());
  parts.repoclosure?.checks.onChecked?.(metrics.repoclosureChecked);
  const readiness = { writers: () => writer.health(), remoteBoundMs: parts.readyRemoteBoundMs, ...(parts.clock ? { now: parts.clock } : {}) };
  metrics.observeWriters(readiness);
  metrics.observeLeases(() => {
    const held = new Set(lease.held());
    return [...environments().repositories.values()].filter((r) => held.has(leaseKey(r))).map((r) => r.name);
  });
  const decided = (list: readonly { policy: string; fired: boolean; waiting: boolean }[]) => {
    for (const d of list) metrics.policyDecisions.inc({ policy: d.policy, outcome: d.fired ? "fired" : d.waiting ? "waiting" : "skipped" });
  };
  const evaluate: EvaluateDeps = {
    store,
    artifacts,
    releases,
    decisions,
    waivers,
    policies: () => policies.get(),
    notify: (repo) => writer.notify(repo),
    checking,
    rules,
    decided,
    ...(parts.now ? { now: parts.now } : {}),
  };
  const pushes = pushQueue(evaluate);
  // issue 18: owners from the requests' facts when requests are on (assigned below), else the aliases file.
  let requestFacts: (() => RequestParts["facts"]) | undefined;
  const reportOwners = ownersSource({
    facts: () => requestFacts?.().get().values.packageAcls,
    ...(parts.reports?.ownerAliasesFile ? { file: parts.reports.ownerAliasesFile } : {}),
    onError: (err) => logger.warn({ err }, "cannot read the owners file (RELENGD_OWNER_ALIASES); reports show no owners"),
  });
  const checks = parts.repoclosure?.checks;
  const reportDeps: ProduceBrokenDepsReportDeps | undefined = parts.reports && checks
    ? {
        check: (input, options) => checks.check(input, options),
        reports: new BrokenDepsReportRepository(store),
        mailer: parts.reports.mailer,
        mailConfig: parts.reports.mail,
        ...(parts.repoclosure?.publicUrl ? { publicUrl: parts.repoclosure.publicUrl } : {}),
        ...(parts.now ? { now: parts.now } : {}),
        onMailed: metrics.brokenDepsMailed,
      }
    : undefined;
  const scheduler = new Scheduler({
    policies: () => policies.get(),
    runs: new ScheduleRunRepository(store),
    run: (policy, slot) =>
      runScheduledPolicy({ evaluate, ...(reportDeps ? { report: reportDeps } : {}) }, policy, slot).catch((err: unknown) => {
        // A report whose dnf a shutdown killed did not run: its slot is run again at the next start.
        throw err instanceof RepoclosureCancelled ? new SlotAbandoned(err.message) : err;
      }),
    logger,
  });
  policies.onReload?.(() => scheduler.rearm());
  const onPolicyEvent = policyEventHandler(evaluate, parts.onPolicyError ?? ((err, artifactId) => logger.error({ err, artifactId }, "policy evaluation failed")));
  // Bus messages (from the consumer or POST /api/v1/events) wake it; it starts with the writer.
  const shadow = parts.shadow ? new ShadowWriter({ changes: new ShadowRepository(store), url: parts.shadow.url, workspaceDir: parts.shadow.workspaceDir, logger, lease }) : undefined;
  const onShadowChange = () => shadow?.notify();
  const requests = requestStore && parts.requests ? composeRequests(parts, requestStore, { writer, metrics, lease, seconds, forgeDeliveries, announced: () => requestAnnouncer?.committed() }) : undefined;
  if (requests) requestFacts = () => requests.facts;
  const forgeWebhook: ForgeWebhookDeps = {
    secret: parts.forgeWebhookSecret,
    deliveries: forgeDeliveries,
    repository: () => requests?.target(),
    look: () => requests?.poller.kick(),
    authorRecorded: (branch, revision) => requests?.authorRecorded(branch, revision),
    ...(parts.clock ? { now: parts.clock } : {}),
  };
  // issue 17: mirrored scm tickets are judged with the approval policies and the requests' facts (none known without requests).
  const scmApproval = () => ({ policies: policies.get().approvalPolicies, facts: requests ? (requests.observed?.apply(requests.facts.get()) ?? requests.facts.get()) : noFacts() });
  // A dist-git branch observed on this replica reaches the approval facts at once (others: on their timer).
  const onObserved = () => void requests?.observed?.refresh();
  const releaseDeps: ReleaseDeps = { releases, artifacts, environments, notify: (repo) => writer.notify(repo), checking, rules, ...(parts.now ? { now: parts.now } : {}) };
  const app = await buildApp({
    store,
    artifacts,
    pushes,
    tokens: parts.tokens,
    releases: releaseDeps,
    policies: { decisions, holder: policies, onEvent: onPolicyEvent },
    logger: parts.httpLogger ?? logger,
    metrics,
    bus: { mapping: { rawhideVersion: rules.rawhideVersion }, onShadowChange, approval: scmApproval, onObserved },
    readiness,
    ...(parts.anonymousRead !== undefined ? { anonymousRead: parts.anonymousRead } : {}),
    ...(requests ? { requests: requests.service } : {}),
    forgeWebhook,
    reportOwners,
  });
  const bus: BusDeps = {
    artifacts,
    pushes,
    events: new BusEventRepository(store),
    policyEvent: onPolicyEvent,
    mapping: { rawhideVersion: rules.rawhideVersion },
    count: metrics.countBusMessage,
    onShadowChange,
    approval: scmApproval,
    onObserved,
  };
  return {
    app,
    metrics,
    artifacts,
    releases,
    decisions,
    waivers,
    outbox,
    writer,
    shadow,
    announcer,
    scheduler,
    evaluate,
    pushes,
    onPolicyEvent,
    bus,
    requests,
    gate,
    async start() {
      // Resumes what a previous run left queued or committed (crash recovery).
      await writer.start();
      // Checks what a previous run left checking.
      gate?.start();
      await requests?.start();
      // Finishes the shadow commits a previous run left queued, then follows the bus.
      shadow?.start();
      await announcer?.start();
      await scheduler.start();
    },
    async close() {
      // app.close stops accepting and waits for requests in flight (their commits included).
      await app.close();
      // Every dnf is killed first: the scheduler waits for a report policy's run to end. A gate
      // check under way is let go; its releases stay checking for the next start.
      await gate?.stop();
      await parts.repoclosure?.checks.stop();
      await scheduler.stop();
      await requests?.stop();
      await writer.stop();
      await shadow?.stop();
      // What is not published yet stays in the outbox for the next start.
      await announcer?.stop();
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

/**
 * The request parts: facts (refreshed, with the allowed-signers file written from them), the
 * poller that finds request branches, the use cases the API calls; approved requests are merged
 * by the writer of the repository's branch.
 */
function composeRequests(
  parts: ApplicationParts,
  repository: RequestRepository,
  shared: {
    writer: Writer;
    metrics: Metrics;
    lease: BranchLease;
    seconds: (from: Date, to: Date | null) => number;
    forgeDeliveries: ForgeDeliveryRepository;
    /** A request's status changed and committed: relengd.request.* messages may be waiting in the outbox. */
    announced: () => void;
  },
): RequestParts {
  const config = parts.requests as NonNullable<ApplicationParts["requests"]>;
  const { policies, logger } = parts;
  const { writer, metrics } = shared;
  const facts = new FactsHolder(policies.get().facts, { baseDir: config.factsDir, ...(config.fetch ? { fetch: config.fetch } : {}) });
  policies.onReload?.((set) => facts.configure(set.facts));
  const signersFile = path.join(parts.workspacesDir, "allowed_signers");
  mkdirSync(parts.workspacesDir, { recursive: true });
  let signers: string | null = null;
  facts.onRefresh((current) => {
    try {
      writeAllowedSigners(current, signersFile);
      signers = signersFile;
    } catch (err) {
      logger.error({ err, file: signersFile }, "cannot write the allowed-signers file; no signature verifies until it can be");
      signers = null;
    }
  });
  const observed = new ObservedFacts(new ObservedRepository(parts.store), { logger });
  const now = () => parts.clock?.() ?? new Date();
  const decided = (r: RequestRecord) => {
    shared.announced();
    metrics.requestDecided(r.kind, shared.seconds(r.seenAt, r.decidedAt));
    if (r.status === "approved") writer.notify(r.repository);
  };
  const recordDeps: RecordRequestDeps = {
    requests: repository,
    approval: () => ({ policies: policies.get().approvalPolicies, facts: observed.apply(facts.get()) }),
    now,
    onRecorded: decided,
  };
  const target = () => policies.environments().repositories.get(config.repository);
  const poller = new RequestPoller(
    {
      requests: repository,
      repository: target,
      workspacesDir: parts.workspacesDir,
      allowedSigners: () => signers,
      judge: async (revision) => (await recordRequest(recordDeps, revision)).request,
      rejudge: (request, revision) => rejudgeRequest(recordDeps, request, revision),
      lease: shared.lease,
      logger,
      now,
      forgeAuthors: (repo, branch, revision) => shared.forgeDeliveries.accounts(repo, branch, revision),
      onWithdrawn: () => shared.announced(),
    },
    config.pollMs === undefined ? {} : { pollMs: config.pollMs },
  );
  // New facts or approval policies: what waits for review because of them is judged again.
  facts.onRefresh(() => poller.policiesChanged());
  policies.onReload?.(() => poller.policiesChanged());
  observed.onChange(() => poller.policiesChanged());
  const submissions = new RequestSubmitter(parts.workspacesDir);
  let starting: Promise<void> | undefined;
  let stopping = false;
  const service: RequestService = {
    requests: repository,
    submit: (principal, input) =>
      submitRequest({ ...recordDeps, repository: target, submissions, onPushed: (r) => r.status === "approved" && writer.notify(r.repository) }, principal, input),
    decide: (principal, input) => decideRequestByPerson({ requests: repository, now, onDecided: decided, approval: recordDeps.approval }, principal, input),
    unreviewed: async () => {
      const repo = target();
      if (!repo) return undefined;
      // The polling replica's own report is the freshest; the others read what it stored.
      const report = poller.unreviewed() ?? (await repository.unreviewed(repo.name));
      // A report of another repository or branch (the environments were reloaded) says nothing of this one.
      if (report && report.repository === repo.name && report.branch === repo.branch) return report;
      return { repository: repo.name, branch: repo.branch, head: null, documents: [], checkedAt: null };
    },
  };
  return {
    repository,
    service,
    poller,
    facts,
    target,
    authorRecorded(branch, revision) {
      poller.kick();
      // After the look the kick asked for: a request of this revision recorded by a look that
      // began before the webhook was stored has an unverified author; it is judged again.
      void (async () => {
        await poller.settled();
        const repo = target();
        if (!repo) return;
        const [latest] = await repository.latestOfBranches(repo.name, [branch]);
        if (latest?.revision !== revision || latest.status !== "needs-review") return;
        const request = await repository.get(latest.id);
        if (request && !request.verified) poller.policiesChanged();
      })().catch((err: unknown) => logger.warn({ err, branch }, "cannot check a request for a forge-verified author"));
    },
    observed,
    start() {
      starting ??= (async () => {
        // Facts first: a request judged before they load would find every fact unknown.
        await Promise.all([facts.refresh(), observed.refresh()]);
        if (stopping) return;
        facts.start();
        observed.start();
        if (!target()) {
          logger.warn({ repository: config.repository, declared: [...policies.environments().repositories.keys()] }, "the requests repository is not declared in environments.yaml: no request branch is looked for until it is (RELENGD_REQUESTS_REPOSITORY)");
        } else {
          // Its writer fetches its workspace now, not at the first approval (a fresh data dir's
          // first merge would otherwise wait for a fetch of the whole history).
          writer.notify(config.repository);
        }
        poller.start();
      })().catch((err: unknown) => logger.error({ err }, "requests could not start; no request branch is looked for"));
      return Promise.resolve();
    },
    ready() {
      return starting ?? Promise.resolve();
    },
    async stop() {
      stopping = true;
      await starting;
      await poller.stop();
      facts.stop();
      observed.stop();
    },
  };
}
