// How stored releases, holds and requests are shown: their schemas (the Release, Hold and Request
// components of the OpenAPI document) and the conversion from store records. Several resources
// return them: a release, a rollback (its release and hold), a hold, a release refused by a hold.
import { z } from "zod";
import { releaseStatuses } from "../domain/release.js";
import { preflightSchema } from "../domain/environment.js";
import { brokenDepsReportPath } from "../domain/reportLinks.js";
import { wellFormedString } from "../domain/text.js";
import type { HoldRecord, ReleaseRecord } from "../store/releaseRepository.js";
import type { UnreviewedReport } from "../domain/requests/unreviewed.js";
import { requestStatuses, type RequestDecisionRecord, type RequestRecord } from "../store/requestRepository.js";

const timestamp = z.iso.datetime();

export const releaseSchema = z
  .strictObject({
    id: wellFormedString(),
    artifactId: wellFormedString(),
    environment: wellFormedString(),
    repository: wellFormedString(),
    branch: wellFormedString(),
    package: wellFormedString(),
    trigger: wellFormedString().meta({ description: "policy/<name>, user:<subject>, rollback or mirror" }),
    createdBy: wellFormedString(),
    force: z.boolean(),
    forceReason: wellFormedString().nullable(),
    bulk: z.boolean(),
    status: z.enum(releaseStatuses),
    reason: wellFormedString().nullable().meta({ description: "Why it was blocked or superseded" }),
    supersededBy: wellFormedString().nullable(),
    error: wellFormedString().nullable().meta({ description: "The last write or push error" }),
    attempts: z.number().int(),
    nextAttemptAt: timestamp.nullable(),
    commitSha: wellFormedString().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    pushedAt: timestamp.nullable(),
    preflight: preflightSchema.nullable().meta({ description: "What is checked before it is queued (`checking`); null: nothing" }),
    repoclosureReportId: wellFormedString().nullable().meta({ description: "The broken-deps report the repoclosure gate judged it by" }),
    repoclosureReport: wellFormedString().nullable().meta({ description: "That report's page (`/api/v1/reports/broken-deps/{id}` is its JSON)" }),
    repoclosure: wellFormedString().nullable().meta({ description: "What the commit's Relengd-Repoclosure trailer says (`3 unresolved (aarch64 x86_64)`), once it passed the gate" }),
  })
  .meta({ id: "Release", description: "A request to put one artifact into one environment" });

export const holdSchema = z
  .strictObject({
    id: wellFormedString(),
    environment: wellFormedString(),
    package: wellFormedString(),
    reason: wellFormedString(),
    createdBy: wellFormedString(),
    createdAt: timestamp,
    releaseId: wellFormedString().nullable().meta({ description: "The rollback that placed it" }),
  })
  .meta({ id: "Hold", description: "Stops policies from releasing a package to an environment until lifted" });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function releaseView(r: ReleaseRecord) {
  const { seq: _seq, preflight, ...rest } = r;
  return {
    ...rest,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    pushedAt: iso(r.pushedAt),
    nextAttemptAt: iso(r.nextAttemptAt),
    preflight: preflight ? { repoclosure: preflight } : null,
    repoclosureReport: r.repoclosureReportId ? brokenDepsReportPath(r.repoclosureReportId) : null,
  };
}

export function holdView(h: HoldRecord) {
  return { ...h, createdAt: h.createdAt.toISOString() };
}

const conditionValue = z.union([z.boolean(), z.literal("unknown")]);

const requestFields = {
  id: wellFormedString(),
  repository: wellFormedString().meta({ description: "The GitOps repository the request branch is in" }),
  branch: wellFormedString().meta({ description: "The request branch (`requests/<anything>`)" }),
  revision: wellFormedString().meta({ description: "The commit of the branch this request is" }),
  base: wellFormedString().nullable().meta({ description: "The target branch's commit the changes were taken against (null: unrelated history)" }),
  status: z.enum(requestStatuses),
  kind: wellFormedString().meta({ description: "The kind of its first document (BranchRequest, RepoRequest, SideTag); `none` when it changes no proposed document" }),
  path: wellFormedString().nullable().meta({ description: "Its first document's path" }),
  author: wellFormedString().nullable().meta({ description: "The token's subject (API), the signer (a signed push) or the claimed commit author" }),
  authorEmail: wellFormedString().nullable(),
  verified: z.boolean().meta({ description: "Whether relengd knows who the author is (a token, or a commit signed by a key the facts list); only a verified author is approved by a policy" }),
  source: z.enum(["api", "git"]),
  reasons: z.array(wellFormedString()).meta({ description: "Why it has its status: the rules that decided, lint problems as `path:line: /field message`, a person's decision" }),
  approvedBy: wellFormedString().nullable().meta({ description: "policy/<name> or user:<subject>" }),
  decidedBy: wellFormedString().nullable().meta({ description: "user:<subject> when a person approved or denied it" }),
  decisionReason: wellFormedString().nullable(),
  mergeCommit: wellFormedString().nullable().meta({ description: "The merge commit on the target branch, once merged" }),
  supersededBy: wellFormedString().nullable().meta({ description: "The request of the branch's newer revision" }),
  seenAt: timestamp.meta({ description: "When relengd first saw the revision" }),
  decidedAt: timestamp.nullable(),
  mergedAt: timestamp.nullable(),
  updatedAt: timestamp,
};

