// Use case: a revision of a request branch (pushed by git, or made by `request submit`) is
// linted, checked against other open requests, judged by the approval policies and recorded.
import { decideRequest, type ApprovalPolicy, type RequestDecisionInput, type RequestVerdict } from "../domain/requests/approval.js";
import type { Facts } from "../domain/requests/facts.js";
import { isProposedDocumentPath, parseProposedText, type ProposedDocument } from "../domain/requests/index.js";
import { isReviewVoteReason } from "../domain/requests/review.js";
import type { RequestRevision } from "../domain/requests/revision.js";
import type { RequestDocumentRecord, RequestRecord, RequestRepository } from "../store/requestRepository.js";

export interface RecordRequestDeps {
  requests: RequestRepository;
  /** The approval policies and facts in force now. */
  approval: () => { policies: ApprovalPolicy[]; facts: Facts };
  now?: () => Date;
  /** Told of every new record (metrics, the writer's wake-up for an approved one). */
  onRecorded?: (request: RequestRecord, superseded: string[]) => void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What the judge needs from a revision's files: documents parsed, problems, other changes. */
export function classifyFiles(revision: RequestRevision): Pick<RequestDecisionInput, "problems" | "otherChanges"> & { documents: { path: string; document: ProposedDocument; record: RequestDocumentRecord }[] } {
  const problems: RequestDecisionInput["problems"] = [];
  const otherChanges: RequestDecisionInput["otherChanges"] = [];
  const documents: { path: string; document: ProposedDocument; record: RequestDocumentRecord }[] = [];
  if (revision.truncated) problems.push({ path: revision.branch, line: 1, message: `the branch changes more than ${revision.files.length} files; a request changes a few documents` });
  if (revision.files.length === 0) problems.push({ path: revision.branch, line: 1, message: "the branch changes nothing that is not already on the target branch" });
  for (const file of revision.files) {
    if (file.change === "deleted" || !isProposedDocumentPath(file.path)) {
      otherChanges.push({ path: file.path, change: file.change });
      continue;
    }
    if (file.special || file.blob === null) {
      problems.push({ path: file.path, line: 1, message: "not a regular file (a symbolic link or a submodule): documents are regular files" });
      continue;
    }
    if (file.bytes === null) {
      problems.push({ path: file.path, line: 1, message: "too large to be a request document" });
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(file.bytes);
    } catch {
      problems.push({ path: file.path, line: 1, message: "not UTF-8 text" });
      continue;
    }
    const parsed = parseProposedText(text, file.path);
    if (!parsed.ok) {
      for (const issue of parsed.issues) problems.push({ path: file.path, line: issue.line ?? 1, ...(issue.path !== "/" ? { field: issue.path } : {}), message: issue.message });
      continue;
    }
    documents.push({ path: file.path, document: parsed.value, record: { path: file.path, kind: parsed.value.kind, blob: file.blob, content: text } });
  }
  return { problems, otherChanges, documents };
}

/** Judges a revision without recording it (what `record` would decide). */
export async function judgeRevision(deps: RecordRequestDeps, revision: RequestRevision): Promise<{ verdict: RequestVerdict; documents: RequestDocumentRecord[] }> {
  const { problems, otherChanges, documents } = classifyFiles(revision);
  const conflicts = await deps.requests.conflicts(
    revision.repository,
    revision.branch,
    documents.map((d) => ({ path: d.path, blob: d.record.blob })),
  );
  const { policies, facts } = deps.approval();
  const verdict = decideRequest({
    documents: documents.map((d) => ({ path: d.path, document: { kind: d.document.kind, spec: d.document.spec } })),
    problems,
    otherChanges,
    conflicts,
    author: { name: revision.author.name, verified: revision.author.verified },
    targetPaths: revision.targetPaths,
    facts,
    policies,
    now: deps.now?.() ?? new Date(),
  });
  // Why the author is not trusted is part of why a person must look: said on the verdict's own line about it.
  if (!revision.author.verified && revision.author.note) {
    const note = revision.author.note;
    const i = verdict.reasons.findIndex((r) => /^author .* is not verified/.test(r));
    if (i >= 0) verdict.reasons[i] = (verdict.reasons[i] as string).replace(/ is not verified(: )?/, (_m, colon: string | undefined) => ` is not verified: ${note}${colon ? "; " : ""}`);
    else verdict.reasons.push(`author ${revision.author.name ?? "unknown"} is not verified: ${note}`);
  }
  return { verdict, documents: documents.map((d) => d.record) };
}

/**
 * Judges again a request that waits for review because of what the policies said, with the facts
 * and policies in force now (they changed: a facts source came back, a policy was added). The
 * revision is read afresh from git by the caller. Null when the request changed meanwhile.
 */
export async function rejudgeRequest(deps: RecordRequestDeps, request: RequestRecord, revision: RequestRevision): Promise<RequestRecord | null> {
  if (revision.revision !== request.revision || revision.branch !== request.branch) return null;
  const { verdict } = await judgeRevision(deps, revision);
  // Reviewers' votes stay with the request (and their lines with its reasons) whatever the policies say now.
  const votes = request.reasons.filter(isReviewVoteReason);
  const policyReasons = request.reasons.filter((r) => !isReviewVoteReason(r));
  // Still waiting for the same reasons: nothing to record.
  if (verdict.status === "needs-review" && JSON.stringify(verdict.reasons) === JSON.stringify(policyReasons)) return null;
  if (verdict.status === "needs-review") verdict.reasons.push(...votes);
  const updated = await deps.requests.rejudge(
    request.id,
    {
      status: verdict.status,
      reasons: verdict.reasons,
      approvedBy: verdict.approvedBy ?? null,
      decisions: verdict.decisions.map((d) => ({ policy: d.policy, path: d.path, outcome: d.outcome, reason: d.reason, conditions: d.conditions.map((c) => ({ name: c.name, value: c.value, detail: c.detail, wanted: c.wanted, part: c.part })) })),
      // A forge webhook that came after the first look makes the author verified: recorded with the verdict it gave.
      ...(revision.author.verified !== request.verified || revision.author.name !== request.author ? { author: { author: revision.author.name, authorEmail: revision.author.email, verified: revision.author.verified } } : {}),
    },
    deps.now?.() ?? new Date(),
  );
  if (updated) deps.onRecorded?.(updated, []);
  return updated;
}

/** Records a judged revision; `created` false when the same revision was recorded before (it is left as it is). */
export async function recordRequest(deps: RecordRequestDeps, revision: RequestRevision): Promise<{ request: RequestRecord; created: boolean }> {
  const { verdict, documents } = await judgeRevision(deps, revision);
  const { record, created, superseded } = await deps.requests.record(
    {
      repository: revision.repository,
      branch: revision.branch,
      revision: revision.revision,
      base: revision.base,
      status: verdict.status,
      documents,
      author: revision.author.name,
      authorEmail: revision.author.email,
      verified: revision.author.verified,
      source: revision.source,
      reasons: verdict.reasons,
      approvedBy: verdict.approvedBy ?? null,
      decisions: verdict.decisions.map((d) => ({ policy: d.policy, path: d.path, outcome: d.outcome, reason: d.reason, conditions: d.conditions.map((c) => ({ name: c.name, value: c.value, detail: c.detail, wanted: c.wanted, part: c.part })) })),
      seenAt: revision.seenAt,
    },
    deps.now?.() ?? new Date(),
  );
  if (created) deps.onRecorded?.(record, superseded);
  return { request: record, created };
}
