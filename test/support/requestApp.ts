// The request routes in-process for API and CLI tests: a real RequestRepository on the test store, and a
// scripted stand-in for the request use cases (the real RequestService is the lead's, built in composeApplication).
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/api/app.js";
import { Metrics } from "../../src/api/plugins/metrics.js";
import { mayTouchPackage, type Principal } from "../../src/domain/token.js";
import type { UnreviewedReport } from "../../src/domain/requests/unreviewed.js";
import type { PersonDecisionOutcome, RequestService, SubmitOutcome } from "../../src/flow/requestDeps.js";
import { RequestRepository, RequestStateChanged, type NewRequest, type RequestRecord } from "../../src/store/requestRepository.js";
import { appDepsOf, type TestApp } from "./app.js";

/** The packages a request's documents touch, read from their paths (distgit/<branches|repos>/<namespace>/<repo>/…, koji/sidetags/…). */
function packagesOf(r: RequestRecord): string[] {
  return r.documents.flatMap((d) => {
    const parts = d.path.split("/");
    return parts[0] === "distgit" && parts[3] ? [parts[3].replace(/\.yaml$/, "")] : [];
  });
}

/**
 * FakeRequestService: NOT the real use cases. `submit` answers whatever the test scripted in
 * `nextSubmit` (and records each call); `decide` decides through the real repository, with a
 * package-scope check on the documents' repos, so the routes' outcome mapping is exercised
 * against stored data.
 */
export class FakeRequestService implements RequestService {
  readonly submitted: { principal: Principal; text: string; path?: string }[] = [];
  nextSubmit: (principal: Principal, text: string) => Promise<SubmitOutcome> = () => Promise.resolve({ status: "unavailable", reason: "no submit scripted" });

  /** What GET /api/v1/requests/unreviewed answers (undefined: a 404, as when no repository takes requests). */
  unreviewedReport: UnreviewedReport | undefined;

  constructor(readonly requests: RequestRepository) {}

  unreviewed(): Promise<UnreviewedReport | undefined> {
    return Promise.resolve(this.unreviewedReport);
  }

  submit(principal: Principal, input: { text: string; path?: string }): Promise<SubmitOutcome> {
    this.submitted.push({ principal, text: input.text, ...(input.path === undefined ? {} : { path: input.path }) });
    return this.nextSubmit(principal, input.text);
  }

  async decide(principal: Principal, input: { id: string; approve: boolean; reason: string }): Promise<PersonDecisionOutcome> {
    const found = await this.requests.get(input.id);
    if (!found) return { status: "not-found" };
    const outside = packagesOf(found).filter((p) => !mayTouchPackage(principal, p));
    if (outside.length > 0) return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not decide a request for ${outside.join(", ")}` };
    try {
      const request = await this.requests.decideByPerson(input.id, { approve: input.approve, user: principal.subject, reason: input.reason });
      return request ? { status: "decided", request } : { status: "not-found" };
    } catch (err) {
      if (err instanceof RequestStateChanged) return { status: "not-decidable", request: err.request, reason: err.message };
      throw err;
    }
  }
}

export interface RequestTestApp {
  app: FastifyInstance;
  requests: RequestRepository;
  service: FakeRequestService;
  metrics: Metrics;
}

/** A second app on the test app's store, with the request routes over a FakeRequestService. */
export async function requestApp(t: TestApp): Promise<RequestTestApp> {
  const requests = new RequestRepository(t.database.db);
  const service = new FakeRequestService(requests);
  const metrics = new Metrics();
  const app = await buildApp({
    ...appDepsOf(t),
    metrics,
    checkResponses: true,
    requests: service,
  });
  await app.ready();
  return { app, requests, service, metrics };
}

/** A BranchRequest as a person writes it. */
export const branchRequestYaml = (repo: string, branch: string) =>
  `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: ${branch}\n  create_git_branch: true\n`;

let revisions = 0;

/** A judged request of one BranchRequest document, as the recorder would store it. */
export function branchRequest(repo: string, branch: string, overrides: Partial<NewRequest> = {}): NewRequest {
  revisions += 1;
  const revision = revisions.toString(16).padStart(40, "a");
  return {
    repository: "fedora",
    branch: `requests/${repo}-${branch}-${revisions}`,
    revision,
    base: null,
    status: "needs-review",
    documents: [{ path: `distgit/branches/rpms/${repo}/${branch}.yaml`, kind: "BranchRequest", blob: revision.replace(/a/g, "b"), content: branchRequestYaml(repo, branch) }],
    author: "jdoe",
    authorEmail: "jdoe@fedoraproject.org",
    verified: false,
    source: "git",
    reasons: ["no approval policy approves it: the author is not verified"],
    approvedBy: null,
    decisions: [
      {
        policy: "branch-by-maintainer",
        path: `distgit/branches/rpms/${repo}/${branch}.yaml`,
        outcome: "unmet",
        reason: "a maintainer with commit access may branch",
        conditions: [
          { name: "verifiedAuthor", value: false, detail: "the commits are not signed" },
          { name: "authorAccess", value: "unknown", detail: "packageAccess facts are not loaded" },
          { name: "releaseBranch", value: true, detail: `${branch} is a release branch` },
        ],
      },
    ],
    seenAt: new Date("2026-03-01T10:00:00Z"),
    ...overrides,
  };
}
