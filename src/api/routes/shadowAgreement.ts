// /api/v1/shadow/agreement: whether relengd's approval policies would have decided the real
// releng/fedora-scm-requests tickets as the request processor did (issue 17).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { agreementOutcomes } from "../../domain/scmTicket.js";
import { scmTicketBranch } from "../../domain/scmTicket.js";
import { wellFormedString } from "../../domain/text.js";
import type { ScmTicketRecord, ScmTicketRepository } from "../../store/scmTicketRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { problemResponse } from "../problem.js";

/** Disagreements listed in one answer (the most recent first). */
export const AGREEMENT_LIST_LIMIT = 100;

const timestamp = z.iso.datetime();
const outcome = z.enum(agreementOutcomes);

const agreementQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().meta({ description: "Only tickets closed (compared) at or after this time" }),
});

const comparedTicketSchema = z
  .strictObject({
    ticketId: z.number().int(),
    branch: wellFormedString().meta({ description: "The ticket's merge request in the shadow repository (mr/scm-<id>)" }),
    title: wellFormedString(),
    kind: wellFormedString().nullable().meta({ description: "BranchRequest or RepoRequest; null when the ticket holds no request relengd reads" }),
    path: wellFormedString().nullable(),
    author: wellFormedString().nullable(),
    outcome,
    closeStatus: wellFormedString().nullable(),
    closedBy: wellFormedString().nullable(),
    relengd: wellFormedString().meta({ description: "relengd's verdict and its reasons" }),
    bot: wellFormedString().meta({ description: "The close status, who closed it and the closing comment" }),
    comparedAt: timestamp,
  })
  .meta({ id: "ShadowAgreementTicket", description: "A closed scm ticket compared with relengd's verdict" });

const agreementSchema = z
  .strictObject({
    since: timestamp.nullable(),
    totals: z.strictObject({ agreed: z.number().int(), disagreed: z.number().int(), undecidable: z.number().int() }),
    counts: z.array(z.strictObject({ kind: wellFormedString().meta({ description: "BranchRequest, RepoRequest, or none" }), outcome, count: z.number().int() })),
    disagreements: z.array(comparedTicketSchema).meta({ description: `The most recent disagreements (at most ${AGREEMENT_LIST_LIMIT})` }),
  })
  .meta({ id: "ShadowAgreement", description: "relengd's agreement with the request processor on closed releng/fedora-scm-requests tickets" });

export function comparedTicketView(t: ScmTicketRecord): z.output<typeof comparedTicketSchema> {
  const a = t.agreement;
  return {
    ticketId: t.ticketId,
    branch: scmTicketBranch(t.ticketId),
    title: t.title,
    kind: t.kind,
    path: t.path,
    author: t.author,
    outcome: a?.outcome ?? "undecidable",
    closeStatus: t.closeStatus,
    closedBy: t.closedBy,
    relengd: a?.relengd ?? "",
    bot: a?.bot ?? "",
    comparedAt: (a?.comparedAt ?? t.updatedAt).toISOString(),
  };
}

/** The agreement summary (the API's answer, and the dashboard's). */
export async function agreementSummary(tickets: ScmTicketRepository, since?: Date): Promise<z.output<typeof agreementSchema>> {
  const counts = await tickets.agreementCounts(since);
  const totals = { agreed: 0, disagreed: 0, undecidable: 0 };
  for (const c of counts) totals[c.outcome] += c.count;
  const disagreements = await tickets.compared({ ...(since ? { since } : {}), outcome: "disagreed", limit: AGREEMENT_LIST_LIMIT });
  return { since: since ? since.toISOString() : null, totals, counts, disagreements: disagreements.map(comparedTicketView) };
}

export function shadowAgreementRoutes(app: FastifyInstance, opts: { tickets: ScmTicketRepository }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    "/api/v1/shadow/agreement",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getShadowAgreement",
        summary: "relengd's agreement with the request processor on real scm tickets",
        description:
          "Each releng/fedora-scm-requests ticket mirrored from the bus is judged by relengd's approval policies with the facts it has; when the ticket closes, the verdict is compared with the bot's outcome: agreed, disagreed (both reasons kept) or undecidable (facts missing, or no request relengd can read). Counts by kind and outcome, and the latest disagreements.",
        tags: ["requests"],
        querystring: agreementQuery,
        response: {
          200: jsonResponse("The agreement counts and the latest disagreements", agreementSchema),
          400: problemResponse(400),
          503: problemResponse(503),
        },
      },
    },
    async (request) => agreementSummary(opts.tickets, request.query.since ? new Date(request.query.since) : undefined),
  );
  return Promise.resolve();
}
