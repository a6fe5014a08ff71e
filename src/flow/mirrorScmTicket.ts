// Use case: a releng/fedora-scm-requests ticket's bus message becomes a commit on its merge request
// `mr/scm-<id>` in the shadow repository (merged into main when the bot processed it, closed with
// the reason when it was denied), relengd's own verdict on each revision is stored, and on closing
// it is compared with the bot's outcome. Runs in the bus event's transaction (applyObserved).
import { decideRequest, type ApprovalPolicy } from "../domain/requests/approval.js";
import type { Facts } from "../domain/requests/facts.js";
import { renderShadowCommitMessage } from "../domain/commitMessages/shadow.js";
import { sentAt, type Envelope } from "../domain/envelope.js";
import {
  compareWithBot,
  lintProblemsOf,
  oneLine,
  SCM_BOT_ACCOUNT,
  scmTicketBranch,
  scmTicketDocument,
  scmVerdictOf,
  ticketJsonOf,
  trailerReason,
  type ScmTicketDocument,
  type ScmTicketMessage,
  type ScmVerdict,
} from "../domain/scmTicket.js";
import { SHADOW_MAIN } from "../domain/shadowBranches.js";
import type { BusEventOutcome, BusEventRepository } from "../store/busEventRepository.js";
import type { ScmTicketState } from "../store/scmTicketRepository.js";
import type { ShadowChangeKind } from "../store/shadowRepository.js";
import type { Tx } from "../store/store.js";

export interface ScmTicketDeps {
  events: BusEventRepository;
  /** The approval policies and facts in force (absent: relengd judges no ticket, each is undecidable). */
  approval?: () => { policies: ApprovalPolicy[]; facts: Facts };
  /** The request processor's pagure account (default releng-bot). */
  scmBot?: string;
}

/** relengd's verdict on a ticket's document: its approval policies, the ticket's pagure author taken as verified. */
function judge(deps: ScmTicketDeps, ticket: ScmTicketMessage, doc: ScmTicketDocument, targetPaths: ReadonlySet<string>, at: Date): ScmVerdict {
  if (!doc.ok) return { status: "none", review: null, reasons: [doc.reason] };
  const approval = deps.approval?.();
  if (!approval) return { status: "none", review: null, reasons: ["relengd judges no request here: no approval policies are configured"] };
  const verdict = decideRequest({
    documents: [{ path: doc.path, document: { kind: doc.kind, spec: doc.spec } }],
    problems: lintProblemsOf(doc.path, doc.lint),
    otherChanges: [],
    conflicts: [],
    // pagure.io authenticated whoever filed the ticket.
    author: { name: ticket.author, verified: ticket.author !== null },
    targetPaths,
    facts: approval.facts,
    policies: approval.policies,
    now: at,
  });
  const scm = scmVerdictOf(verdict);
  // Without an author nothing about the author is known: a fact missing, not a rule.
  return ticket.author === null && scm.status === "needs-review" ? { ...scm, review: "facts" } : scm;
}

/** The target-branch paths approval looks up for a ticket's document (repoExists, branchExists). */
function targetPathsAsked(doc: Extract<ScmTicketDocument, { ok: true }>): string[] {
  const { namespace, repo } = doc.spec;
  if (typeof namespace !== "string" || typeof repo !== "string") return [doc.path];
  return [...new Set([doc.path, `distgit/repos/${namespace}/${repo}.yaml`])];
}

