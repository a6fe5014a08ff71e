// POST /api/v1/forge/webhook: Forgejo, Gitea and GitLab push and pull/merge-request webhooks.
// No bearer token: the forge's signature (or token) over the raw body is the credential, so the
// body is kept as bytes, checked, and only then parsed as JSON.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { forgeDeliveryHeaders, forges } from "../../domain/forgeWebhook.js";
import { wellFormedString } from "../../domain/text.js";
import { recordForgeDelivery, verifyDelivery, type ForgeWebhookDeps } from "../../flow/receiveForgeWebhook.js";
import type { ForgeDeliveryRecord } from "../../store/forgeDeliveryRepository.js";
import { parseJsonBody } from "../jsonBody.js";
import { jsonResponse } from "../plugins/openapi.js";
import { invalid, notFound, Problem, problemResponse, problemResponses } from "../problem.js";

/** Largest delivery read: GitLab sends up to 20 commits and a merge request's description (up to 1 MB). */
export const MAX_WEBHOOK_BYTES = 2 * 1024 * 1024;

const forgeDeliverySchema = z
  .strictObject({
    outcome: z.enum(["recorded", "ignored", "duplicate"]).meta({
      description: "`recorded`: a push or pull request on a request branch of the requests repository (the poller looks at once); `ignored`: anything else, stored only to recognise a replay; `duplicate`: this delivery (its id or its body) came before and had its effect then",
    }),
    reason: wellFormedString(),
    delivery: wellFormedString().meta({ description: "`<forge>:<delivery id>` (`sha256:<digest of the body>` when the forge sent no id)" }),
    forge: z.enum(forges),
    event: wellFormedString(),
    branch: wellFormedString().nullable(),
    revision: wellFormedString().nullable(),
    account: wellFormedString().nullable().meta({ description: "The forge account that put `revision` at the head of `branch`: a verified author of that exact revision" }),
    receivedAt: z.iso.datetime(),
  })
  .meta({ id: "ForgeDelivery", description: "A verified forge webhook delivery and what relengd did with it" });

function deliveryView(outcome: "recorded" | "ignored" | "duplicate", d: ForgeDeliveryRecord): z.output<typeof forgeDeliverySchema> {
  return { outcome, reason: d.reason, delivery: d.deliveryId, forge: d.forge as (typeof forges)[number], event: d.event, branch: d.branch, revision: d.revision, account: d.account, receivedAt: d.receivedAt.toISOString() };
}

const webhooksOff = () => notFound("forge webhooks are off: RELENGD_FORGE_WEBHOOK_SECRET is not set (relengd still finds every request branch by polling)");

export function forgeWebhookRoutes(app: FastifyInstance, opts: { deps: ForgeWebhookDeps }): Promise<void> {
  const deps = opts.deps;
  // This plugin's own JSON parser (encapsulated: other routes keep theirs): the raw bytes, which
  // the signature is over. The handler parses them with relengd's parser once they verified.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void) => done(null, body));
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    "/api/v1/forge/webhook",
    {
      bodyLimit: MAX_WEBHOOK_BYTES,
      schema: {
        operationId: "receiveForgeWebhook",
        summary: "Receive a Forgejo, Gitea or GitLab webhook",
        description: [
          "A forge's webhook for the GitOps repository (content type `application/json`). Forgejo/Gitea: `X-Forgejo-Event`/`X-Gitea-Event` `push` or `pull_request`, `X-Forgejo-Delivery`/`X-Gitea-Delivery`, and `X-Forgejo-Signature`/`X-Gitea-Signature`, the hex HMAC-SHA256 of the body under the webhook's secret. GitLab: `X-Gitlab-Event` `Push Hook` or `Merge Request Hook`, `X-Gitlab-Token` (the secret itself) and `Idempotency-Key` or `X-Gitlab-Event-UUID`. The secret is RELENGD_FORGE_WEBHOOK_SECRET; unset, the route answers 404.",
          "A push, or a pull request opened, reopened or updated with new commits, on a `requests/…` branch of the requests repository is recorded with the forge account, which counts as a verified author of that exact head commit, and the request poller looks at once. Other events are answered `ignored`. A delivery whose id or body was received before is answered `duplicate` (200, not an error: forges disable webhooks that keep failing) and has no second effect. A webhook only makes relengd look sooner: without one, polling finds every request branch too.",
        ].join("\n\n"),
        tags: ["requests"],
        headers: z.looseObject({
          "x-forgejo-event": wellFormedString().optional().meta({ description: "Forgejo: push, pull_request, …" }),
          "x-gitea-event": wellFormedString().optional().meta({ description: "Gitea: push, pull_request, …" }),
          "x-gitlab-event": wellFormedString().optional().meta({ description: "GitLab: Push Hook, Merge Request Hook, …" }),
          "x-forgejo-signature": wellFormedString().optional(),
          "x-gitea-signature": wellFormedString().optional(),
          "x-gitlab-token": wellFormedString().optional(),
        }),
        response: {
          200: jsonResponse("Verified and stored (recorded, ignored) or recognised as a replay (duplicate)", forgeDeliverySchema),
          ...problemResponses(400),
          401: problemResponse(401, "The signature or token is missing or does not match RELENGD_FORGE_WEBHOOK_SECRET; nothing is recorded"),
          404: problemResponse(404, "Forge webhooks are off (RELENGD_FORGE_WEBHOOK_SECRET is not set)"),
        },
      },
    },
    async (request, reply) => {
      if (!deps.secret) throw webhooksOff();
      const headers = forgeDeliveryHeaders(request.headers);
      if (!headers.ok) throw invalid("header", headers.issues);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verified = verifyDelivery(deps.secret, headers.value, raw);
      if (!verified.ok) throw new Problem(401, "Unauthorized", `webhook not verified: ${verified.reason}`, "unauthorized", {}, [{ path: `/${headers.value.proof.header}`, message: verified.reason.replace(/^the \S+ header /, ""), in: "header" }]);
      const body = await parseJsonBody(request, raw);
      const outcome = await recordForgeDelivery(deps, headers.value, raw, body);
      if (outcome.status === "off") throw webhooksOff();
      if (outcome.status === "unauthorized") throw new Problem(401, "Unauthorized", outcome.reason, "unauthorized");
      if (outcome.status === "invalid") throw invalid("body", outcome.issues);
      request.log.info({ forge: outcome.delivery.forge, event: outcome.delivery.event, delivery: outcome.delivery.deliveryId, outcome: outcome.outcome, branch: outcome.delivery.branch, account: outcome.delivery.account }, "forge webhook");
      return reply.code(200).send(deliveryView(outcome.outcome, outcome.delivery));
    },
  );
  return Promise.resolve();
}
