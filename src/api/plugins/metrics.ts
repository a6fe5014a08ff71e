// Prometheus metrics: the one registry relengd exposes at GET /metrics, and the metrics in it.
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { wellFormedString } from "../../domain/text.js";
import type { BusOutcome } from "../../domain/busMapping.js";
import { requestStatuses, type RequestStatus } from "../../store/requestRepository.js";
import { writersNotReady, type Readiness } from "../routes/health.js";
import { noQuery } from "../request.js";

/**
 * Topics come from the bus (and from POST /api/v1/events): past this many distinct ones, new
 * topics are counted under "other" so that a stream of odd routing keys cannot grow the
 * metric without bound.
 */
export const MAX_TOPIC_LABELS = 200;

export class Metrics {
  /** Add further metrics to this registry (one per process, never prom-client's global one). */
  readonly registry = new Registry();
  private readonly busMessages = new Counter({
    name: "relengd_bus_messages_total",
    help: "Messages consumed from the Fedora message bus (and POST /api/v1/events), by topic without its prefix and outcome",
    labelNames: ["topic", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly topics = new Set<string>();

  // Seconds, from a loopback ingest (~5 ms) to a push over a slow network (tens of seconds).
  private static readonly BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

  readonly httpRequests = new Histogram({
    name: "relengd_http_request_duration_seconds",
    help: "HTTP requests by method, route template and status class, from the first byte read to the last byte sent",
    labelNames: ["method", "route", "status"] as const,
    buckets: Metrics.BUCKETS,
    registers: [this.registry],
  });
  readonly artifactsIngested = new Counter({
    name: "relengd_artifacts_ingested_total",
    help: "Artifacts pushed through POST /api/v1/artifacts, by outcome: created, unchanged (same body again), conflict, rejected",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly writerCommit = new Histogram({
    name: "relengd_writer_commit_duration_seconds",
    help: "Time to render and commit one batch of releases (git fast-import), by repository",
    labelNames: ["repository"] as const,
    buckets: Metrics.BUCKETS,
    registers: [this.registry],
  });
  readonly writerPush = new Histogram({
    name: "relengd_writer_push_duration_seconds",
    help: "Time of one git push of a batch, accepted or rejected, by repository",
    labelNames: ["repository"] as const,
    buckets: Metrics.BUCKETS,
    registers: [this.registry],
  });
  readonly pushRetries = new Counter({
    name: "relengd_writer_push_retries_total",
    help: "Pushes rejected because the branch moved, then re-rendered on the fresh head and retried",
    labelNames: ["repository"] as const,
    registers: [this.registry],
  });
  readonly writeFailures = new Counter({
    name: "relengd_writer_failures_total",
    help: "Batches that could not be written, by repository and cause: remote (unreachable, refusing, a lock in the remote), workspace (the local clone: a lock git left that could not be removed, a broken clone), store, other",
    labelNames: ["repository", "cause"] as const,
    registers: [this.registry],
  });
  readonly releasesWritten = new Counter({
    name: "relengd_releases_total",
    help: "Releases the writer finished with, by repository and outcome: pushed, superseded, blocked, failed (an attempt failed; retried until its attempts run out)",
    labelNames: ["repository", "outcome"] as const,
    registers: [this.registry],
  });
  readonly policyDecisions = new Counter({
    name: "relengd_policy_decisions_total",
    help: "Policy decisions, by policy and outcome: fired, waiting (may fire later), skipped",
    labelNames: ["policy", "outcome"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "relengd_release_queue_depth",
    help: "Releases queued or committed but not yet pushed, by repository",
    labelNames: ["repository"] as const,
    registers: [this.registry],
  });
  readonly queueAge = new Gauge({
    name: "relengd_release_queue_oldest_age_seconds",
    help: "Age of the oldest release still queued or committed, by repository (0 when none)",
    labelNames: ["repository"] as const,
    registers: [this.registry],
  });
  readonly writerLease = new Gauge({
    name: "relengd_writer_lease",
    help: "1 for each repository whose branch this replica writes (holds the writer lease)",
    labelNames: ["repository"] as const,
    registers: [this.registry],
  });

  readonly writerFailing = new Gauge({
    name: "relengd_writer_failing_seconds",
    help: "How long every write attempt of a repository's writer has failed, with the last attempt's cause (remote, workspace, store, other); absent while writes succeed",
    labelNames: ["repository", "cause"] as const,
    registers: [this.registry],
  });
  readonly writerNotReady = new Gauge({
    name: "relengd_writer_not_ready",
    help: "1 for each repository whose writer has failed every attempt for longer than RELENGD_READY_REMOTE_BOUND_SECONDS, by cause: why /readyz answers 503",
    labelNames: ["repository", "cause"] as const,
    registers: [this.registry],
  });

  // From a push to a decision is seconds when a policy decides, hours or days when a person does.
  private static readonly REQUEST_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86_400, 3 * 86_400, 7 * 86_400];

  readonly requests = new Gauge({
    name: "relengd_requests",
    help: "Requests by kind (of their first document) and status: proposed, approved, needs-review, denied, merged, superseded, withdrawn",
    labelNames: ["kind", "status"] as const,
    registers: [this.registry],
  });
  private readonly requestDecision = new Histogram({
    name: "relengd_request_decision_seconds",
    help: "Time from relengd first seeing a request's revision to its decision (by a policy or a person), by kind",
    labelNames: ["kind"] as const,
    buckets: Metrics.REQUEST_BUCKETS,
    registers: [this.registry],
  });
  private readonly requestMerge = new Histogram({
    name: "relengd_request_merge_seconds",
    help: "Time from relengd first seeing a request's revision to its merge into the target branch, by kind",
    labelNames: ["kind"] as const,
    buckets: Metrics.REQUEST_BUCKETS,
    registers: [this.registry],
  });

  /** issue 17: closed releng/fedora-scm-requests tickets compared with relengd's verdict, counted from the store at scrape time. */
  readonly shadowAgreement = new Gauge({
    name: "relengd_shadow_agreement_total",
    help: "Closed releng/fedora-scm-requests tickets by kind (BranchRequest, RepoRequest, none) and whether relengd's approval policies agree with the request processor's outcome: agreed, disagreed, undecidable",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  private agreementSource: (() => Promise<{ kind: string; outcome: string; count: number }[]>) | undefined;

  /** The shadow agreement counts, read from the store at scrape time (right after a restart, the same on every replica). */
  observeShadowAgreement(source: () => Promise<{ kind: string; outcome: string; count: number }[]>): void {
    this.agreementSource = source;
  }

  /** issue 18: the newest broken-dependency report of each tree, read from the store at scrape time. */
  readonly brokenDepsPackages = new Gauge({
    name: "relengd_broken_deps_packages",
    help: "Packages with unresolved dependencies in the newest broken-dependency report of each tree (absent while its newest report is an error)",
    labelNames: ["tree"] as const,
    registers: [this.registry],
  });
  readonly brokenDepsReportAge = new Gauge({
    name: "relengd_broken_deps_report_age_seconds",
    help: "Age of the newest broken-dependency report of each tree, by its status: ok, broken, error (a check that could not run)",
    labelNames: ["tree", "status"] as const,
    registers: [this.registry],
  });
  readonly brokenDepsMail = new Counter({
    name: "relengd_broken_deps_mail_total",
    help: "Broken-dependency report messages, by outcome: sent (or written as .eml in a dry run), failed (told with the next report instead)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  private brokenDepsSource: (() => Promise<{ tree: string; status: string; packages: number; generatedAt: Date }[]>) | undefined;

  /** The newest report of each tree, read at scrape time (the same on every replica). */
  observeBrokenDeps(source: () => Promise<{ tree: string; status: string; packages: number; generatedAt: Date }[]>): void {
    this.brokenDepsSource = source;
  }

  /** Messages of a report's news went (`sent`) or could not (`failed`). */
  readonly brokenDepsMailed = (outcome: "sent" | "failed", messages: number): void => {
    if (messages > 0) this.brokenDepsMail.inc({ outcome }, messages);
  };

  /** issue 18: the repoclosure checks this replica ran, and the releases waiting for one. */
  readonly repoclosureChecks = new Counter({
    name: "relengd_repoclosure_checks_total",
    help: "Repoclosure checks run by this replica, by origin (gate, policy) and result: ok, broken, error (a repo could not be read, dnf failed or was killed at its bound), cancelled (shutdown)",
    labelNames: ["origin", "status"] as const,
    registers: [this.registry],
  });
  readonly repoclosureSeconds = new Histogram({
    name: "relengd_repoclosure_seconds",
    help: "Time of a repoclosure check by origin: dnf over every arch, the source packages, blame and storing the report",
    labelNames: ["origin"] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [this.registry],
  });
  readonly releasesChecking = new Gauge({
    name: "relengd_releases_checking",
    help: "Releases waiting for their repoclosure preflight (status checking), over every replica",
    registers: [this.registry],
  });
  readonly releasesCheckingAge = new Gauge({
    name: "relengd_releases_checking_oldest_seconds",
    help: "Age of the oldest release waiting for its repoclosure preflight; 0 when none waits",
    registers: [this.registry],
  });
  private checkingSource: (() => Promise<{ count: number; oldest: Date | null }>) | undefined;

  /** The checking releases, read from the store at scrape time. */
  observeChecking(source: () => Promise<{ count: number; oldest: Date | null }>): void {
    this.checkingSource = source;
  }

  /** A check ended (origin `gate` or `policy/<name>`, counted as `policy`). */
  readonly repoclosureChecked = (origin: string, status: string, seconds: number): void => {
    const o = origin === "gate" ? "gate" : origin.startsWith("policy/") ? "policy" : "other";
    this.repoclosureChecks.inc({ origin: o, status });
    if (status !== "cancelled") this.repoclosureSeconds.observe({ origin: o }, seconds);
  };

  private writerSource: Readiness | undefined;
  private requestSource: (() => Promise<{ kind: string; status: RequestStatus; count: number }[]>) | undefined;
  private queueSource: (() => Promise<{ repository: string; depth: number; oldest: Date | null }[]>) | undefined;
  private leaseSource: (() => string[]) | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Queue depth and age are read from the store when Prometheus scrapes, not kept in memory. */
  observeQueue(source: () => Promise<{ repository: string; depth: number; oldest: Date | null }[]>): void {
    this.queueSource = source;
  }

  /** The repositories whose writer lease this replica holds, read at scrape time. */
  observeLeases(source: () => string[]): void {
    this.leaseSource = source;
  }

  /** Requests by kind and status, read from the store at scrape time. */
  observeRequests(source: () => Promise<{ kind: string; status: RequestStatus; count: number }[]>): void {
    this.requestSource = source;
  }

  /** A request was decided (approved, needs-review or denied by the policies, or by a person) `seconds` after it was seen. */
  readonly requestDecided = (kind: string, seconds: number): void => {
    this.requestDecision.observe({ kind }, Math.max(0, seconds));
  };

  /** A request was merged `seconds` after it was seen. */
  readonly requestMerged = (kind: string, seconds: number): void => {
    this.requestMerge.observe({ kind }, Math.max(0, seconds));
  };

  /** The writers' failures, read at scrape time, judged as /readyz judges them. */
  observeWriters(readiness: Readiness): void {
    this.writerSource = readiness;
  }

  /** Brings the gauges up to date; runs before each scrape. */
  async refresh(now = new Date()): Promise<void> {
    if (this.writerSource) {
      const at = this.writerSource.now?.() ?? now;
      this.writerFailing.reset();
      this.writerNotReady.reset();
      for (const w of this.writerSource.writers()) {
        if (w.failingSince) this.writerFailing.set({ repository: w.repository, cause: w.cause ?? "other" }, Math.max(0, (at.getTime() - w.failingSince.getTime()) / 1000));
      }
      for (const w of writersNotReady(this.writerSource.writers(), this.writerSource.remoteBoundMs, at)) this.writerNotReady.set({ repository: w.repository, cause: w.cause }, 1);
    }
    if (this.queueSource) {
      const rows = await this.queueSource();
      this.queueDepth.reset();
      this.queueAge.reset();
      for (const r of rows) {
        this.queueDepth.set({ repository: r.repository }, r.depth);
        this.queueAge.set({ repository: r.repository }, r.oldest ? Math.max(0, (now.getTime() - r.oldest.getTime()) / 1000) : 0);
      }
    }
    if (this.checkingSource) {
      const { count, oldest } = await this.checkingSource();
      this.releasesChecking.set(count);
      this.releasesCheckingAge.set(oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0);
    }
    if (this.requestSource) {
      const rows = await this.requestSource();
      this.requests.reset();
      // Every status of a kind that has requests is reported, 0 included: a status emptied since
      // the last scrape reads 0, not a gap.
      for (const kind of new Set(rows.map((r) => r.kind))) for (const status of requestStatuses) this.requests.set({ kind, status }, 0);
      for (const r of rows) this.requests.set({ kind: r.kind, status: r.status }, r.count);
    }
    if (this.agreementSource) {
      const rows = await this.agreementSource();
      this.shadowAgreement.reset();
      // Every outcome of a kind that has tickets is reported, 0 included.
      for (const kind of new Set(rows.map((r) => r.kind))) for (const outcome of ["agreed", "disagreed", "undecidable"]) this.shadowAgreement.set({ kind, outcome }, 0);
      for (const r of rows) this.shadowAgreement.set({ kind: r.kind, outcome: r.outcome }, r.count);
    }
    if (this.brokenDepsSource) {
      const rows = await this.brokenDepsSource();
      this.brokenDepsPackages.reset();
      this.brokenDepsReportAge.reset();
      for (const r of rows) {
        if (r.status !== "error") this.brokenDepsPackages.set({ tree: r.tree }, r.packages);
        this.brokenDepsReportAge.set({ tree: r.tree, status: r.status }, Math.max(0, (now.getTime() - r.generatedAt.getTime()) / 1000));
      }
    }
    if (this.leaseSource) {
      this.writerLease.reset();
      for (const repository of this.leaseSource()) this.writerLease.set({ repository }, 1);
    }
  }

  /** One message consumed: accepted, waiting, deferred, ignored, rejected or duplicate. */
  readonly countBusMessage = (topic: string, outcome: BusOutcome): void => {
    if (!this.topics.has(topic) && this.topics.size < MAX_TOPIC_LABELS) this.topics.add(topic);
    this.busMessages.inc({ topic: this.topics.has(topic) ? topic : "other", outcome });
  };
}

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** GET /metrics (no token, as Prometheus scrapes it) in the Prometheus text format. */
export const metricsPlugin = fp((app: FastifyInstance, opts: { metrics: Metrics }) => {
  app.decorate("metrics", opts.metrics);
  // The route template, not the URL: label values stay bounded whatever clients ask for.
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || route === "/metrics") return;
    const status = reply.statusCode;
    opts.metrics.httpRequests.observe({ method: request.method, route, status: `${Math.floor(status / 100)}xx` }, reply.elapsedTime / 1000);
    if (route === "/api/v1/artifacts" && request.method === "POST") {
      const outcome = status === 201 ? "created" : status === 200 ? "unchanged" : status === 409 ? "conflict" : status < 500 ? "rejected" : "error";
      opts.metrics.artifactsIngested.inc({ outcome });
    }
  });
  app.get(
    "/metrics",
    {
      schema: {
        operationId: "metrics",
        summary: "Prometheus metrics",
        description: "The Prometheus text exposition format; no token, as Prometheus scrapes it.",
        tags: ["operations"],
        querystring: noQuery,
        response: { 200: { description: "The metrics", content: { "text/plain": { schema: wellFormedString() } } } },
      },
    },
    async (_request, reply) => {
      await opts.metrics.refresh();
      const text = await opts.metrics.registry.metrics();
      return reply.type(opts.metrics.registry.contentType).send(text);
    },
  );
  return Promise.resolve();
});
