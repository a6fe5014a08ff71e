// The web dashboard: its static page and assets (src/web, no build step) and the read-only
// summaries it needs that no resource route gives: overview, environment state, a release's
// timeline and its rendered document.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { PACKAGE_PATTERN } from "../../domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../../domain/documents/envelope.js";
import { freezeSchema, type Freeze } from "../../domain/freeze.js";
import { releaseStatuses, renderRelease, type ReleaseSpec, type ReleaseStatus, type RenderedRelease } from "../../domain/release.js";
import { renderBulkCommitMessage } from "../../domain/commitMessages/bulk.js";
import { parseReleaseCommitMessage, releaseTrailers } from "../../domain/commitMessages/release.js";
import type { ReleaseDeps } from "../../flow/release.js";
import type { Store } from "../../store/store.js";
import { OverviewRepository } from "../../store/overviewRepository.js";
import type { HoldRecord, ReleaseRecord } from "../../store/releaseRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { invalid, notFound, problemResponse, problemResponses, unprocessable } from "../problem.js";
import { noQuery } from "../request.js";

/**
 * src/web beside src/ and dist/ alike: this file runs as src/api/routes/dashboard.ts (tsx,
 * vitest) or dist/api/routes/dashboard.js (npm start), three levels below the package root.
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../../src/web/", import.meta.url));

// The page loads only its own files and talks only to this server: nothing from the internet.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Freezes starting within this many days are shown as upcoming. */
const UPCOMING_FREEZE_DAYS = 14;
// The overview's "Latest releases": enough to see what just happened, cheap to read every 5 s.
const LATEST_RELEASES = 10;
// The counter src/api/plugins/metrics.ts registers; read back here for the bus's tally since start.
const BUS_MESSAGES_METRIC = "relengd_bus_messages_total";

