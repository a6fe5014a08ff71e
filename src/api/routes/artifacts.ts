// /api/v1/artifacts: push, list, show, append results. Thin adapters onto the use cases.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import {
  appendResultsSchema,
  ARTIFACT_ID_PATTERN,
  artifactLimits,
  artifactSchema,
  ciResultItemSchema,
  MAX_NVR_LENGTH_FOR_QUERY,
  PACKAGE_PATTERN,
  RELEASE_PATTERN,
  sourceEvents,
  TESTCASE_PATTERN,
  kojiBuilds,
} from "../../domain/artifact.js";
import type { ArtifactRuleOptions } from "../../domain/artifactRules.js";
import { standingWaivers } from "../../domain/gating.js";
import { waive } from "../../flow/waive.js";
import { waiverSources, type WaiverRecord, type WaiverRepository } from "../../store/waiverRepository.js";
import { appendResults } from "../../flow/appendResults.js";
import type { PolicyEventHandler } from "../../flow/evaluatePolicies.js";
import { pushArtifact, type PushQueue } from "../../flow/pushArtifact.js";
import { InvalidCursorError, type ArtifactRepository, type StoredArtifact, type StoredResult } from "../../store/artifactRepository.js";
import type { DecisionRepository } from "../../store/decisionRepository.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { conflict, forbidden, invalid, notFound, problemResponse, problemResponses, ruleBroken, unprocessable } from "../problem.js";

const idParams = z.strictObject({
  id: wellFormedString().regex(ARTIFACT_ID_PATTERN, "must be an artifact id"),
});

