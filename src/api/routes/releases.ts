// /api/v1/releases, /rollbacks, /holds, /environments: thin adapters onto the release use cases.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { ARTIFACT_ID_PATTERN, PACKAGE_PATTERN } from "../../domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../../domain/documents/envelope.js";
import { environmentsFileSchema } from "../../domain/environment.js";
import { releaseStatuses } from "../../domain/release.js";
import { addHold, liftHold } from "../../flow/hold.js";
import { release, type ReleaseDeps } from "../../flow/release.js";
import { retryRelease } from "../../flow/retryRelease.js";
import { rollback } from "../../flow/rollback.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import type { HoldRecord, ReleaseRecord } from "../../store/releaseRepository.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { conflict, forbidden, invalid, notFound, problemResponse, problemResponses, ruleBroken, unprocessable } from "../problem.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const environmentName = wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name");
const packageName = wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name");
const reasonText = wellFormedString().trim().min(1).max(500);

const releaseBody = z
  .strictObject({
    artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id"),
    environment: environmentName,
    force: z.boolean().optional().meta({ description: "Release even if already released, held or frozen (needs `reason`)" }),
    reason: reasonText.optional().meta({ description: "Recorded in the commit" }),
  })
  .refine((b) => !b.force || b.reason !== undefined, { message: "a forced release needs a reason (it is recorded in the commit)", path: ["reason"] });

const releaseQuery = z.strictObject({
  environment: environmentName.optional(),
  package: packageName.optional(),
  status: z.enum(releaseStatuses).optional(),
  artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: wellFormedString().min(1).max(64).optional().meta({ description: "`nextCursor` of the previous page" }),
});

const idParams = z.strictObject({ id: wellFormedString().regex(ULID, "must be a release id") });
const holdParams = z.strictObject({ id: wellFormedString().regex(ULID, "must be a hold id") });

const rollbackBody = z.strictObject({
  environment: environmentName,
  package: packageName,
  artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id").optional().meta({ description: "The artifact to go back to; the one released before the current one if absent" }),
  reason: reasonText.optional(),
});

const holdBody = z.strictObject({ environment: environmentName, package: packageName, reason: reasonText });
const holdQuery = z.strictObject({ environment: environmentName.optional(), package: packageName.optional() });

const timestamp = z.iso.datetime();

const releaseSchema = z
  .strictObject({
    id: wellFormedString(),
    artifactId: wellFormedString(),
    environment: wellFormedString(),
    repository: wellFormedString(),
    branch: wellFormedString(),
    package: wellFormedString(),
    trigger: wellFormedString().meta({ description: "policy/<name>, user:<subject>, rollback or mirror" }),
    createdBy: wellFormedString(),
    force: z.boolean(),
    forceReason: wellFormedString().nullable(),
    bulk: z.boolean(),
    status: z.enum(releaseStatuses),
    reason: wellFormedString().nullable().meta({ description: "Why it was blocked or superseded" }),
    supersededBy: wellFormedString().nullable(),
    error: wellFormedString().nullable().meta({ description: "The last write or push error" }),
    attempts: z.number().int(),
    nextAttemptAt: timestamp.nullable(),
    commitSha: wellFormedString().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    pushedAt: timestamp.nullable(),
  })
  .meta({ id: "Release", description: "A request to put one artifact into one environment" });

const holdSchema = z
  .strictObject({
    id: wellFormedString(),
    environment: wellFormedString(),
    package: wellFormedString(),
    reason: wellFormedString(),
    createdBy: wellFormedString(),
    createdAt: timestamp,
    releaseId: wellFormedString().nullable().meta({ description: "The rollback that placed it" }),
  })
  .meta({ id: "Hold", description: "Stops policies from releasing a package to an environment until lifted" });

const queuedSchema = z.strictObject({ id: wellFormedString(), status: z.enum(releaseStatuses) });

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

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function releaseView(r: ReleaseRecord) {
  const { seq: _seq, ...rest } = r;
  return { ...rest, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), pushedAt: iso(r.pushedAt), nextAttemptAt: iso(r.nextAttemptAt) };
}

export function holdView(h: HoldRecord) {
  return { ...h, createdAt: h.createdAt.toISOString() };
}

