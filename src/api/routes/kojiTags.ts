// /api/v1/koji-tags: the Koji tag state observed on the bus (buildsys.tag / buildsys.untag), which `relengd plan` compares with the GitOps repository.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { KOJI_TAG_PATTERN, PACKAGE_PATTERN } from "../../domain/artifact.js";
import type { KojiTagRepository } from "../../store/kojiTagRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { problemResponse } from "../problem.js";
import { noQuery } from "../request.js";

const tagParams = z.strictObject({ tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name") });
const observedQuery = z.strictObject({
  package: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name").optional().meta({ description: "Only this package's builds" }),
});

const observedBuildSchema = z
  .strictObject({
    tag: wellFormedString(),
    package: wellFormedString(),
    nvr: wellFormedString(),
    buildId: z.number().int().nullable(),
    taggedAt: z.iso.datetime().meta({ description: "When Koji tagged it (the message's sent-at, else when relengd received it)" }),
    messageId: wellFormedString().meta({ description: "The bus message that tagged it" }),
    latest: z.boolean().meta({ description: "The package's last tagged build: the one Koji hands out for the tag" }),
  })
  .meta({ id: "ObservedTagBuild", description: "A build a Koji tag holds, as observed on the bus" });

const tagSummarySchema = z
  .strictObject({
    tag: wellFormedString(),
    builds: z.number().int(),
    packages: z.number().int(),
    lastEventAt: z.iso.datetime(),
  })
  .meta({ id: "ObservedTag", description: "A Koji tag with builds observed in it" });

export function kojiTagRoutes(app: FastifyInstance, opts: { kojiTags: KojiTagRepository }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Observed from the bus, like the event log.
  const tags = ["events"];

  api.get(
    "/api/v1/koji-tags",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listObservedKojiTags",
        summary: "List the Koji tags observed on the bus",
        description: "Every tag that holds builds according to the buildsys.tag and buildsys.untag messages received.",
        tags,
        querystring: noQuery,
        response: {
          200: jsonResponse("The tags, by name", z.strictObject({ items: z.array(tagSummarySchema) })),
          503: problemResponse(503),
        },
      },
    },
    async () => ({ items: (await opts.kojiTags.tags()).map((t) => ({ ...t, lastEventAt: t.lastEventAt.toISOString() })) }),
  );

  api.get(
    "/api/v1/koji-tags/:tag/observed",
    {
      config: { role: "reader" },
      schema: {
        operationId: "getObservedKojiTag",
        summary: "The builds a Koji tag holds, as observed",
        description:
          "The builds tagged into the tag and not untagged since, by package in tagging order. Only what the bus said since relengd listens is known: a tag never mentioned has no builds here.",
        tags,
        params: tagParams,
        querystring: observedQuery,
        response: {
          200: jsonResponse("The tag's builds", z.strictObject({ tag: wellFormedString(), builds: z.array(observedBuildSchema) })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const { tag } = request.params;
      return { tag, builds: await opts.kojiTags.observed(tag, request.query.package ? { package: request.query.package } : {}) };
    },
  );
  return Promise.resolve();
}
