// /api/v1/releases: thin adapters onto the release use cases (release, retry, describe).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { ARTIFACT_ID_PATTERN } from "../../domain/artifact.js";
import { heldReason } from "../../domain/hold.js";
import { releaseStatuses } from "../../domain/release.js";
import { preflightSchema } from "../../domain/environment.js";
import { describeReleaseDocument, describeReleaseTimeline, timelineStates, type DescribeReleaseDeps } from "../../flow/describeRelease.js";
import { release, type ReleaseDeps } from "../../flow/release.js";
import { retryRelease } from "../../flow/retryRelease.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { conflict, forbidden, invalid, notFound, Problem, problemResponse, problemResponses, ruleBroken, unprocessable } from "../problem.js";
import { environmentName, idParams, packageName, reasonText } from "../request.js";
import { holdView, releaseSchema, releaseView } from "../views.js";

const releaseBody = z
  .strictObject({
    artifactId: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id"),
    environment: environmentName,
    force: z.boolean().optional().meta({ description: "Release even if already released, held or frozen (needs `reason`)" }),
    reason: reasonText.optional().meta({ description: "Recorded in the commit" }),
    preflight: preflightSchema.optional().meta({
      description: "A ComposeRequest environment only: the repoclosure check run before the release is queued, instead of the environment's own (`strictness: off` skips it)",
    }),
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

const releaseParams = idParams("release");

const queuedSchema = z.strictObject({ id: wellFormedString(), status: z.enum(releaseStatuses) });

const timestamp = z.iso.datetime();

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

export function releaseRoutes(app: FastifyInstance, opts: { deps: ReleaseDeps }): Promise<void> {
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
          "Queues the release; the writer commits and pushes it. One release per (artifact, environment) unless forced with a reason. A `releaser` token may release only within its package and environment scopes. A release with a repoclosure preflight (the environment's, or the body's) answers `checking`: it is queued once the check passes, or `blocked` with the reason.",
        tags: ["releases"],
        body: releaseBody,
        response: {
          202: jsonResponse("Queued (or `checking` its preflight first); `Location` names the release", queuedSchema),
          409: problemResponse(409, "Frozen, held (`hold`), or already released (`existingRelease`); force with a reason"),
          422: problemResponse(
            422,
            "No such artifact, or it lacks what the environment's kind of request needs, or it breaks an ingest rule (stored before the rule: `code` names it, `violations` the fields), or a preflight was given for an environment that is not a ComposeRequest (`errors` names the field)",
          ),
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
        case "field-refused":
          throw new Problem(422, "Unprocessable request", outcome.reason, "unprocessable", { code: outcome.code }, [{ path: outcome.path, message: outcome.reason, in: "body" }]);
        case "rule-broken":
          throw ruleBroken(outcome.reason, outcome.violations);
        case "frozen":
          throw conflict("frozen", outcome.reason);
        case "held":
          throw conflict("held", `${heldReason(outcome.hold)}; lift the hold or force with a reason`, { hold: holdView(outcome.hold) });
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
        params: releaseParams,
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
        summary: "Retry a failed release, or check again a release its repoclosure preflight blocked",
        description: "A failed release is queued again with fresh attempts; a release the repoclosure gate blocked goes back to `checking` and dnf runs again (a stored result is not reused).",
        tags: ["releases"],
        params: releaseParams,
        response: {
          202: jsonResponse("Queued again, or checking again", queuedSchema),
          ...problemResponses(404),
          409: problemResponse(409, "The release has not failed and was not blocked by its preflight"),
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
          throw conflict("not-failed", `release ${id} is ${outcome.release.status}; only failed releases, and releases their repoclosure preflight blocked, can be retried`);
      }
    },
  );
  return Promise.resolve();
}

/**
 * A release's timeline and document, for the web dashboard. Registered apart from releaseRoutes,
 * after the dashboard's other summaries: the OpenAPI document lists paths in registration order.
 */
export function releaseDescriptionRoutes(app: FastifyInstance, opts: { deps: DescribeReleaseDeps }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = opts.deps;

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
      const outcome = await describeReleaseTimeline(deps, id);
      if (outcome.status === "not-found") throw notFound(`no release ${id}`);
      const { release: r, entries, decision } = outcome;
      return { releaseId: r.id, status: r.status, entries, decision: decision ? { ...decision, createdAt: decision.createdAt.toISOString() } : null };
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
      const outcome = await describeReleaseDocument(deps, id);
      switch (outcome.status) {
        case "found":
          return { releaseId: outcome.release.id, ...outcome.document };
        case "not-found":
          throw notFound(`no release ${id}`);
        case "environment-undeclared":
          throw unprocessable("environment-undeclared", `environment ${outcome.release.environment} is no longer declared; release ${id}'s document cannot be rendered`);
        case "unknown-artifact":
          throw unprocessable("unknown-artifact", `artifact ${outcome.release.artifactId} no longer exists`);
        case "unrenderable":
          throw unprocessable("document-unrenderable", `release ${id}'s document cannot be rendered: ${outcome.reason}`);
      }
    },
  );
  return Promise.resolve();
}