const releaseParams = z.strictObject({ id: wellFormedString().regex(ULID, "must be a release id") });
const environmentParams = z.strictObject({ name: wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name") });
const environmentStateQuery = z.strictObject({
  package: wellFormedString().regex(PACKAGE_PATTERN, "must be the start of a koji package name").optional().meta({ description: "Only packages whose name starts with this" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: wellFormedString().min(1).max(200).optional().meta({ description: "`nextCursor` of the previous page" }),
});

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);
const timelineStates = ["decided", "queued", "held", "retrying", "committed", "pushed", "failed", "blocked", "superseded"] as const;

const freezeWindowSchema = z.strictObject({
  environment: wellFormedString(),
  start: timestamp,
  end: timestamp,
  reason: wellFormedString(),
  exceptions: freezeSchema.shape.exceptions.unwrap(),
  active: z.boolean().meta({ description: "In force now" }),
});

const overviewSchema = z.strictObject({
  generatedAt: timestamp,
  queue: z
    .array(
      z.strictObject({
        repository: wellFormedString(),
        branch: wellFormedString(),
        depth: z.number().int().meta({ description: "Releases queued or committed, not pushed yet" }),
        queued: z.number().int(),
        committed: z.number().int(),
        oldest: z
          .object({
            id: wellFormedString(),
            package: wellFormedString(),
            environment: wellFormedString(),
            createdAt: timestamp,
            attempts: z.number().int(),
            error: wellFormedString().nullable(),
            nextAttemptAt: timestamp.nullable(),
          })
          .nullable()
          .meta({ description: "The release the writer takes next; null when the queue is empty" }),
      }),
    )
    .meta({ description: "Per declared repository and branch (and any other that has releases queued)" }),
  last24h: z
    .strictObject({ since: timestamp, pushed: count, failed: count, blocked: count, superseded: count })
    .meta({ description: "Releases that reached each final state since `since`" }),
  freezes: z.array(freezeWindowSchema).meta({ description: `Freezes in force now or starting within ${UPCOMING_FREEZE_DAYS} days` }),
  latest: z
    .array(
      z.strictObject({
        id: wellFormedString(),
        package: wellFormedString(),
        environment: wellFormedString(),
        status: z.enum(releaseStatuses),
        trigger: wellFormedString(),
        reason: wellFormedString().nullable().meta({ description: "Why it was blocked or superseded" }),
        updatedAt: timestamp,
        nvrs: z.array(wellFormedString()).meta({ description: "The builds the release puts in its environment (for a Koji tag: the build of the package)" }),
      }),
    )
    .meta({ description: `The ${LATEST_RELEASES} newest releases` }),
  bus: z.strictObject({
    lastMessage: z.strictObject({ topic: wellFormedString(), status: wellFormedString(), receivedAt: timestamp }).nullable(),
    waitingResults: z.number().int().meta({ description: "CI results received before their build" }),
    sinceStart: z.record(wellFormedString(), z.number()).meta({ description: "Messages handled by this server process since it started, by outcome" }),
  }),
});

const environmentStateSchema = z.strictObject({
  environment: wellFormedString(),
  kind: wellFormedString(),
  freezes: z.array(freezeWindowSchema),
  pending: z.number().int().meta({ description: "Releases to this environment queued or committed" }),
  items: z.array(
    z.strictObject({
      package: wellFormedString(),
      nvrs: z.array(wellFormedString()).meta({ description: "For a Koji tag: the one build of the package" }),
      releaseId: wellFormedString(),
      artifactId: wellFormedString(),
      trigger: wellFormedString(),
      commitSha: wellFormedString().nullable(),
      pushedAt: timestamp.nullable(),
    }),
  ),
  nextCursor: wellFormedString().nullable(),
});

const timelineSchema = z.strictObject({
  releaseId: wellFormedString(),
  status: wellFormedString(),
  entries: z.array(z.strictObject({ state: z.enum(timelineStates), at: timestamp.nullable(), detail: wellFormedString() })).meta({ description: "Oldest first" }),
  decision: z.strictObject({ policy: wellFormedString(), event: wellFormedString(), reason: wellFormedString().nullable(), createdAt: timestamp }).nullable().meta({ description: "The policy decision that queued it" }),
});

const documentSchema = z.strictObject({
  releaseId: wellFormedString(),
  kind: wellFormedString(),
  path: wellFormedString().meta({ description: "Where the document lives in the GitOps repository" }),
  content: wellFormedString().meta({ description: "The YAML the writer commits" }),
  commit: z.strictObject({
    sha: wellFormedString().nullable(),
    bulk: z.boolean(),
    subject: wellFormedString().nullable(),
    message: wellFormedString().nullable().meta({ description: "Null for a bulk release: its commit is shared with its batch" }),
    trailers: z.array(z.strictObject({ name: wellFormedString(), value: wellFormedString() })),
  }),
});

/** Environment-state pages are keyed by package name (the last one of the previous page). */
export function encodePackageCursor(pkg: string): string {
  return Buffer.from(`p${pkg}`).toString("base64url");
}

export function decodePackageCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, "base64url").toString();
  const pkg = text.slice(1);
  return text.startsWith("p") && PACKAGE_PATTERN.test(pkg) ? pkg : undefined;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function freezeView(environment: string, f: Freeze, now: Date) {
  return { environment, start: f.start, end: f.end, reason: f.reason, exceptions: f.exceptions, active: Date.parse(f.start) <= now.getTime() && now.getTime() < Date.parse(f.end) };
}

export interface TimelineEntry {
  state: (typeof timelineStates)[number];
  at: string | null;
  detail: string;
}

/**
 * A release's states, oldest first, from what its record keeps: when it was queued, the last
 * failed attempt, and when it reached its current state (the store keeps no per-state log, so a
 * pushed release shows no separate commit time).
 */
export function releaseTimeline(
  r: ReleaseRecord,
  context: { decision?: { policy: string; createdAt: Date; reason: string | null } | null; hold?: HoldRecord | null } = {},
): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  if (context.decision) {
    out.push({ state: "decided", at: iso(context.decision.createdAt), detail: `policy ${context.decision.policy} fired${context.decision.reason ? `: ${context.decision.reason}` : ""}` });
  }
  const forced = r.force ? `; forced${r.forceReason ? `: ${r.forceReason}` : ""}` : "";
  out.push({ state: "queued", at: iso(r.createdAt), detail: `by ${r.trigger} (${r.createdBy})${forced}` });
  if (context.hold && context.hold.releaseId === r.id) {
    out.push({ state: "held", at: iso(context.hold.createdAt), detail: `hold on ${context.hold.environment}/${context.hold.package} placed: ${context.hold.reason}` });
  }
  switch (r.status) {
    case "queued":
      if (r.attempts > 0) {
        const next = r.nextAttemptAt ? `; next attempt at ${r.nextAttemptAt.toISOString()}` : "";
        out.push({ state: "retrying", at: iso(r.updatedAt), detail: `attempt ${r.attempts} failed: ${r.error ?? "no error recorded"}${next}` });
      }
      break;
    case "committed":
      out.push({ state: "committed", at: iso(r.updatedAt), detail: `commit ${r.commitSha ?? "(unknown)"} made, not pushed yet` });
      break;
    case "pushed":
      out.push({ state: "pushed", at: iso(r.pushedAt ?? r.updatedAt), detail: `commit ${r.commitSha ?? "(unknown)"} pushed to ${r.repository}/${r.branch}` });
      break;
    case "failed":
      out.push({ state: "failed", at: iso(r.updatedAt), detail: `after ${r.attempts} attempt${r.attempts === 1 ? "" : "s"}: ${r.error ?? "no error recorded"}` });
      break;
    case "blocked":
      out.push({ state: "blocked", at: iso(r.updatedAt), detail: r.reason ?? "no reason recorded" });
      break;
    case "superseded":
      out.push({ state: "superseded", at: iso(r.updatedAt), detail: r.reason ?? `superseded by release ${r.supersededBy ?? "(unknown)"}` });
      break;
  }
  return out;
}

// The same pure function the writer commits with, so the page shows the file it wrote (or will);
// an artifact that no longer qualifies (environment changed since) is said in words.
function renderOrExplain(id: string, render: () => RenderedRelease): RenderedRelease {
  try {
    return render();
  } catch (err) {
    throw unprocessable("document-unrenderable", `release ${id}'s document cannot be rendered: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** index.html at / and every file of webDir under /assets/, with a policy that keeps the page to this server. */
async function servePage(app: FastifyInstance, webDir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: webDir,
    prefix: "/assets/",
    index: false,
    list: false,
    // Revalidated on each load (ETag), so a new version of relengd never runs a stale script.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (reply) => {
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-content-type-options", "nosniff");
    },
  });
  // The page is public (it holds no data); the API calls it makes need a reader token unless
  // anonymous read is on.
  app.get("/", { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .sendFile("index.html");
  });
}

export interface DashboardOptions {
  store: Store;
  releases: ReleaseDeps;
  /** Where index.html and its assets are; DEFAULT_WEB_DIR unless a test says otherwise. */
  webDir?: string;
  now?: () => Date;
}

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const overview = new OverviewRepository(opts.store);
  const deps = opts.releases;
  const now = opts.now ?? (() => new Date());
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  // An install without src/web still serves the API; the page says what is missing.
  if (existsSync(path.join(webDir, "index.html"))) await servePage(app, webDir);
  else {
    app.log.warn({ webDir }, "dashboard files are missing; serving the API without the web dashboard");
    app.get("/", { schema: { hide: true } }, async () => {
      throw notFound(`the web dashboard's files are not installed (${webDir})`);
    });
  }

  api.get(
    "/api/v1/overview",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getOverview",
        summary: "Queues, the last day's outcomes, freezes and the bus at a glance",
        tags: ["dashboard"],
        querystring: noQuery,
        response: { 200: jsonResponse("The overview, as of generatedAt", overviewSchema), 503: problemResponse(503) },
      },
    },
    async () => {
      const at = now();
      const since = new Date(at.getTime() - DAY_MS);
      const envs = deps.environments();
      const [queue, outcomes, bus, latest] = await Promise.all([overview.queueDepths(), overview.outcomesSince(since), overview.busActivity(), overview.latestReleases(LATEST_RELEASES)]);
      const rows = queue.map((q) => ({
        ...q,
        depth: q.queued + q.committed,
        oldest: { ...q.oldest, createdAt: q.oldest.createdAt.toISOString(), nextAttemptAt: iso(q.oldest.nextAttemptAt) },
      }));
      // Declared repositories with nothing queued are shown too: an empty queue is news.
      const idle = [...envs.repositories.values()]
        .filter((repo) => !rows.some((q) => q.repository === repo.name && q.branch === repo.branch))
        .map((repo) => ({ repository: repo.name, branch: repo.branch, queued: 0, committed: 0, depth: 0, oldest: null }));
      const horizon = at.getTime() + UPCOMING_FREEZE_DAYS * DAY_MS;
      const freezes = [...envs.environments.values()]
        .flatMap((e) => e.freezes.filter((f) => Date.parse(f.end) > at.getTime() && Date.parse(f.start) < horizon).map((f) => freezeView(e.name, f, at)))
        .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      const busMetric = app.hasDecorator("metrics") ? app.metrics.registry.getSingleMetric(BUS_MESSAGES_METRIC) : undefined;
      const sinceStart: Record<string, number> = {};
      for (const v of busMetric ? (await busMetric.get()).values : []) {
        const outcome = String(v.labels.outcome ?? "unknown");
        sinceStart[outcome] = (sinceStart[outcome] ?? 0) + v.value;
      }
      return {
        generatedAt: at.toISOString(),
        queue: [...rows, ...idle].sort((a, b) => a.repository.localeCompare(b.repository) || a.branch.localeCompare(b.branch)),
        last24h: { since: since.toISOString(), ...outcomes },
        freezes,
        latest: latest.map((r) => {
          // A Koji tag holds one build per package: the one named like it; other kinds carry them all.
          const ownOnly = envs.environments.get(r.environment)?.kind === "KojiTag";
          const builds = ownOnly ? r.builds.filter((b) => b.name === r.package) : r.builds;
          const { builds: _all, ...rest } = r;
          return { ...rest, status: r.status as ReleaseStatus, updatedAt: r.updatedAt.toISOString(), nvrs: builds.map((b) => b.nvr) };
        }),
        bus: {
          lastMessage: bus.last ? { topic: bus.last.topic, status: bus.last.status, receivedAt: bus.last.receivedAt.toISOString() } : null,
          waitingResults: bus.waiting,
          sinceStart,
        },
      };
    },
  );

  api.get(
    "/api/v1/environments/:name/state",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getEnvironmentState",
        summary: "What an environment holds now: per package, the newest pushed release",
        description: "Package-name order; pages follow `nextCursor`. For a Koji tag, `nvrs` is the build tagged for the package.",
        tags: ["dashboard", "environments"],
        params: environmentParams,
        querystring: environmentStateQuery,
        response: { 200: jsonResponse("A page of packages, by name", environmentStateSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { name } = request.params;
      const q = request.query;
      const after = q.cursor === undefined ? undefined : decodePackageCursor(q.cursor);
      if (q.cursor !== undefined && after === undefined) throw invalid("query", [{ path: "/cursor", message: "cursor is not one this server issued" }]);
      const env = deps.environments().environments.get(name);
      if (!env) throw notFound(`no environment ${name} (GET /api/v1/environments lists them)`);
      const at = now();
      const [state, pending] = await Promise.all([
        overview.environmentState({
          environment: name,
          ...(q.package ? { packagePrefix: q.package } : {}),
          ...(after !== undefined ? { after } : {}),
          limit: q.limit,
          ownBuildOnly: env.kind === "KojiTag",
        }),
        overview.pendingIn(name),
      ]);
      const last = state.items.at(-1);
      return {
        environment: name,
        kind: env.kind,
        freezes: env.freezes.map((f) => freezeView(name, f, at)),
        pending,
        items: state.items.map((i) => ({ ...i, pushedAt: iso(i.pushedAt) })),
        nextCursor: state.hasMore && last ? encodePackageCursor(last.package) : null,
      };
    },
  );

  api.get(
    "/api/v1/releases/:id/timeline",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getReleaseTimeline",
        summary: "A release's states, oldest first",
        description: "From what the release record keeps (queued, the last failed attempt, its current state), the policy decision that queued it and the hold a rollback placed.",
        tags: ["dashboard", "releases"],
        params: releaseParams,
        response: { 200: jsonResponse("The timeline, oldest first", timelineSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const r = await deps.releases.get(id);
      if (!r) throw notFound(`no release ${id}`);
      const [decision, hold] = await Promise.all([overview.decisionFor(r.artifactId, r.id), deps.releases.hold(r.environment, r.package)]);
      return {
        releaseId: r.id,
        status: r.status,
        entries: releaseTimeline(r, { decision, hold: hold && hold.releaseId === r.id ? hold : null }),
        decision: decision ? { ...decision, createdAt: decision.createdAt.toISOString() } : null,
      };
    },
  );

  api.get(
    "/api/v1/releases/:id/document",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getReleaseDocument",
        summary: "The request document and commit trailers of a release",
        description: "Rendered by the same pure function the writer commits with, from the release, its artifact and the environment as declared now.",
        tags: ["dashboard", "releases"],
        params: releaseParams,
        response: {
          200: jsonResponse("The document and the commit that carries it", documentSchema),
          ...problemResponses(404),
          422: problemResponse(422, "The environment is no longer declared, or the artifact no longer qualifies for it"),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const r = await deps.releases.get(id);
      if (!r) throw notFound(`no release ${id}`);
      const env = deps.environments().environments.get(r.environment);
      if (!env) throw unprocessable("environment-undeclared", `environment ${r.environment} is no longer declared; release ${id}'s document cannot be rendered`);
      const artifact = (await deps.artifacts.getMany([r.artifactId])).get(r.artifactId);
      if (!artifact) throw unprocessable("unknown-artifact", `artifact ${r.artifactId} no longer exists`);
      const spec: ReleaseSpec = { id: r.id, artifactId: r.artifactId, environment: r.environment, trigger: r.trigger, createdAt: r.createdAt, ...(r.forceReason ? { forceReason: r.forceReason } : {}) };
      const rendered = renderOrExplain(id, () => renderRelease(spec, artifact, env));
      // A bulk release shares one commit with its batch; only its own trailer lines are known here.
      const message = r.bulk
        ? renderBulkCommitMessage({ trigger: r.trigger, releases: [{ releaseId: r.id, artifactId: r.artifactId, environment: r.environment, nvrs: rendered.nvrs }] })
        : rendered.commitMessage;
      const info = parseReleaseCommitMessage(message);
      return {
        releaseId: r.id,
        kind: rendered.document.kind,
        path: rendered.path,
        content: rendered.content,
        commit: {
          sha: r.commitSha,
          bulk: r.bulk,
          subject: r.bulk ? null : (info?.subject ?? null),
          message: r.bulk ? null : message,
          trailers: info ? releaseTrailers(info) : [],
        },
      };
    },
  );
}