export async function mirrorScmTicket(deps: ScmTicketDeps, tx: Tx, envelope: Envelope, ticket: ScmTicketMessage, now: Date): Promise<BusEventOutcome> {
  const tickets = deps.events.scmTickets;
  const at = sentAt(envelope) ?? now;
  const id = ticket.ticketId;
  const current = await tickets.ticketIn(tx, id);
  const contentChanged = !current || current.content !== ticket.content;
  const json = ticketJsonOf(ticket.content, ticket.oversize);
  const doc: ScmTicketDocument = json.ok ? scmTicketDocument(id, json.value) : { ok: false, reason: json.reason };
  const processed = ticket.state === "closed" && ticket.closeStatus?.toLowerCase() === "processed";
  const nextState: ScmTicketState = ticket.state === "open" ? "open" : processed && doc.ok ? "merged" : "closed";
  const stateChanged = !current || current.state !== nextState || (ticket.state === "closed" && current.closeStatus !== ticket.closeStatus);
  const label = `ticket ${id}`;
  if (current && !contentChanged && !stateChanged) {
    return { status: "ignored", reason: `${label}: text and status unchanged (${current.state}${current.closeStatus ? ` ${current.closeStatus}` : ""}); no commit`, artifactId: null, nvr: null };
  }

  const revision = current ? current.revision + (contentChanged ? 1 : 0) : 1;
  // Only the paths approval asks the target branch about (the repository's and the branch's
  // request): reading every merged ticket's path made each message cost what the history holds.
  const targetPaths = doc.ok ? await tickets.mergedPathsIn(tx, targetPathsAsked(doc)) : new Set<string>();
  const verdict = contentChanged || !current ? judge(deps, ticket, doc, targetPaths, at) : current.verdict;
  const closing = ticket.state === "closed";
  const reason = closing ? ticket.lastComment : null;
  const agreement = closing ? { ...compareWithBot(verdict, { closeStatus: ticket.closeStatus ?? "Closed", closedBy: ticket.closedBy, reason }, deps.scmBot ?? SCM_BOT_ACCOUNT), comparedAt: at } : null;

  await tickets.saveIn(
    tx,
    current,
    {
      ticketId: id,
      title: ticket.title,
      author: ticket.author ?? current?.author ?? null,
      content: ticket.content,
      kind: doc.ok ? doc.kind : (current?.kind ?? null),
      path: doc.ok ? doc.path : (current?.path ?? null),
      problems: doc.ok ? doc.problems : (current?.problems ?? []),
      unreadable: doc.ok ? null : doc.reason,
      state: nextState,
      closeStatus: closing ? ticket.closeStatus : null,
      closedBy: closing ? ticket.closedBy : null,
      closedReason: reason,
      revision,
      verdict,
      agreement,
      lastMessageId: envelope.id,
    },
    now,
  );
  if (contentChanged) await tickets.recordVerdictIn(tx, id, revision, envelope.id, verdict, now);

  const agreed = agreement ? `; relengd ${agreement.outcome} with the bot (relengd ${oneLine(agreement.relengd, 200)}; bot ${oneLine(agreement.bot, 200)})` : "";
  const reopened = current && current.state !== "open" && nextState === "open" ? `; reopens the ${current.state} merge request` : "";
  if (!doc.ok) {
    // Nothing to put on a branch: the ticket is recorded (and counted when closed), the reason said.
    const kept = current?.path ? `; ${scmTicketBranch(id)} keeps its last document` : "";
    return { status: "ignored", reason: `${label} recorded without a document: ${doc.reason}${kept}${reopened}${agreed}`, artifactId: null, nvr: null };
  }

  const branch = scmTicketBranch(id);
  const kind: ShadowChangeKind = nextState === "merged" ? "merge" : nextState === "closed" && stateChanged ? "close" : "update";
  const what = !current
    ? "filed"
    : nextState === "merged" && stateChanged
      ? "processed"
      : nextState === "closed" && stateChanged
        ? `closed ${ticket.closeStatus ?? ""}`.trim()
        : reopened
          ? "reopened"
          : "edited";
  const closedTrailer = kind === "close" ? trailerReason(ticket.closeStatus ?? "Closed", reason) : undefined;
  const common = { messageId: envelope.id, topic: envelope.topic, scmTicket: String(id), nvrs: [] as string[] };
  const subject = `scm: ticket ${id} ${what}: ${oneLine(ticket.title || `${doc.kind} ${doc.path}`, 160)}`;
  const message = renderShadowCommitMessage({
    ...common,
    subject,
    ...(closedTrailer ? { closed: closedTrailer } : {}),
    ...(agreement ? { agreement: `${agreement.outcome}` } : {}),
    problems: doc.problems,
  });
  const mergeMessage =
    kind === "merge"
      ? renderShadowCommitMessage({ ...common, subject: `Merge ${branch}: ticket ${id} ${trailerReason(ticket.closeStatus ?? "Processed", null)}`, merge: branch, ...(agreement ? { agreement: agreement.outcome } : {}), problems: [] })
      : null;
  await deps.events.shadow.queueIn(tx, { messageId: envelope.id, topic: envelope.topic, kind, branch, alias: `scm-${id}`, path: doc.path, content: doc.content, message, mergeMessage }, now);

  const effect = kind === "merge" ? `a commit on ${branch} and its merge into ${SHADOW_MAIN} queued` : kind === "close" ? `a commit closing ${branch} (${closedTrailer}) queued` : `a commit on ${branch} queued`;
  const misfits = doc.problems.length > 0 ? `; relengd/v1 misfits: ${doc.problems[0]}${doc.problems.length > 1 ? ` (and ${doc.problems.length - 1} more)` : ""}` : "";
  const unchanged = contentChanged ? "" : " (text unchanged)";
  return { status: "accepted", reason: oneLine(`${label} ${what}${unchanged}: ${doc.kind} ${doc.path}: ${effect}${reopened}${misfits}${agreed}`, 2000), artifactId: null, nvr: null };
}
