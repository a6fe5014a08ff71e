// /api/v1/requests: requests by merge request (list, show, decisions) and thin adapters onto the submit and decide use cases.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { isSafeRepoPath } from "../../domain/paths.js";
import { wellFormedString } from "../../domain/text.js";
import type { RequestProblem, RequestService } from "../../flow/requestDeps.js";
import { InvalidCursorError } from "../../store/artifactRepository.js";
import { requestStatuses } from "../../store/requestRepository.js";
import { charsetProblem } from "../jsonBody.js";
import { requirePrincipal } from "../plugins/auth.js";
import { jsonResponse } from "../plugins/openapi.js";
import { conflict, forbidden, invalid, notFound, Problem, problemResponse, problemResponses } from "../problem.js";
import { idParams, reasonText } from "../request.js";
import { requestDecisionSchema, requestDecisionView, requestSchema, requestSummarySchema, requestSummaryView, requestView, unreviewedReportSchema, unreviewedReportView } from "../views.js";

/**
 * The largest proposed document accepted, in characters: a side tag of 500 packages is about
 * 15,000. Below the app's body limit (256 KiB), so that a long document is a 400 naming /document.
 */
export const MAX_REQUEST_DOCUMENT_CHARS = 131_072;

/** `path:line: /field message`, the way `relengd lint` prints a problem. */
export const requestProblemText = (p: RequestProblem) => `${p.path}:${p.line}: ${p.field ? `${p.field} ` : ""}${p.message}`;

// Kinds are H1's closed list; any word is accepted here so that a kind added later needs no API change.
const kindName = wellFormedString().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, "must be a request kind such as BranchRequest");