const listQuery = z
  .strictObject({
    package: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name").optional(),
    release: wellFormedString().regex(RELEASE_PATTERN, "must be a distro release").optional(),
    nvr: wellFormedString().min(1).max(MAX_NVR_LENGTH_FOR_QUERY).optional(),
    sha: wellFormedString().regex(/^[0-9a-f]{7,64}$/, "must be a hex commit id").optional().meta({ description: "Source commit id, as pushed" }),
    branch: wellFormedString().min(1).max(255).optional(),
    event: z.enum(sourceEvents).optional(),
    since: z.iso.datetime({ offset: true }).optional().meta({ description: "Pushed at or after" }),
    until: z.iso.datetime({ offset: true }).optional().meta({ description: "Pushed before" }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: wellFormedString().min(1).max(64).optional().meta({ description: "`nextCursor` of the previous page" }),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), { message: "must be later than since", path: ["until"] });

const timestamp = z.iso.datetime();

const storedResultSchema = ciResultItemSchema
  .extend({ createdAt: timestamp, updatedAt: timestamp.meta({ description: "When its current outcome arrived: orders it among the results of its testcase and scenario when it has no submittedAt" }) })
  .meta({ id: "StoredResult", description: "A CI result as the store keeps it: the latest outcome per (testcase, refUrl)" });

const waiveSchema = z.strictObject({
  testcase: wellFormedString().regex(TESTCASE_PATTERN, "must be a testcase name like fedora-ci.koji-build.tier0.functional"),
  scenario: wellFormedString().min(1).max(255).optional().meta({ description: "Waive only this scenario's result; absent: every scenario of the testcase" }),
  comment: wellFormedString().min(1).max(4096).meta({ description: "Why; decisions quote it (\"waived by you: comment\")" }),
  waived: z.boolean().default(true).meta({ description: "false revokes an earlier waiver of the same testcase and scenario" }),
});

const waiverSchema = z
  .strictObject({
    id: wellFormedString(),
    artifactId: wellFormedString().nullable().meta({ description: "The artifact it was made on (through this API)" }),
    nvr: wellFormedString().nullable().meta({ description: "The build WaiverDB waived (every artifact carrying it)" }),
    testcase: wellFormedString(),
    scenario: wellFormedString().optional(),
    waived: z.boolean().meta({ description: "false: it revokes an earlier waiver" }),
    comment: wellFormedString(),
    username: wellFormedString().meta({ description: "Who waived" }),
    source: z.enum(waiverSources),
    messageId: wellFormedString().nullable().meta({ description: "The waiverdb.waiver.new message it came from" }),
    environments: z.array(wellFormedString()).optional().meta({ description: "It acts only on releases to these environments (globs): the environment scope of the token that made it. Absent: every environment" }),
    waivedAt: timestamp.meta({ description: "When it was made (a message's sent-at), else when it arrived; the latest per testcase and scenario stands" }),
    createdAt: timestamp,
    inForce: z.boolean().meta({ description: "It is the latest of its testcase and scenario and waives (not revoked)" }),
  })
  .meta({ id: "Waiver", description: "A waiver of a failed or missing result of the artifact" });

const artifactViewSchema = artifactSchema
  .extend({
    digest: wellFormedString().meta({ description: "SHA-256 of the canonical artifact" }),
    createdAt: timestamp,
    results: z.array(storedResultSchema).meta({ description: "Results appended after the push" }),
  })
  .meta({ id: "StoredArtifact", description: "An artifact as pushed, plus what the store added" });

const pushedSchema = z.strictObject({
  id: wellFormedString(),
  status: z.enum(["created", "unchanged"]),
  digest: wellFormedString(),
  createdAt: timestamp,
});

const appendedSchema = z.strictObject({
  id: wellFormedString(),
  added: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  stale: z.number().int().meta({ description: "Older by their submittedAt than the outcome already recorded for their (testcase, refUrl): not applied" }),
  results: z.array(storedResultSchema),
});

const decisionSchema = z
  .strictObject({
    id: z.number().int(),
    artifactId: wellFormedString(),
    policy: wellFormedString(),
    event: wellFormedString().meta({ description: "What the evaluation ran on: artifact, results, schedule or waiver" }),
    fired: z.boolean(),
    waiting: z.boolean().meta({ description: "Skipped for now; a later event may fire it" }),
    releaseId: wellFormedString().nullable(),
    reason: wellFormedString().nullable().meta({ description: "Why it was skipped; for a fired decision, the requirements met only by waivers (\"waived by X: comment\"), else null" }),
    createdAt: timestamp,
  })
  .meta({ id: "Decision", description: "One policy evaluation of an artifact: fired, or skipped with the reason" });

const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: wellFormedString().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last" }) });

function resultView(r: StoredResult) {
  return { ...r, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}

/** Waivers with whether each stands (the latest of its testcase and scenario, not a revocation). */
export function waiverViews(records: readonly WaiverRecord[]) {
  const standing = new Set<WaiverRecord>(standingWaivers(records) as WaiverRecord[]);
  return records.map((w) => {
    const { environments, waivedAt, createdAt, ...rest } = w;
    return {
      ...rest,
      ...(environments !== undefined ? { environments: [...environments] } : {}),
      waivedAt: waivedAt.toISOString(),
      createdAt: createdAt.toISOString(),
      inForce: standing.has(w),
    };
  });
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

export function artifactRoutes(
  app: FastifyInstance,
  opts: { artifacts: ArtifactRepository; pushes: PushQueue; decisions: DecisionRepository; policyEvent: PolicyEventHandler; rules: ArtifactRuleOptions; waivers: WaiverRepository },
): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = { artifacts: opts.artifacts, pushes: opts.pushes, policyEvent: opts.policyEvent, rules: opts.rules };
  const tags = ["artifacts"];

  api.post(
    "/api/v1/artifacts",
    {
      config: { role: "ci" },
      bodyLimit: artifactLimits.bodyBytes,
      schema: {
        operationId: "pushArtifact",
        summary: "Push an artifact",
        description:
          "Stores an artifact and runs the policies on it. Re-pushing the same body under the same id is a no-op (200); a different body under an existing id is refused (409). A `ci` token may push only the packages in its scope, and only builds (`/items/N/nvr`) of packages in its scope (403). The ingest rules (422, `code`): an artifact of one koji-build is that build's package (`build-of-other-package`); several koji-builds come from one side tag (`side-tag-required`); each build's dist tag fits the release, fcN for fN, fcN with N at or above the Rawhide version for rawhide, elN for epelN (`dist-tag-mismatch`).",
        tags,
        body: artifactSchema,
        response: {
          200: jsonResponse("The same artifact was already stored", pushedSchema),
          201: jsonResponse("Stored; `Location` names it", pushedSchema),
          403: problemResponse(403, "The token's role or package scope does not allow this package, or a build (`errors` names each `/items/N/nvr`)"),
          409: problemResponse(409, "An artifact with this id exists with a different body (`existingDigest`, `digest`)"),
          422: problemResponse(422, "The artifact breaks an ingest rule: `code` is build-of-other-package, side-tag-required or dist-tag-mismatch; `errors` names the fields"),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const outcome = await pushArtifact(deps, principal, request.body);
      switch (outcome.status) {
        case "forbidden":
          throw forbidden(outcome.reason, outcome.issues?.map((i) => ({ ...i, in: "body" as const })));
        case "rule-broken":
          throw ruleBroken(outcome.reason, outcome.violations, "body");
        case "conflict":
          throw conflict("artifact-immutable", `artifact ${outcome.id} already exists with a different body; artifacts are immutable, push under a new id`, {
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
    },
  );

  api.get(
    "/api/v1/artifacts",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listArtifacts",
        summary: "List artifacts",
        description: "Newest first, filtered by any of the query fields; pages follow `nextCursor`.",
        tags,
        querystring: listQuery,
        response: { 200: jsonResponse("A page of artifacts", pageOf(artifactViewSchema)), 503: problemResponse(503) },
      },
    },
    async (request) => {
      const q = request.query;
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
    },
  );

  api.get(
    "/api/v1/artifacts/:id",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getArtifact",
        summary: "Show an artifact",
        tags,
        params: idParams,
        response: { 200: jsonResponse("The artifact with its appended results", artifactViewSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const stored = await opts.artifacts.get(id);
      if (!stored) throw notFound(`no artifact ${id}`);
      return artifactView(stored);
    },
  );

  api.post(
    "/api/v1/artifacts/:id/results",
    {
      config: { role: "ci" },
      schema: {
        operationId: "appendResults",
        summary: "Append CI results",
        description:
          "Adds results to an artifact (CI that finishes after the build) and runs the policies again. A result with the same (testcase, refUrl) as an earlier one replaces its outcome.",
        tags,
        params: idParams,
        body: appendResultsSchema,
        response: {
          200: jsonResponse("Nothing new: every result was an update or already there", appendedSchema),
          201: jsonResponse("At least one result added", appendedSchema),
          ...problemResponses(404),
          422: problemResponse(422, `The artifact would have more than ${artifactLimits.resultsPerArtifact} results (\`limit\`)`),
          503: problemResponse(503),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { id } = request.params;
      const outcome = await appendResults(deps, principal, id, request.body.results);
      switch (outcome.status) {
        case "forbidden":
          throw forbidden(outcome.reason);
        case "not-found":
          throw notFound(`no artifact ${id}`);
        case "too-many":
          throw unprocessable("too-many-results", `artifact ${id} would have more than ${outcome.limit} results`, { limit: outcome.limit });
        case "appended":
          return reply.code(outcome.added > 0 ? 201 : 200).send({
            id,
            added: outcome.added,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
            stale: outcome.stale,
            results: outcome.results.map(resultView),
          });
      }
    },
  );

  api.get(
    "/api/v1/artifacts/:id/decisions",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listArtifactDecisions",
        summary: "Explain the policy decisions about an artifact",
        description: "Every policy evaluation of the artifact, oldest first: fired, or skipped with the reason.",
        tags,
        params: idParams,
        response: { 200: jsonResponse("The decisions, oldest first", z.strictObject({ items: z.array(decisionSchema) })), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if ((await opts.artifacts.packageOf(id)) === null) throw notFound(`no artifact ${id}`);
      const decisions = await opts.decisions.forArtifact(id);
      return { items: decisions.map((d) => ({ ...d, createdAt: d.createdAt.toISOString() })) };
    },
  );

  api.post(
    "/api/v1/artifacts/:id/waivers",
    {
      config: { role: "releaser" },
      schema: {
        operationId: "waiveResult",
        summary: "Waive a failed or missing result",
        description:
          "Waives the artifact's result of a testcase (one scenario, or all): a policy requiring it then counts it as met, and its decision says \"waived by <you>: <comment>\". `waived: false` revokes the waiver. The policies run again. Takes the releaser role and the artifact's package in the token's scope; a token scoped to environments makes a waiver that acts only on releases to them.",
        tags,
        params: idParams,
        body: waiveSchema,
        response: { 201: jsonResponse("Recorded; the policies ran again", waiverSchema), ...problemResponses(404, 503) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { id } = request.params;
      const outcome = await waive({ ...deps, waivers: opts.waivers }, principal, id, request.body);
      switch (outcome.status) {
        case "forbidden":
          throw forbidden(outcome.reason);
        case "not-found":
          throw notFound(`no artifact ${id}`);
        case "created": {
          const stored = await opts.artifacts.get(id);
          const all = await opts.waivers.forArtifact(id, stored ? kojiBuilds(stored.artifact).map((b) => b.nvr) : []);
          // Whether it stands depends on the others (one from WaiverDB may carry a later time).
          const views = waiverViews(all.some((w) => w.id === outcome.waiver.id) ? all : [...all, outcome.waiver]);
          const view = views.find((w) => w.id === outcome.waiver.id);
          if (!view) throw new Error(`waiver ${outcome.waiver.id} vanished`);
          return reply.code(201).header("location", `/api/v1/artifacts/${encodeURIComponent(id)}/waivers`).send(view);
        }
      }
    },
  );

  api.get(
    "/api/v1/artifacts/:id/waivers",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listArtifactWaivers",
        summary: "List the waivers of an artifact",
        description: "Waivers made on the artifact and WaiverDB's waivers of its builds, oldest first, revocations included; `inForce` says which stand.",
        tags,
        params: idParams,
        response: { 200: jsonResponse("The waivers, oldest first", z.strictObject({ items: z.array(waiverSchema) })), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const stored = await opts.artifacts.get(id);
      if (!stored) throw notFound(`no artifact ${id}`);
      const all = await opts.waivers.forArtifact(id, kojiBuilds(stored.artifact).map((b) => b.nvr));
      return { items: waiverViews(all) };
    },
  );
  return Promise.resolve();
}