export async function releaseRoutes(app: FastifyInstance, opts: { deps: ReleaseDeps }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = opts.deps;

  api.post(
    "/api/v1/releases",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "createRelease",
        summary: "Release an artifact to an environment",
        description:
          "Queues the release; the writer commits and pushes it. One release per (artifact, environment) unless forced with a reason. A `releaser` token may release only within its package and environment scopes.",
        tags: ["releases"],
        body: releaseBody,
        response: {
          202: jsonResponse("Queued; `Location` names the release", queuedSchema),
          409: problemResponse(409, "Frozen, held (`hold`), or already released (`existingRelease`); force with a reason"),
          422: problemResponse(422, "No such artifact, or it lacks what the environment's kind of request needs, or it breaks an ingest rule (stored before the rule: `code` names it, `violations` the fields)"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const body = request.body;
      const outcome = await release(deps, principal, body);
      switch (outcome.status) {
        case "queued":
          return reply.code(202).header("location", `/api/v1/releases/${outcome.release.id}`).send({ id: outcome.release.id, status: outcome.release.status });
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unknown-environment":
          throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment} (GET /api/v1/environments lists them)` }]);
        case "unknown-artifact":
          throw unprocessable("unknown-artifact", `no artifact ${outcome.artifactId}`);
        case "unprocessable":
          throw unprocessable(outcome.code, outcome.reason);
        case "rule-broken":
          throw ruleBroken(outcome.reason, outcome.violations);
        case "frozen":
          throw conflict("frozen", outcome.reason);
        case "held":
          throw conflict("held", `${outcome.hold.environment}/${outcome.hold.package} is held: ${outcome.hold.reason}; lift the hold or force with a reason`, { hold: holdView(outcome.hold) });
        case "duplicate":
          throw conflict("already-released", `artifact ${outcome.existing.artifactId} was already released to ${outcome.existing.environment} (release ${outcome.existing.id}, ${outcome.existing.status}); force to release it again`, {
            existingRelease: outcome.existing.id,
          });
      }
    },
  );

  api.get(
    "/api/v1/releases",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listReleases",
        summary: "List releases",
        description: "Newest first; pages follow `nextCursor`.",
        tags: ["releases"],
        querystring: releaseQuery,
        response: {
          200: jsonResponse("A page of releases, newest first", z.strictObject({ items: z.array(releaseSchema), nextCursor: wellFormedString().nullable() })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const q = request.query;
      try {
        const page = await deps.releases.list({
          ...(q.environment ? { environment: q.environment } : {}),
          ...(q.package ? { package: q.package } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.artifactId ? { artifactId: q.artifactId } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
          limit: q.limit,
        });
        return { items: page.items.map(releaseView), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw invalid("query", [{ path: "/cursor", message: err.message }]);
        throw err;
      }
    },
  );

  api.get(
    "/api/v1/releases/:id",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getRelease",
        summary: "Show a release",
        tags: ["releases"],
        params: idParams,
        response: { 200: jsonResponse("The release", releaseSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const r = await deps.releases.get(id);
      if (!r) throw notFound(`no release ${id}`);
      return releaseView(r);
    },
  );

  api.post(
    "/api/v1/releases/:id/retry",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "retryRelease",
        summary: "Retry a failed release",
        tags: ["releases"],
        params: idParams,
        response: {
          202: jsonResponse("Queued again", queuedSchema),
          ...problemResponses(404),
          409: problemResponse(409, "The release has not failed"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { id } = request.params;
      const outcome = await retryRelease(deps, principal, id);
      switch (outcome.status) {
        case "queued":
          return reply.code(202).send({ id, status: outcome.release.status });
        case "not-found":
          throw notFound(`no release ${id}`);
        case "forbidden":
          throw forbidden(outcome.reason);
        case "not-failed":
          throw conflict("not-failed", `release ${id} is ${outcome.release.status}; only failed releases can be retried`);
      }
    },
  );

  api.post(
    "/api/v1/rollbacks",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "rollback",
        summary: "Roll a package back in an environment",
        description: "Releases an earlier artifact of the package and holds the package there, so that policies do not undo the rollback.",
        tags: ["releases"],
        body: rollbackBody,
        response: {
          202: jsonResponse("The rollback release is queued and the hold placed", z.strictObject({ release: releaseSchema, hold: holdSchema })),
          422: problemResponse(422, "Nothing to roll back to"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const outcome = await rollback(deps, principal, request.body);
      switch (outcome.status) {
        case "queued":
          return reply.code(202).send({ release: releaseView(outcome.release), hold: holdView(outcome.hold) });
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unknown-environment":
          throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
        case "unprocessable":
          throw unprocessable(outcome.code, outcome.reason);
      }
    },
  );

  api.get(
    "/api/v1/holds",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listHolds",
        summary: "List holds",
        tags: ["holds"],
        querystring: holdQuery,
        response: { 200: jsonResponse("The holds", z.strictObject({ items: z.array(holdSchema) })), 503: problemResponse(503) },
      },
    },
    async (request) => ({ items: (await deps.releases.holds(request.query)).map(holdView) }),
  );

  api.post(
    "/api/v1/holds",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "addHold",
        summary: "Hold a package in an environment",
        tags: ["holds"],
        body: holdBody,
        response: {
          201: jsonResponse("Held", holdSchema),
          409: problemResponse(409, "Already held (`hold`)"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const body = request.body;
      const outcome = await addHold(deps, principal, body);
      switch (outcome.status) {
        case "added":
          return reply.code(201).send(holdView(outcome.hold));
        case "exists":
          throw conflict("already-held", `${body.environment}/${body.package} is already held: ${outcome.hold.reason}`, { hold: holdView(outcome.hold) });
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unknown-environment":
          throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
      }
    },
  );

  api.delete(
    "/api/v1/holds/:id",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "liftHold",
        summary: "Lift a hold",
        tags: ["holds"],
        params: holdParams,
        response: { 200: jsonResponse("The hold that was lifted", holdSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { id } = request.params;
      const outcome = await liftHold(deps, principal, id);
      switch (outcome.status) {
        case "removed":
          return holdView(outcome.hold);
        case "not-found":
          throw notFound(`no hold ${id}`);
        case "forbidden":
          throw forbidden(outcome.reason);
      }
    },
  );

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
    async () => {
      const envs = deps.environments();
      return {
        items: [...envs.environments.values()].map((e) => {
          const repo = envs.repositories.get(e.repository);
          return { ...e, branch: repo?.branch ?? null, url: repo?.url ?? null };
        }),
      };
    },
  );
}
