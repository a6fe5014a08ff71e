// /api/v1/artifacts: push, list, show, append results. Thin adapters onto the use cases.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  appendResultsSchema,
  ARTIFACT_ID_PATTERN,
  artifactLimits,
  artifactSchema,
  MAX_NVR_LENGTH_FOR_QUERY,
  PACKAGE_PATTERN,
  RELEASE_PATTERN,
  sourceEvents,
} from "../../domain/artifact.js";
import { appendResults } from "../../flow/appendResults.js";
import type { PolicyEventHandler } from "../../flow/evaluatePolicies.js";
import { pushArtifact } from "../../flow/pushArtifact.js";
import { InvalidCursorError, type ArtifactRepository, type StoredArtifact, type StoredResult } from "../../store/artifactRepository.js";
import type { DecisionRepository } from "../../store/decisionRepository.js";
import { requirePrincipal } from "../plugins/auth.js";
import { conflict, forbidden, invalid, notFound, unprocessable } from "../problem.js";
import { parseRequest } from "../request.js";

const idParams = z.strictObject({
  id: z.string().regex(ARTIFACT_ID_PATTERN, "must be an artifact id"),
});

const listQuery = z.strictObject({
  package: z.string().regex(PACKAGE_PATTERN, "must be a koji package name").optional(),
  release: z.string().regex(RELEASE_PATTERN, "must be a distro release").optional(),
  nvr: z.string().min(1).max(MAX_NVR_LENGTH_FOR_QUERY).optional(),
  sha: z.string().regex(/^[0-9a-f]{7,64}$/, "must be a hex commit id").optional(),
  branch: z.string().min(1).max(255).optional(),
  event: z.enum(sourceEvents).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(64).optional(),
});

function resultView(r: StoredResult) {
  return { ...r, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}

/** What the API shows of a stored artifact: the pushed document plus what the store added. */
export function artifactView(stored: StoredArtifact) {
  return {
    ...stored.artifact,
    digest: stored.digest,
    createdAt: stored.createdAt.toISOString(),
    results: stored.results.map(resultView),
  };
}

export async function artifactRoutes(
  app: FastifyInstance,
  opts: { artifacts: ArtifactRepository; decisions: DecisionRepository; policyEvent: PolicyEventHandler },
): Promise<void> {
  const deps = { artifacts: opts.artifacts, policyEvent: opts.policyEvent };

  app.post("/api/v1/artifacts", { config: { role: "ci" }, bodyLimit: artifactLimits.bodyBytes }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const artifact = parseRequest(artifactSchema, request.body, "body");
    const outcome = await pushArtifact(deps, principal, artifact);
    switch (outcome.status) {
      case "forbidden":
        throw forbidden(outcome.reason);
      case "conflict":
        throw conflict(`artifact ${outcome.id} already exists with a different body; artifacts are immutable, push under a new id`, {
          id: outcome.id,
          existingDigest: outcome.existingDigest,
          digest: outcome.digest,
        });
      case "created":
      case "unchanged":
        return reply
          .code(outcome.status === "created" ? 201 : 200)
          .header("location", `/api/v1/artifacts/${encodeURIComponent(outcome.id)}`)
          .send({ id: outcome.id, status: outcome.status, digest: outcome.digest, createdAt: outcome.createdAt.toISOString() });
    }
  });

  app.get("/api/v1/artifacts", { config: { role: "reader" } }, async (request) => {
    const q = parseRequest(listQuery, request.query, "query");
    if (q.since && q.until && Date.parse(q.since) >= Date.parse(q.until)) {
      throw invalid("query", [{ path: "/until", message: "must be later than since" }]);
    }
    try {
      const page = await opts.artifacts.list({
        ...(q.package ? { package: q.package } : {}),
        ...(q.release ? { release: q.release } : {}),
        ...(q.nvr ? { nvr: q.nvr } : {}),
        ...(q.sha ? { sha: q.sha } : {}),
        ...(q.branch ? { branch: q.branch } : {}),
        ...(q.event ? { event: q.event } : {}),
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(q.until ? { until: new Date(q.until) } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: q.limit,
      });
      return { items: page.items.map(artifactView), nextCursor: page.nextCursor };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw invalid("query", [{ path: "/cursor", message: err.message }]);
      throw err;
    }
  });

  app.get("/api/v1/artifacts/:id", { config: { role: "reader" } }, async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const stored = await opts.artifacts.get(id);
    if (!stored) throw notFound(`no artifact ${id}`);
    return artifactView(stored);
  });

  app.post("/api/v1/artifacts/:id/results", { config: { role: "ci" } }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const { id } = parseRequest(idParams, request.params, "params");
    const body = parseRequest(appendResultsSchema, request.body, "body");
    const outcome = await appendResults(deps, principal, id, body.results);
    switch (outcome.status) {
      case "forbidden":
        throw forbidden(outcome.reason);
      case "not-found":
        throw notFound(`no artifact ${id}`);
      case "too-many":
        throw unprocessable(`artifact ${id} would have more than ${outcome.limit} results`, { limit: outcome.limit });
      case "appended":
        return reply.code(outcome.added > 0 ? 201 : 200).send({
          id,
          added: outcome.added,
          updated: outcome.updated,
          unchanged: outcome.unchanged,
          results: outcome.results.map(resultView),
        });
    }
  });

  app.get("/api/v1/artifacts/:id/decisions", { config: { role: "reader" } }, async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    if ((await opts.artifacts.packageOf(id)) === null) throw notFound(`no artifact ${id}`);
    const decisions = await opts.decisions.forArtifact(id);
    return { items: decisions.map((d) => ({ ...d, createdAt: d.createdAt.toISOString() })) };
  });
}
