// /api/v1/environments: the environments policies/environments.yaml declares, and what each holds now.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { PACKAGE_PATTERN } from "../../domain/artifact.js";
import { environmentsFileSchema } from "../../domain/environment.js";
import { freezeSchema, type Freeze } from "../../domain/freeze.js";
import type { EnvironmentSet } from "../../domain/environmentSet.js";
import type { OverviewRepository } from "../../store/overviewRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { invalid, notFound, problemResponses } from "../problem.js";
import { environmentName } from "../request.js";

const timestamp = z.iso.datetime();

// An environment as policies/environments.yaml declares it, with where its repository is.
const declaredEnvironment = environmentsFileSchema.shape.environments.element;
const repositoryWhere = { branch: wellFormedString().nullable(), url: wellFormedString().nullable() };
const environmentSchema = z
  .discriminatedUnion("kind", [
    declaredEnvironment.options[0].extend(repositoryWhere),
    declaredEnvironment.options[1].extend(repositoryWhere),
    declaredEnvironment.options[2].extend(repositoryWhere),
  ])
  .meta({ id: "Environment", description: "Where requests of one kind go: repository, branch, path and freeze windows" });

/** A freeze window of an environment, and whether it is in force now (the overview lists them too). */
export const freezeWindowSchema = z.strictObject({
  environment: wellFormedString(),
  start: timestamp,
  end: timestamp,
  reason: wellFormedString(),
  exceptions: freezeSchema.shape.exceptions.unwrap(),
  active: z.boolean().meta({ description: "In force now" }),
});

export function freezeView(environment: string, f: Freeze, now: Date) {
  return { environment, start: f.start, end: f.end, reason: f.reason, exceptions: f.exceptions, active: Date.parse(f.start) <= now.getTime() && now.getTime() < Date.parse(f.end) };
}

const environmentParams = z.strictObject({ name: environmentName });
const environmentStateQuery = z.strictObject({
  package: wellFormedString().regex(PACKAGE_PATTERN, "must be the start of a koji package name").optional().meta({ description: "Only packages whose name starts with this" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: wellFormedString().min(1).max(200).optional().meta({ description: "`nextCursor` of the previous page" }),
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

export function environmentRoutes(app: FastifyInstance, opts: { deps: { environments: () => EnvironmentSet } }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = opts.deps;

  api.get(
    "/api/v1/environments",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listEnvironments",
        summary: "List environments",
        tags: ["environments"],
        response: { 200: jsonResponse("The declared environments", z.strictObject({ items: z.array(environmentSchema) })) },
      },
    },
    () => {
      const envs = deps.environments();
      return Promise.resolve({
        items: [...envs.environments.values()].map((e) => {
          const repo = envs.repositories.get(e.repository);
          return { ...e, branch: repo?.branch ?? null, url: repo?.url ?? null };
        }),
      });
    },
  );
  return Promise.resolve();
}

export interface EnvironmentStateOptions {
  overview: OverviewRepository;
  environments: () => EnvironmentSet;
  now?: () => Date;
}

/**
 * What an environment holds now, for the web dashboard. Registered apart from environmentRoutes,
 * after the overview: the OpenAPI document lists paths in registration order.
 */
export function environmentStateRoutes(app: FastifyInstance, opts: EnvironmentStateOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const overview = opts.overview;
  const now = opts.now ?? (() => new Date());

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
      const env = opts.environments().environments.get(name);
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
  return Promise.resolve();
}
