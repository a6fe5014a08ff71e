// /api/v1/reports/broken-deps (JSON) and /reports/broken-deps (HTML): the broken-dependency
// reports the gate and the report policies keep, each with what changed since the previous
// report of its tree.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { diffBrokenDeps } from "../../domain/brokenDeps.js";
import { brokenDepsReportPath } from "../../domain/reportLinks.js";
import { wellFormedString } from "../../domain/text.js";
import type { OwnersSource } from "../../policy/ownerAliases.js";
import { InvalidReportCursorError, type BrokenDepsReportRecord, type BrokenDepsReportRepository } from "../../store/brokenDepsReportRepository.js";
import { renderReportListPage, renderReportPage, type ReportView } from "../brokenDepsPage.js";
import { jsonResponse } from "../plugins/openapi.js";
import { invalid, notFound, problemResponse } from "../problem.js";
import { CONTENT_SECURITY_POLICY } from "./dashboard.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TREE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

const listQuery = z.strictObject({
  tree: wellFormedString().regex(TREE, "must be a tree name").optional().meta({ description: "Only this tree's reports" }),
  cursor: wellFormedString().min(1).max(200).optional().meta({ description: "`nextCursor` of the previous page" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const reportParams = z.strictObject({
  id: wellFormedString().refine((id) => id === "latest" || ULID.test(id), "must be a report id or latest"),
});
const reportQuery = z.strictObject({
  tree: wellFormedString().regex(TREE, "must be a tree name").optional().meta({ description: "With `latest`: the newest report of this tree" }),
});

const timestamp = z.iso.datetime();
const summarySchema = z
  .strictObject({
    id: wellFormedString(),
    tree: wellFormedString(),
    origin: wellFormedString().meta({ description: "gate, policy/<name> or cli" }),
    status: z.enum(["ok", "broken", "error"]),
    error: wellFormedString().nullable().meta({ description: "Why the check could not run (status error)" }),
    packages: z.number().int(),
    dependencies: z.number().int(),
    sources: z.number().int(),
    arches: z.array(wellFormedString()),
    generatedAt: timestamp,
    mailedAt: timestamp.nullable().meta({ description: "When its news was mailed; null: not mailed (the gate's reports never are)" }),
    url: wellFormedString().meta({ description: "The report's HTML page" }),
  })
  .meta({ id: "BrokenDepsReportSummary", description: "A broken-dependency report without its rows" });

const rowSchema = z.strictObject({ arch: wellFormedString(), source: wellFormedString(), nevra: wellFormedString(), unresolved: z.array(wellFormedString()) });
const reportSchema = z
  .strictObject({
    id: wellFormedString(),
    status: z.enum(["ok", "broken", "error"]),
    error: wellFormedString().nullable(),
    tree: wellFormedString(),
    generatedAt: timestamp,
    arches: z
      .record(
        wellFormedString(),
        z.array(
          z.strictObject({
            source: wellFormedString(),
            nevra: wellFormedString().meta({ description: "As dnf prints it: alpha-1.0-1.fc45.noarch" }),
            repo: wellFormedString(),
            unresolved: z.array(wellFormedString()).meta({ description: "dnf's own strings: libbeta >= 2" }),
            blame: z.array(wellFormedString()).meta({ description: "Source packages whose builds last provided a missing capability" }),
          }),
        ),
      )
      .meta({ description: "arch → broken packages; every checked arch, empty when clean; empty for an error" }),
    diff: z
      .strictObject({ previous: wellFormedString().nullable(), newlyBroken: z.array(rowSchema), fixed: z.array(rowSchema) })
      .nullable()
      .meta({ description: "Against the previous report of the tree (errors skipped); null for an error" }),
  })
  .meta({ id: "BrokenDepsReport", description: "The report (tree, generatedAt, arches: the format `relengd report broken-deps --output json` prints) with its id, status and what changed" });

export interface ReportRoutesOptions {
  reports: BrokenDepsReportRepository;
  owners?: OwnersSource;
}

function summaryView(r: Omit<BrokenDepsReportRecord, "report">) {
  return {
    id: r.id,
    tree: r.tree,
    origin: r.origin,
    status: r.status,
    error: r.error,
    packages: r.packages,
    dependencies: r.dependencies,
    sources: r.sources,
    arches: r.arches,
    generatedAt: r.generatedAt.toISOString(),
    mailedAt: r.mailedAt ? r.mailedAt.toISOString() : null,
    url: brokenDepsReportPath(r.id),
  };
}

function htmlReply(reply: FastifyReply, text: string): FastifyReply {
  return reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .send(text);
}

export function reportRoutes(app: FastifyInstance, opts: ReportRoutesOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { reports } = opts;
  const tags = ["reports"];

  const list = async (q: z.output<typeof listQuery>) => {
    try {
      return await reports.list({ limit: q.limit, ...(q.tree ? { tree: q.tree } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
    } catch (err) {
      if (err instanceof InvalidReportCursorError) throw invalid("query", [{ path: "/cursor", message: err.message }]);
      throw err;
    }
  };

  const find = async (id: string, tree: string | undefined): Promise<BrokenDepsReportRecord> => {
    const record = id === "latest" ? await reports.latest(tree) : await reports.get(id);
    if (!record) throw notFound(id === "latest" ? `no broken-dependency report${tree ? ` of tree ${tree}` : ""} yet` : `no broken-dependency report ${id}`);
    return record;
  };

  const withDiff = async (record: BrokenDepsReportRecord): Promise<ReportView["diff"]> => {
    if (!record.report) return null;
    const previous = await reports.previous(record);
    return { previous: previous?.id ?? null, ...diffBrokenDeps(previous?.report ?? undefined, record.report) };
  };

  api.get(
    "/api/v1/reports/broken-deps",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listBrokenDepsReports",
        summary: "List broken-dependency reports, newest first",
        tags,
        querystring: listQuery,
        response: {
          200: jsonResponse("A page of reports", z.strictObject({ items: z.array(summarySchema), nextCursor: wellFormedString().nullable() })),
          400: problemResponse(400),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const pageOf = await list(request.query);
      return { items: pageOf.items.map(summaryView), nextCursor: pageOf.nextCursor };
    },
  );

  api.get(
    "/api/v1/reports/broken-deps/:id",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getBrokenDepsReport",
        summary: "One broken-dependency report (or `latest`), with what changed since the previous report of its tree",
        tags,
        params: reportParams,
        querystring: reportQuery,
        response: { 200: jsonResponse("The report", reportSchema), 400: problemResponse(400), 404: problemResponse(404), 503: problemResponse(503) },
      },
    },
    async (request) => {
      const record = await find(request.params.id, request.query.tree);
      const view: ReportView = {
        id: record.id,
        status: record.status,
        error: record.error,
        tree: record.tree,
        generatedAt: record.report?.generatedAt ?? record.generatedAt.toISOString(),
        arches: record.report?.arches ?? {},
        diff: await withDiff(record),
      };
      return view;
    },
  );

  api.get("/reports/broken-deps", { config: { role: "reader", signInPage: true }, schema: { hide: true, querystring: listQuery } }, async (request, reply) => {
    const q = request.query;
    const pageOf = await list(q);
    const next = pageOf.nextCursor ? `/reports/broken-deps?${new URLSearchParams({ ...(q.tree ? { tree: q.tree } : {}), cursor: pageOf.nextCursor }).toString()}` : undefined;
    return htmlReply(reply, renderReportListPage(pageOf.items, { ...(q.tree ? { tree: q.tree } : {}), ...(next ? { next } : {}) }));
  });

  api.get("/reports/broken-deps/:id", { config: { role: "reader", signInPage: true }, schema: { hide: true, params: reportParams, querystring: reportQuery } }, async (request, reply) => {
    const record = await find(request.params.id, request.query.tree);
    const [diff, owners] = await Promise.all([withDiff(record), opts.owners?.()]);
    return htmlReply(reply, renderReportPage(record, diff, owners));
  });
  return Promise.resolve();
}
