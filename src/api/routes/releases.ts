// /api/v1/releases, /rollbacks, /holds, /environments: thin adapters onto the release use cases.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ARTIFACT_ID_PATTERN, PACKAGE_PATTERN } from "../../domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../../domain/documents/envelope.js";
import { releaseStatuses } from "../../domain/release.js";
import { addHold, liftHold } from "../../flow/hold.js";
import { release, type ReleaseDeps } from "../../flow/release.js";
import { retryRelease } from "../../flow/retryRelease.js";
import { rollback } from "../../flow/rollback.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import type { HoldRecord, ReleaseRecord } from "../../store/releaseRepository.js";
import { requirePrincipal } from "../plugins/auth.js";
import { conflict, forbidden, invalid, notFound, unprocessable } from "../problem.js";
import { parseRequest } from "../request.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const environmentName = z.string().regex(ENVIRONMENT_NAME_PATTERN, "must be an environment name");
const packageName = z.string().regex(PACKAGE_PATTERN, "must be a koji package name");
const reasonText = z.string().trim().min(1).max(500);

const releaseBody = z
  .strictObject({
    artifactId: z.string().regex(ARTIFACT_ID_PATTERN, "must be an artifact id"),
    environment: environmentName,
    force: z.boolean().optional(),
    reason: reasonText.optional(),
  })
  .refine((b) => !b.force || b.reason !== undefined, { message: "a forced release needs a reason (it is recorded in the commit)", path: ["reason"] });

const releaseQuery = z.strictObject({
  environment: environmentName.optional(),
  package: packageName.optional(),
  status: z.enum(releaseStatuses).optional(),
  artifactId: z.string().regex(ARTIFACT_ID_PATTERN).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(64).optional(),
});

const idParams = z.strictObject({ id: z.string().regex(ULID, "must be a release id") });
const holdParams = z.strictObject({ id: z.string().regex(ULID, "must be a hold id") });

const rollbackBody = z.strictObject({
  environment: environmentName,
  package: packageName,
  artifactId: z.string().regex(ARTIFACT_ID_PATTERN, "must be an artifact id").optional(),
  reason: reasonText.optional(),
});

const holdBody = z.strictObject({ environment: environmentName, package: packageName, reason: reasonText });
const holdQuery = z.strictObject({ environment: environmentName.optional(), package: packageName.optional() });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function releaseView(r: ReleaseRecord) {
  const { seq: _seq, ...rest } = r;
  return { ...rest, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), pushedAt: iso(r.pushedAt), nextAttemptAt: iso(r.nextAttemptAt) };
}

export function holdView(h: HoldRecord) {
  return { ...h, createdAt: h.createdAt.toISOString() };
}

export async function releaseRoutes(app: FastifyInstance, opts: { deps: ReleaseDeps }): Promise<void> {
  const deps = opts.deps;

  app.post("/api/v1/releases", { config: { role: "releaser" } }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const body = parseRequest(releaseBody, request.body, "body");
    const outcome = await release(deps, principal, body);
    switch (outcome.status) {
      case "queued":
        return reply.code(202).header("location", `/api/v1/releases/${outcome.release.id}`).send({ id: outcome.release.id, status: outcome.release.status });
      case "forbidden":
        throw forbidden(outcome.reason);
      case "unknown-environment":
        throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment} (GET /api/v1/environments lists them)` }]);
      case "unknown-artifact":
        throw unprocessable(`no artifact ${outcome.artifactId}`);
      case "unprocessable":
        throw unprocessable(outcome.reason);
      case "frozen":
        throw conflict(outcome.reason);
      case "held":
        throw conflict(`${outcome.hold.environment}/${outcome.hold.package} is held: ${outcome.hold.reason}; lift the hold or force with a reason`, { hold: holdView(outcome.hold) });
      case "duplicate":
        throw conflict(`artifact ${outcome.existing.artifactId} was already released to ${outcome.existing.environment} (release ${outcome.existing.id}, ${outcome.existing.status}); force to release it again`, {
          existingRelease: outcome.existing.id,
        });
    }
  });

  app.get("/api/v1/releases", { config: { role: "reader" } }, async (request) => {
    const q = parseRequest(releaseQuery, request.query, "query");
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
  });

  app.get("/api/v1/releases/:id", { config: { role: "reader" } }, async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const r = await deps.releases.get(id);
    if (!r) throw notFound(`no release ${id}`);
    return releaseView(r);
  });

  app.post("/api/v1/releases/:id/retry", { config: { role: "releaser" } }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const { id } = parseRequest(idParams, request.params, "params");
    const outcome = await retryRelease(deps, principal, id);
    switch (outcome.status) {
      case "queued":
        return reply.code(202).send({ id, status: outcome.release.status });
      case "not-found":
        throw notFound(`no release ${id}`);
      case "forbidden":
        throw forbidden(outcome.reason);
      case "not-failed":
        throw conflict(`release ${id} is ${outcome.release.status}; only failed releases can be retried`);
    }
  });

  app.post("/api/v1/rollbacks", { config: { role: "releaser" } }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const body = parseRequest(rollbackBody, request.body, "body");
    const outcome = await rollback(deps, principal, body);
    switch (outcome.status) {
      case "queued":
        return reply.code(202).send({ release: releaseView(outcome.release), hold: holdView(outcome.hold) });
      case "forbidden":
        throw forbidden(outcome.reason);
      case "unknown-environment":
        throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
      case "unprocessable":
        throw unprocessable(outcome.reason);
    }
  });

  app.get("/api/v1/holds", { config: { role: "reader" } }, async (request) => {
    const q = parseRequest(holdQuery, request.query, "query");
    return { items: (await deps.releases.holds(q)).map(holdView) };
  });

  app.post("/api/v1/holds", { config: { role: "releaser" } }, async (request, reply) => {
    const principal = requirePrincipal(request);
    const body = parseRequest(holdBody, request.body, "body");
    const outcome = await addHold(deps, principal, body);
    switch (outcome.status) {
      case "added":
        return reply.code(201).send(holdView(outcome.hold));
      case "exists":
        throw conflict(`${body.environment}/${body.package} is already held: ${outcome.hold.reason}`, { hold: holdView(outcome.hold) });
      case "forbidden":
        throw forbidden(outcome.reason);
      case "unknown-environment":
        throw invalid("body", [{ path: "/environment", message: `no environment ${outcome.environment}` }]);
    }
  });

  app.delete("/api/v1/holds/:id", { config: { role: "releaser" } }, async (request) => {
    const principal = requirePrincipal(request);
    const { id } = parseRequest(holdParams, request.params, "params");
    const outcome = await liftHold(deps, principal, id);
    switch (outcome.status) {
      case "removed":
        return holdView(outcome.hold);
      case "not-found":
        throw notFound(`no hold ${id}`);
      case "forbidden":
        throw forbidden(outcome.reason);
    }
  });

  app.get("/api/v1/environments", { config: { role: "reader" } }, async () => {
    const envs = deps.environments();
    return {
      items: [...envs.environments.values()].map((e) => {
        const repo = envs.repositories.get(e.repository);
        return { ...e, branch: repo?.branch ?? null, url: repo?.url ?? null };
      }),
    };
  });
}
