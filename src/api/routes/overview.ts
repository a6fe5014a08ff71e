// /api/v1/overview: the web dashboard's summary of queues, the last day's outcomes, freezes and the bus.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { releaseStatuses, type ReleaseStatus } from "../../domain/release.js";
import type { EnvironmentSet } from "../../domain/environmentSet.js";
import type { OverviewRepository } from "../../store/overviewRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { problemResponse } from "../problem.js";
import { noQuery } from "../request.js";
import { freezeView, freezeWindowSchema } from "./environments.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Freezes starting within this many days are shown as upcoming. */
const UPCOMING_FREEZE_DAYS = 14;
// The overview's "Latest releases": enough to see what just happened, cheap to read every 5 s.
const LATEST_RELEASES = 10;
// The counter src/api/plugins/metrics.ts registers; read back here for the bus's tally since start.
const BUS_MESSAGES_METRIC = "relengd_bus_messages_total";

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);

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

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export interface OverviewOptions {
  overview: OverviewRepository;
  environments: () => EnvironmentSet;
  now?: () => Date;
}

export function overviewRoutes(app: FastifyInstance, opts: OverviewOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const overview = opts.overview;
  const now = opts.now ?? (() => new Date());

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
      const envs = opts.environments();
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
  return Promise.resolve();
}
