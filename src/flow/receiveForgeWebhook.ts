// Use case: a forge's webhook delivery. Verified (signature or token) before anything is read;
// stored once (a replay is a duplicate); a push or pull request on a request branch of the
// requests repository is recorded with the forge account that put its head there, and the
// request poller looks at once. Nothing else happens: the poller judges what it finds, exactly
// as without a webhook.
import { bodyDigest, verifyForgeSignature, verifyForgeToken } from "../auth/forgeSignature.js";
import type { ResolvedRepository } from "../domain/environmentSet.js";
import type { FieldIssue } from "../domain/fieldIssues.js";
import { namesRepository, parseForgeEvent, type BranchChange, type ForgeDeliveryHeaders } from "../domain/forgeWebhook.js";
import { isRequestBranch } from "../gitops/requestGit.js";
import type { ForgeDeliveryRecord, ForgeDeliveryRepository } from "../store/forgeDeliveryRepository.js";

export interface ForgeWebhookDeps {
  /** RELENGD_FORGE_WEBHOOK_SECRET; undefined: webhooks are off. */
  secret: string | undefined;
  deliveries: ForgeDeliveryRepository;
  /** The repository requests are made to; undefined when requests are off. */
  repository: () => ResolvedRepository | undefined;
  /** Make the request poller look now. */
  look: () => void;
  /** A forge account was recorded for a branch's revision (a request judged before the webhook came may be judged again). */
  authorRecorded?: (branch: string, revision: string) => void;
  now?: () => Date;
}

export type ForgeWebhookOutcome =
  | { status: "off" }
  | { status: "unauthorized"; header: string; reason: string }
  | { status: "invalid"; issues: FieldIssue[] }
  | { status: "accepted"; outcome: "recorded" | "ignored" | "duplicate"; delivery: ForgeDeliveryRecord };

/** Whether the delivery proves it comes from the forge the secret was given to. */
export function verifyDelivery(secret: string, headers: ForgeDeliveryHeaders, body: Uint8Array): { ok: true } | { ok: false; reason: string } {
  const { proof } = headers;
  if (proof.value === undefined || proof.value === "") return { ok: false, reason: `the ${proof.header} header is missing` };
  const ok = proof.kind === "signature" ? verifyForgeSignature(secret, body, proof.value) : verifyForgeToken(secret, proof.value);
  return ok ? { ok: true } : { ok: false, reason: `the ${proof.header} header does not match RELENGD_FORGE_WEBHOOK_SECRET` };
}

/** What a change is to relengd: recorded (with the account, when it set the head) or ignored, and why. */
function judgeChange(change: BranchChange, repo: ResolvedRepository | undefined): Pick<ForgeDeliveryRecord, "outcome" | "reason" | "repository" | "branch" | "revision" | "account"> {
  const none = { repository: null, branch: null, revision: null, account: null };
  if (!repo) return { outcome: "ignored", reason: "requests are off: no requests repository is declared", ...none };
  if (!namesRepository(change, repo.url)) return { outcome: "ignored", reason: `${change.repositoryName} is not the requests repository ${repo.name} (${repo.url})`, ...none };
  if (change.fromFork) return { outcome: "ignored", reason: `pull request from another repository: relengd reads the request branches of ${repo.name} only`, ...none };
  if (!isRequestBranch(change.branch)) return { outcome: "ignored", reason: `${change.branch} is not a request branch (requests/…)`, ...none };
  const at = { repository: repo.name, branch: change.branch };
  if (change.revision === null) return { outcome: "recorded", reason: `${change.account} deleted ${change.branch}`, ...at, revision: null, account: null };
  if (!change.setsHead) return { outcome: "ignored", reason: `pull request ${change.action} does not change ${change.branch}`, ...none };
  const what = change.kind === "push" ? `pushed ${change.revision.slice(0, 12)} to ${change.branch}` : `${change.action} the pull request of ${change.branch} at ${change.revision.slice(0, 12)}`;
  return { outcome: "recorded", reason: `${change.account} ${what}`, ...at, revision: change.revision, account: change.account };
}

/**
 * Records a verified delivery (the caller verified it with verifyDelivery and parsed its JSON):
 * the answer comes once it is stored.
 */
export async function recordForgeDelivery(deps: ForgeWebhookDeps, headers: ForgeDeliveryHeaders, raw: Uint8Array, body: unknown): Promise<ForgeWebhookOutcome> {
  const event = parseForgeEvent(headers, body);
  if (!event.ok) return { status: "invalid", issues: event.issues };
  const digest = bodyDigest(raw);
  const judged =
    event.value.kind === "ignored"
      ? { outcome: "ignored" as const, reason: event.value.reason, repository: null, branch: null, revision: null, account: null }
      : judgeChange(event.value.change, deps.repository());
  const delivery: ForgeDeliveryRecord = {
    deliveryId: headers.deliveryId ? `${headers.forge}:${headers.deliveryId}` : `sha256:${digest}`,
    digest,
    forge: headers.forge,
    event: headers.event,
    ...judged,
    receivedAt: deps.now?.() ?? new Date(),
  };
  const added = await deps.deliveries.add(delivery);
  if (!added.stored) return { status: "accepted", outcome: "duplicate", delivery: added.previous ?? delivery };
  if (delivery.outcome === "recorded") {
    deps.look();
    if (delivery.branch && delivery.revision && delivery.account) deps.authorRecorded?.(delivery.branch, delivery.revision);
  }
  return { status: "accepted", outcome: delivery.outcome, delivery };
}
