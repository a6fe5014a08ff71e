// /api/v1/observed/*: what the bus showed of dist-git branches and Koji side tags (issue 17), read-only.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { wellFormedString } from "../../domain/text.js";
import { KOJI_TAG_PATTERN } from "../../domain/artifact.js";
import type { ObservedRepository } from "../../store/observedRepository.js";
import { jsonResponse } from "../plugins/openapi.js";
import { problemResponse } from "../problem.js";

const limit = z.coerce.number().int().min(1).max(1000).default(100).meta({ description: "At most this many, newest first (1-1000, default 100)" });

const branchQuery = z.strictObject({
  namespace: wellFormedString().regex(/^[a-z][a-z0-9-]{0,63}$/, "must be a dist-git namespace like rpms").optional().meta({ description: "Only this namespace" }),
  repo: wellFormedString().regex(/^[a-zA-Z0-9_][a-zA-Z0-9-_.+]{0,254}$/, "must be a dist-git repository name").optional().meta({ description: "Only this repository" }),
  limit,
});
const sideTagQuery = z.strictObject({
  owner: wellFormedString().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, "must be a user name").optional().meta({ description: "Only side tags whose package-list owner is this user" }),
  base: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name").optional().meta({ description: "Only side tags of this base tag" }),
  limit,
});

const branchSchema = z
  .strictObject({
    namespace: wellFormedString(),
    repo: wellFormedString(),
    branch: wellFormedString(),
    rev: wellFormedString().nullable(),
    agent: wellFormedString().nullable(),
    messageId: wellFormedString().meta({ description: "The bus message that first showed it" }),
    firstSeenAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
  })
  .meta({ id: "ObservedBranch", description: "A dist-git branch seen created on the bus (pagure.git.branch.creation)" });

const sideTagSchema = z
  .strictObject({
    name: wellFormedString(),
    baseTag: wellFormedString(),
    tagId: z.number().int(),
    owner: wellFormedString().nullable().meta({ description: "The package-list owner a buildsys.package.list.change named last" }),
    packages: z.array(wellFormedString()).meta({ description: "Packages added to its package list and not removed since" }),
    messages: z.number().int(),
    lastMessageId: wellFormedString(),
    lastTopic: wellFormedString(),
    firstSeenAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
  })
  .meta({ id: "ObservedSideTag", description: "A Koji side tag (<base>-side-<N>) seen in buildsys.* messages" });

export function observedRoutes(app: FastifyInstance, opts: { observed: ObservedRepository }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["events"];

  api.get(
    "/api/v1/observed/branches",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listObservedBranches",
        summary: "List the dist-git branches observed created",
        description: "Branches dist-git announced created (org.fedoraproject.prod.pagure.git.branch.creation) since relengd listens; the approval facts' distgit gain them.",
        tags,
        querystring: branchQuery,
        response: {
          200: jsonResponse("The branches, newest first", z.strictObject({ items: z.array(branchSchema) })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const { namespace, repo, limit: n } = request.query;
      const rows = await opts.observed.branches({ ...(namespace ? { namespace } : {}), ...(repo ? { repo } : {}), limit: n, newestFirst: true });
      return { items: rows.map((b) => ({ ...b, firstSeenAt: b.firstSeenAt.toISOString(), lastSeenAt: b.lastSeenAt.toISOString() })) };
    },
  );

  api.get(
    "/api/v1/observed/sidetags",
    {
      config: { role: "reader" },
      schema: {
        operationId: "listObservedSideTags",
        summary: "List the Koji side tags observed",
        description: "Side tags (<base>-side-<N>) the buildsys.* messages received named, last seen first.",
        tags,
        querystring: sideTagQuery,
        response: {
          200: jsonResponse("The side tags, last seen first", z.strictObject({ items: z.array(sideTagSchema) })),
          503: problemResponse(503),
        },
      },
    },
    async (request) => {
      const { owner, base, limit: n } = request.query;
      const rows = await opts.observed.sideTags({ ...(owner ? { owner } : {}), ...(base ? { baseTag: base } : {}), limit: n, newestFirst: true });
      return { items: rows.map((s) => ({ ...s, firstSeenAt: s.firstSeenAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString() })) };
    },
  );
  return Promise.resolve();
}