export const requestSummarySchema = z
  .strictObject({ ...requestFields, documents: z.array(z.strictObject({ path: wellFormedString(), kind: wellFormedString() })) })
  .meta({ id: "RequestSummary", description: "A request as lists show it: its documents without their contents" });

export const requestSchema = z
  .strictObject({
    ...requestFields,
    documents: z.array(
      z.strictObject({
        path: wellFormedString(),
        kind: wellFormedString(),
        blob: wellFormedString().meta({ description: "The git blob id of the content" }),
        content: wellFormedString().meta({ description: "The YAML as proposed" }),
      }),
    ),
  })
  .meta({ id: "Request", description: "One revision of a request branch, the proposed documents it changes, and what relengd decided" });

export const requestDecisionSchema = z
  .strictObject({
    policy: wellFormedString(),
    path: wellFormedString().meta({ description: "The document the policy was evaluated for" }),
    outcome: wellFormedString().meta({ description: "approve, review, deny, not-applicable, unmet or unknown" }),
    reason: wellFormedString(),
    conditions: z.array(
      z.strictObject({
        name: wellFormedString(),
        value: conditionValue,
        detail: wellFormedString(),
        wanted: wellFormedString().optional().meta({ description: "What the policy asks of the condition, in its words (true, commit, ≤ 10)" }),
        part: z.enum(["when", "unless"]).optional().meta({ description: "when: must hold; unless: must not" }),
      }),
    ),
    decidedAt: timestamp,
  })
  .meta({ id: "RequestDecision", description: "What one approval policy said about one document of a request, condition by condition" });

function requestTimes(r: RequestRecord) {
  return { seenAt: r.seenAt.toISOString(), decidedAt: iso(r.decidedAt), mergedAt: iso(r.mergedAt), updatedAt: r.updatedAt.toISOString() };
}

export function requestView(r: RequestRecord) {
  return { ...r, documents: r.documents.map((d) => ({ path: d.path, kind: d.kind, blob: d.blob, content: d.content })), ...requestTimes(r) };
}

export function requestSummaryView(r: RequestRecord) {
  return { ...r, documents: r.documents.map((d) => ({ path: d.path, kind: d.kind })), ...requestTimes(r) };
}

export function requestDecisionView(d: RequestDecisionRecord) {
  return { ...d, decidedAt: d.decidedAt.toISOString() };
}

export const unreviewedReportSchema = z
  .strictObject({
    repository: wellFormedString().meta({ description: "The repository whose branch was checked (a name in environments.yaml)" }),
    branch: wellFormedString().meta({ description: "The target branch requests are merged into" }),
    head: wellFormedString().nullable().meta({ description: "The branch's commit that was checked; null before the first look or when the branch does not exist" }),
    checkedAt: timestamp.nullable().meta({ description: "When; null before the first look" }),
    items: z.array(
      z.strictObject({
        path: wellFormedString(),
        commit: wellFormedString().nullable().meta({ description: "The commit that last changed the document on the branch (following first parents); null when the history does not reach it" }),
        subject: wellFormedString().nullable().meta({ description: "That commit's subject" }),
        requestId: wellFormedString().optional().meta({ description: "The request id its `Relengd-Request-Id` trailer names, which relengd did not merge with that commit" }),
      }),
    ),
  })
  .meta({ id: "UnreviewedDocuments", description: "Proposed documents on the target branch that no relengd merge brought there" });

export function unreviewedReportView(r: UnreviewedReport) {
  return {
    repository: r.repository,
    branch: r.branch,
    head: r.head,
    checkedAt: iso(r.checkedAt),
    items: r.documents.map((d) => ({ path: d.path, commit: d.commit, subject: d.subject, ...(d.requestId === undefined ? {} : { requestId: d.requestId }) })),
  };
}