const requestQuery = z.strictObject({
  kind: kindName.optional().meta({ description: "Requests with a document of this kind (BranchRequest, RepoRequest, SideTag, MassBranch, MassRebuild, SigRequest, EventRequest, CalendarEntry)" }),
  status: z.enum(requestStatuses).optional(),
  author: wellFormedString().min(1).max(255).optional().meta({ description: "The request's author (a token subject or a FAS user)" }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: wellFormedString().min(1).max(64).optional().meta({ description: "`nextCursor` of the previous page" }),
});

const requestParams = idParams("request");

const submitBody = z.strictObject({
  document: wellFormedString()
    .min(1)
    .max(MAX_REQUEST_DOCUMENT_CHARS)
    .meta({ description: "The YAML of one proposed document (apiVersion relengd/v1; kind BranchRequest, RepoRequest, SideTag, MassBranch, MassRebuild, SigRequest, EventRequest or CalendarEntry; spec)" }),
  path: wellFormedString()
    .max(512)
    .refine(isSafeRepoPath, "must be a path inside the GitOps repository like calendar/council/2026-12-09-fesco.yaml (letters, digits and ._+- segments, no ..)")
    .optional()
    .meta({
      description:
        "Where the document goes, when its spec does not say it all: a CalendarEntry's calendar/<calendar>/<meeting_date>-<slug>.yaml (required), a SideTag's koji/sidetags/<owner>/<label>.yaml (default: under the token's subject). Any other kind's path must be the one its spec names.",
    }),
});

const decideBody = z.strictObject({ reason: reasonText.meta({ description: "Why; recorded with the decision and shown with the request" }) });

/** The 422 of a document that does not lint: every problem in `problems`, the first in `detail`. */
export function requestInvalid(problems: readonly RequestProblem[]): Problem {
  const items = problems.map((p) => ({ path: p.path, line: p.line, ...(p.field === undefined ? {} : { field: p.field }), message: p.message, text: requestProblemText(p) }));
  const first = items[0];
  const detail = first ? `the document does not lint: ${first.text}${items.length > 1 ? ` (and ${items.length - 1} more)` : ""}` : "the document does not lint";
  return new Problem(
    422,
    "Unprocessable request",
    detail,
    "unprocessable",
    { code: "request-invalid", problems: items },
    items.map((i) => ({ path: "/document", message: i.text, in: "body" as const })),
  );
}

const GITOPS_RETRY_AFTER_SECONDS = 5;

/** Content types whose body is the YAML itself rather than `{document}` JSON. */
const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml"];

export function requestRoutes(app: FastifyInstance, opts: { requests: RequestService }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const service = opts.requests;
  const repository = service.requests;

  // `curl --data-binary @file.yaml -H 'content-type: application/yaml'` works as well as the JSON
  // body: the text becomes `{document}`. Registered in this plugin only, so no other route takes YAML.
  app.addContentTypeParser(YAML_TYPES, { parseAs: "buffer" }, (request: FastifyRequest, body: Buffer, done) => {
    const refused = charsetProblem(request, "YAML");
    if (refused) return done(refused, undefined);
    try {
      done(null, { document: new TextDecoder("utf-8", { fatal: true }).decode(body) });
    } catch {
      done(new Problem(400, "Invalid request body", "body is not valid UTF-8; YAML must be sent as UTF-8", "invalid-utf8", {}, [{ path: "/", message: "is not valid UTF-8", in: "body" }]), undefined);
    }
  });

  api.get(
    "/api/v1/requests",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listRequests",
        summary: "List requests",
        description: "Newest first; pages follow `nextCursor`. Each revision of a request branch is a request (an older one is `superseded`).",
        tags: ["requests"],
        querystring: requestQuery,
        response: {
          200: jsonResponse("A page of requests, newest first", z.strictObject({ items: z.array(requestSummarySchema), nextCursor: wellFormedString().nullable() })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const q = request.query;
      try {
        const page = await repository.list({
          ...(q.kind ? { kind: q.kind } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.author ? { author: q.author } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
          limit: q.limit,
        });
        return { items: page.items.map(requestSummaryView), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw invalid("query", [{ path: "/cursor", message: err.message }]);
        throw err;
      }
    },
  );

  api.post(
    "/api/v1/requests",
    {
      config: { role: "ci" },
      schema: {
        operationId: "submitRequest",
        summary: "Submit a request",
        description:
          "Makes a `requests/*` branch holding the document, as a push would, and judges it at once: the answer's `status` is approved, needs-review or denied, with `reasons`. " +
          "The author is the token's subject (verified). The body may also be the YAML itself with `Content-Type: application/yaml`. " +
          "201 when recorded now, 200 when the same revision was recorded before.",
        tags: ["requests"],
        body: submitBody,
        response: {
          201: jsonResponse("Recorded and judged; `Location` names the request", requestSchema),
          200: jsonResponse("The same revision was recorded before", requestSchema),
          422: problemResponse(422, "The document does not lint (`code` request-invalid): `problems` lists each as `path:line: /field message`"),
          503: problemResponse(503, "The database or the GitOps repository cannot be reached right now; retry after `Retry-After` seconds"),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const outcome = await service.submit(principal, { text: request.body.document, ...(request.body.path === undefined ? {} : { path: request.body.path }) });
      switch (outcome.status) {
        case "recorded":
          return reply
            .code(outcome.created ? 201 : 200)
            .header("location", `/api/v1/requests/${outcome.request.id}`)
            .send(requestView(outcome.request));
        case "invalid":
          throw requestInvalid(outcome.problems);
        case "forbidden":
          throw forbidden(outcome.reason);
        case "unavailable":
          throw new Problem(503, "Service unavailable", outcome.reason, "gitops-unavailable", {}, undefined, { "retry-after": String(GITOPS_RETRY_AFTER_SECONDS) });
      }
    },
  );

  // Before /:id in the file for the reader; the router prefers the static segment in any order.
  api.get(
    "/api/v1/requests/unreviewed",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listUnreviewedDocuments",
        summary: "Proposed documents that reached the target branch without a relengd merge",
        description:
          "What relengd found the last time the target branch moved: each proposed document whose last first-parent change is not a merge relengd recorded (a push straight to the branch, a merge by hand, a forged `Relengd-Request-Id` trailer). " +
          "`head` and `checkedAt` are null before the first look; 404 when no repository takes requests.",
        tags: ["requests"],
        response: { 200: jsonResponse("The documents, by path", unreviewedReportSchema), ...problemResponses(404, 503) },
      },
    },
    async () => {
      const report = await service.unreviewed?.();
      if (!report) throw notFound("requests are off on this server: no repository takes requests, so none is checked for unreviewed documents");
      return unreviewedReportView(report);
    },
  );

  api.get(
    "/api/v1/requests/:id",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getRequest",
        summary: "Show a request with its documents",
        tags: ["requests"],
        params: requestParams,
        response: { 200: jsonResponse("The request", requestSchema), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const r = await repository.get(id);
      if (!r) throw notFound(`no request ${id}`);
      return requestView(r);
    },
  );

  api.get(
    "/api/v1/requests/:id/decisions",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listRequestDecisions",
        summary: "Explain a request: each approval policy's decision, condition by condition",
        tags: ["requests"],
        params: requestParams,
        response: { 200: jsonResponse("The decisions, in the order they were made", z.strictObject({ items: z.array(requestDecisionSchema) })), ...problemResponses(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      // Read before the decisions: an unknown id is a 404, not an empty list.
      if (!(await repository.get(id))) throw notFound(`no request ${id}`);
      return { items: (await repository.decisions(id)).map(requestDecisionView) };
    },
  );

  for (const approve of [true, false]) {
    const verb = approve ? "approve" : "deny";
    api.post(
      `/api/v1/requests/:id/${verb}`,
      {
        config: { role: "releaser" },
        schema: {
          operationId: approve ? "approveRequest" : "denyRequest",
          summary: approve ? "Approve a request that needs review" : "Deny a request",
          description: approve
            ? "A person's approval of a request in needs-review; an approved request is merged. A token scoped to packages may decide only requests whose packages match its globs."
            : "A person's refusal of a request that is proposed, approved (not merged yet) or needs review. A token scoped to packages may decide only requests whose packages match its globs.",
          tags: ["requests"],
          params: requestParams,
          body: decideBody,
          response: {
            200: jsonResponse("Decided", requestSchema),
            ...problemResponses(404),
            409: problemResponse(409, `Not in a status a person can ${verb} from (\`code\` request-not-decidable; \`requestStatus\` says which)`),
            503: problemResponse(503),
          },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const { id } = request.params;
        const outcome = await service.decide(principal, { id, approve, reason: request.body.reason });
        switch (outcome.status) {
          case "decided":
            return requestView(outcome.request);
          case "not-found":
            throw notFound(`no request ${id}`);
          case "forbidden":
            throw forbidden(outcome.reason);
          case "not-decidable":
            throw conflict("request-not-decidable", outcome.reason, { requestStatus: outcome.request.status });
        }
      },
    );
  }
  return Promise.resolve();
}
