// Use case: one message from the Fedora message bus (or POST /api/v1/events) is mapped, its effect made durable, and the event recorded.
import type { CiResultItem, FieldIssue, Parsed } from "../domain/artifact.js";
import {
  mapEnvelope,
  nextBodhiSpec,
  type BodhiUpdateMessage,
  type BusEffect,
  type BusEventStatus,
  type BusOutcome,
  type BusWaiver,
  type ComposeDone,
  type KojiTagChange,
  type MappingOptions,
} from "../domain/busMapping.js";
import { bodhiUpdatePath, buildBodhiUpdate, renderBodhiUpdate } from "../domain/documents/bodhiUpdate.js";
import { buildComposeRequest, composeRequestPath, renderComposeRequest } from "../domain/documents/composeRequest.js";
import { documentProblems } from "../domain/documents/index.js";
import {
  bareTopic,
  deliveryKey,
  MESSAGE_ID_PATTERN,
  parseAmqp,
  renderEnvelopeJson,
  sentAt,
  type AmqpDelivery,
  type Envelope,
} from "../domain/envelope.js";
import { UnsafePathError } from "../domain/paths.js";
import { wellFormedText } from "../domain/text.js";
import type { Principal } from "../domain/token.js";
import { renderShadowCommitMessage, renderShadowMergeMessage } from "../domain/commitMessages/shadow.js";
import { mergeRequestBranch, SHADOW_MAIN } from "../domain/shadowBranches.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { BusEventOutcome, BusEventRepository } from "../store/busEventRepository.js";
import type { Tx } from "../store/store.js";
import { isTransientStoreFailure } from "../store/storeFailure.js";
import type { ShadowState } from "../store/shadowRepository.js";
import { appendResults } from "./appendResults.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";
import { describeWaiver } from "../domain/gating.js";
import { pushArtifact, type PushQueue } from "./pushArtifact.js";
import { mirrorScmTicket, type ScmTicketDeps } from "./mirrorScmTicket.js";

import { mirrorCalendarEntry } from "./mirrorCalendarEntry.js";
import { observeDistgitBranch, observeDistgitRepo } from "./observeDistgitBranch.js";
import { observeSideTag } from "./observeSideTag.js";

export interface BusDeps {
  artifacts: ArtifactRepository;
  /** Mirrored artifacts, stored with what the policies decide about them; absent: stored alone. */
  pushes?: PushQueue;
  events: BusEventRepository;
  /** Mirrored artifacts and appended results are news to the policies, as when CI pushes them. */
  policyEvent?: PolicyEventHandler;
  mapping: MappingOptions;
  /** Counts each message once per delivery (relengd_bus_messages_total). */
  count?: (bareTopic: string, outcome: BusOutcome) => void;
  /** Told when a commit for the shadow repository was queued, so that its writer starts now. */
  onShadowChange?: () => void;
  /** What relengd judges mirrored scm tickets with (issue 17); absent: every ticket is undecidable. */
  approval?: NonNullable<ScmTicketDeps["approval"]>;
  /** The request processor's pagure account (default releng-bot). */
  scmBot?: string;

  /** Told when a dist-git branch or a side tag was observed (the approval facts read them). */
  onObserved?: () => void;
}

/** A message as it arrived: an envelope, or what is known of one that did not parse. */
export type BusMessage =
  | { ok: true; envelope: Envelope }
  | { ok: false; messageId: string; topic: string; issues: FieldIssue[]; raw: string };

export interface BusIngestResult {
  messageId: string;
  topic: string;
  bareTopic: string;
  outcome: BusOutcome;
  reason: string;
  artifactId: string | null;
}

/** The bus acts with the rights of a CI pipeline: it pushes artifacts and appends results. */
export const BUS_PRINCIPAL: Principal = { subject: "fedora-messaging", role: "ci", tokenId: "bus" };

/** A result may be about a build several artifacts carry (CI's own and the mirror); each gets it, newest first, up to this many. */
export const MAX_ARTIFACTS_PER_NVR = 20;

// What is kept of content that did not parse (the parsed envelope is kept whole).
const RAW_KEPT_CHARS = 64 * 1024;

/** Reads an AMQP delivery into a message; a broken one keeps its bytes (as text) for inspection. */
export function busMessageOfDelivery(delivery: AmqpDelivery): BusMessage {
  let parsed: Parsed<Envelope>;
  try {
    parsed = parseAmqp(delivery);
  } catch (err) {
    // Whatever the bytes did to the decoder, they are this message's own: rejected, not redelivered.
    parsed = { ok: false, issues: [{ path: "/content", message: wellFormedText(`could not be read: ${err instanceof Error ? err.message : String(err)}`) }] };
  }
  if (parsed.ok) return { ok: true, envelope: parsed.value };
  const id = delivery.properties.messageId;
  return {
    ok: false,
    // A broken message keyed by its own id when it has a usable one, else by its bytes: either
    // way a redelivery is recognised.
    messageId: typeof id === "string" && MESSAGE_ID_PATTERN.test(id) ? id : deliveryKey(delivery),
    topic: delivery.routingKey.slice(0, 255),
    issues: parsed.issues,
    raw: new TextDecoder().decode(delivery.content.subarray(0, RAW_KEPT_CHARS * 4)).slice(0, RAW_KEPT_CHARS),
  };
}

interface Applied {
  status: BusEventStatus;
  reason: string;
  artifactId: string | null;
  nvr: string | null;
  /** NVRs of an artifact created now: results waiting for them can be appended. */
  created?: string[];
}

/**
 * Maps and applies one message. Resolves once the effect and the event are durable, so the
 * caller may then ack it; rejects only when the store failed (the message must come again).
 * A message id seen before is a duplicate: counted, never applied twice.
 *
 * A message that fails for a reason of its own (its content breaks the mapping, a renderer or
 * a store statement) is recorded `rejected` with the error and resolves: redelivering it would
 * fail the same way for ever and hold back every message behind it. Only a store
 * that cannot act right now, or that cannot record the rejection, rejects.
 */
export async function ingestBusMessage(deps: BusDeps, message: BusMessage): Promise<BusIngestResult> {
  try {
    return await applyMessage(deps, message);
  } catch (err) {
    if (isTransientStoreFailure(err)) throw err;
    return recordFailure(deps, message, err);
  }
}

async function recordFailure(deps: BusDeps, message: BusMessage, err: unknown): Promise<BusIngestResult> {
  const messageId = message.ok ? message.envelope.id : message.messageId;
  const topic = message.ok ? message.envelope.topic : message.topic;
  const bare = bareTopic(topic);
  // Failed after its event was recorded (appending results that waited for it): that record stands.
  const known = await deps.events.find(messageId);
  if (known) {
    deps.count?.(bare, known.status);
    return { messageId, topic, bareTopic: bare, outcome: known.status, reason: known.reason, artifactId: known.artifactId };
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  // Error texts may quote the message's own content, lone surrogates included.
  const reason = wellFormedText(`could not be applied: ${what.length > 500 ? what.slice(0, 500) + "..." : what}`);
  let envelope: string;
  try {
    envelope = message.ok ? renderEnvelopeJson(message.envelope) : message.raw;
  } catch {
    envelope = "";
  }
  const recorded = await deps.events.record({ messageId, topic, bareTopic: bare, status: "rejected", reason, artifactId: null, nvr: null, parsed: message.ok && envelope !== "", envelope });
  const outcome: BusOutcome = recorded === "duplicate" ? "duplicate" : "rejected";
  deps.count?.(bare, outcome);
  return { messageId, topic, bareTopic: bare, outcome, reason, artifactId: null };
}

async function applyMessage(deps: BusDeps, message: BusMessage): Promise<BusIngestResult> {
  const messageId = message.ok ? message.envelope.id : message.messageId;
  const topic = message.ok ? message.envelope.topic : message.topic;
  const bare = bareTopic(topic);
  const done = (outcome: BusOutcome, reason: string, artifactId: string | null): BusIngestResult => {
    deps.count?.(bare, outcome);
    return { messageId, topic, bareTopic: bare, outcome, reason, artifactId };
  };

  const known = await deps.events.countDelivery(messageId);
  if (known) return done("duplicate", `message ${messageId} was received before (${known.status}: ${known.reason}); not applied again`, known.artifactId);
  // Rendered before any effect: content that cannot be rendered fails the message with nothing applied.
  const envelopeText = message.ok ? renderEnvelopeJson(message.envelope) : message.raw;

  const effect = message.ok ? mapEnvelope(message.envelope, deps.mapping) : undefined;
  if (message.ok && effect && isObservedEffect(effect)) {
    // State the bus observes (shadow repository, Koji tags) is written in the event's own
    // transaction: once the message is acked, the shadow writer will find its commit queued.
    const envelope = message.envelope;
    const now = new Date();
    const recorded = await deps.events.recordWith(
      { messageId, topic, bareTopic: bare, parsed: true, envelope: envelopeText },
      (tx) => applyObserved(deps, tx, envelope, effect, now),
      now,
    );
    if (recorded.status === "duplicate") return done("duplicate", `message ${messageId} was recorded concurrently; not recorded again`, null);
    if (recorded.outcome.status === "accepted" && effect.kind === "waiver") await rerunWaived(deps, effect.nvr);
    else if (recorded.outcome.status === "accepted" && effect.kind !== "kojiTag" && effect.kind !== "distgitBranch" && effect.kind !== "distgitRepo" && effect.kind !== "sideTag") deps.onShadowChange?.();
    if (recorded.outcome.status === "accepted" && (effect.kind === "distgitBranch" || effect.kind === "distgitRepo" || effect.kind === "sideTag")) deps.onObserved?.();
    return done(recorded.outcome.status, recorded.outcome.reason, recorded.outcome.artifactId);
  }

  const applied: Applied = effect
    ? await applyEffect(deps, effect)
    : { status: "rejected", reason: message.ok ? "not mapped" : describeIssues(message.issues), artifactId: null, nvr: null };

  const recorded = await deps.events.record({
    messageId,
    topic,
    bareTopic: bare,
    status: applied.status,
    reason: applied.reason,
    artifactId: applied.artifactId,
    nvr: applied.nvr,
    parsed: message.ok,
    envelope: envelopeText,
  });
  // Another consumer recorded it between our look-up and insert; the effect is idempotent.
  if (recorded === "duplicate") return done("duplicate", `message ${messageId} was recorded concurrently; not recorded again`, applied.artifactId);

  if (applied.created) await applyWaitingResults(deps, applied.created);
  return done(applied.status, applied.reason, applied.artifactId);
}

/** An AMQP delivery, from bytes to a durable effect. */
export function ingestBusDelivery(deps: BusDeps, delivery: AmqpDelivery): Promise<BusIngestResult> {
  return ingestBusMessage(deps, busMessageOfDelivery(delivery));
}

function describeIssues(issues: FieldIssue[]): string {
  const [first, ...rest] = issues;
  if (!first) return "not a fedora-messaging message";
  return `${first.path} ${first.message}${rest.length > 0 ? ` (and ${rest.length} more)` : ""}`;
}

async function applyEffect(deps: BusDeps, effect: BusEffect): Promise<Applied> {
  switch (effect.kind) {
    case "ignored":
      return { status: effect.kind, reason: effect.reason, artifactId: null, nvr: null };
    case "bodhiUpdate":
    case "kojiTag":
    case "compose":
    case "waiver":
    case "scmTicket":

    case "distgitBranch":
    case "distgitRepo":
    case "calendarEntry":
    case "sideTag":
      throw new Error(`${effect.kind} effects are applied in the event's transaction`);
    case "rejected":
      return { status: "rejected", reason: `${effect.path} ${effect.reason}`, artifactId: null, nvr: null };
    case "artifact": {
      const artifact = effect.artifact;
      const nvr = artifact.items.find((i) => i.kind === "koji-build")?.nvr ?? null;
      // The mapping's options carry the Rawhide version the ingest rules read.
      const outcome = await pushArtifact({ pushes: deps.pushes ?? { submit: (a) => deps.artifacts.ingest(a) }, rules: deps.mapping }, BUS_PRINCIPAL, artifact);
      switch (outcome.status) {
        case "created":
          return { status: "accepted", reason: `created artifact ${artifact.id}`, artifactId: artifact.id, nvr, created: nvr ? [nvr] : [] };
        case "unchanged":
          return { status: "accepted", reason: `artifact ${artifact.id} was already stored, identical; nothing changed`, artifactId: artifact.id, nvr };
        case "conflict":
          return {
            status: "rejected",
            reason: `artifact ${artifact.id} is already stored with another body (digest ${outcome.existingDigest}); artifacts are immutable`,
            artifactId: artifact.id,
            nvr,
          };
        case "forbidden":
        case "rule-broken":
          return { status: "rejected", reason: outcome.reason, artifactId: null, nvr };
      }
      break;
    }
    case "results":
      return appendToArtifacts(deps, effect.nvr, effect.results);
  }
  throw new Error("unreachable");
}

/** Appends results to every artifact that carries the NVR; none yet → the message waits. */
async function appendToArtifacts(deps: BusDeps, nvr: string, results: CiResultItem[]): Promise<Applied> {
  const page = await deps.artifacts.list({ nvr, limit: MAX_ARTIFACTS_PER_NVR });
  if (page.items.length === 0) {
    return { status: "waiting", reason: `no artifact carries ${nvr} yet; the result is kept and appended when one arrives`, artifactId: null, nvr };
  }
  const notes: string[] = [];
  let appendedTo: string | null = null;
  for (const { artifact } of page.items) {
    const outcome = await appendResults(deps, BUS_PRINCIPAL, artifact.id, results);
    switch (outcome.status) {
      case "appended":
        appendedTo ??= artifact.id;
        notes.push(
          outcome.added + outcome.updated > 0
            ? `appended to ${artifact.id} (${outcome.added} added, ${outcome.updated} updated)`
            : `already on ${artifact.id}, unchanged`,
        );
        break;
      case "too-many":
        notes.push(`not appended to ${artifact.id}: it has the maximum of ${outcome.limit} results`);
        break;
      case "not-found":
        notes.push(`not appended to ${artifact.id}: it is gone`);
        break;
      case "forbidden":
        notes.push(`not appended to ${artifact.id}: ${outcome.reason}`);
        break;
    }
  }
  return appendedTo
    ? { status: "accepted", reason: notes.join("; "), artifactId: appendedTo, nvr }
    : { status: "rejected", reason: notes.join("; "), artifactId: null, nvr };
}

/**
 * Appends the results that were waiting for a build, now that an artifact carries it: for the
 * given NVRs (an artifact just mirrored), or for every NVR that has an artifact by now (a
 * periodic sweep also finds the artifacts CI pushed through the API). Returns how many settled.
 */
export async function applyWaitingResults(deps: BusDeps, nvrs?: string[]): Promise<number> {
  const waiting = nvrs ? await deps.events.waitingFor(nvrs) : await deps.events.waitingWithArtifacts();
  let settled = 0;
  for (const event of waiting) {
    const parsed = JSON.parse(event.envelope) as Envelope;
    const effect = mapEnvelope(parsed, deps.mapping);
    if (effect.kind !== "results") continue;
    const applied = await appendToArtifacts(deps, effect.nvr, effect.results);
    if (applied.status === "waiting") continue;
    const reason = `${applied.reason} (waited since ${event.receivedAt.toISOString()})`;
    if (await deps.events.settle(event.messageId, { status: applied.status, reason, artifactId: applied.artifactId })) settled++;
  }
  return settled;
}

// --- what the bus observes: the shadow repository and Koji tags --------------------------------

const observedKinds = ["bodhiUpdate", "kojiTag", "compose", "waiver", "scmTicket", "distgitBranch", "distgitRepo", "calendarEntry", "sideTag"] as const;
type ObservedEffect = Extract<BusEffect, { kind: (typeof observedKinds)[number] }>;

function isObservedEffect(effect: BusEffect): effect is ObservedEffect {
  return (observedKinds as readonly string[]).includes(effect.kind);
}

function applyObserved(deps: BusDeps, tx: Tx, envelope: Envelope, effect: ObservedEffect, now: Date): Promise<BusEventOutcome> {
  switch (effect.kind) {
    case "kojiTag":
      return observeTag(deps, tx, envelope, effect.change, now);
    case "compose":
      return queueCompose(deps, tx, envelope, effect.compose, now);
    case "bodhiUpdate":
      return mirrorBodhiUpdate(deps, tx, envelope, effect.update, now);
    case "waiver":
      return recordWaiver(deps, tx, envelope, effect.nvr, effect.waiver, now);
    case "scmTicket":
      return mirrorScmTicket(deps, tx, envelope, effect.ticket, now);

    case "distgitBranch":
      return observeDistgitBranch(deps, tx, envelope, effect.branch, now);
    case "distgitRepo":
      return observeDistgitRepo(deps, tx, envelope, effect.repo, now);
    case "calendarEntry":
      return mirrorCalendarEntry(deps, tx, envelope, effect.meeting, now);
    case "sideTag": {
      const change = effect.kojiTag;
      return observeSideTag(deps, tx, envelope, effect.sideTag, now, change ? () => observeTag(deps, tx, envelope, change, now) : undefined);
    }
  }
}

/**
 * A WaiverDB waiver is kept for its build, not for the artifacts that carry it now: an artifact
 * pushed later with the build finds it too.
 */
async function recordWaiver(deps: BusDeps, tx: Tx, envelope: Envelope, nvr: string, waiver: BusWaiver, now: Date): Promise<BusEventOutcome> {
  // In the event's transaction: a redelivered message adds no second waiver.
  await deps.events.waivers.createIn(tx, { ...waiver, waivedAt: waiver.waivedAt ?? now, artifactId: null, nvr, source: "waiverdb", messageId: envelope.id }, now);
  const carrying = await tx.selectFrom("ArtifactBuild").select("artifactId").where("nvr", "=", nvr).orderBy("id", "desc").limit(MAX_ARTIFACTS_PER_NVR).execute();
  const what = `${waiver.waived ? "waiver" : "revocation of the waiver"} of ${waiver.testcase}${waiver.scenario ? ` (scenario ${waiver.scenario})` : ""} for ${nvr}`;
  const by = waiver.waived ? describeWaiver(waiver) : `by ${waiver.username}: ${waiver.comment}`;
  const where = carrying.length > 0 ? `; policies run again on ${carrying.map((c) => c.artifactId).join(", ")}` : `; no artifact carries ${nvr} yet, one pushed later finds it`;
  return { status: "accepted", reason: `${what} recorded (${by})${where}`, artifactId: carrying[0]?.artifactId ?? null, nvr };
}

/** The policies decide again on every artifact that carries a build whose waivers changed. */
async function rerunWaived(deps: BusDeps, nvr: string): Promise<void> {
  const page = await deps.artifacts.list({ nvr, limit: MAX_ARTIFACTS_PER_NVR });
  for (const { artifact } of page.items) await deps.policyEvent?.(artifact.id, "waiver");
}

async function observeTag(deps: BusDeps, tx: Tx, envelope: Envelope, change: KojiTagChange, now: Date): Promise<BusEventOutcome> {
  // Koji's own time orders the changes of one build; a message without one counts as now.
  const at = sentAt(envelope) ?? now;
  const outcome = await deps.events.kojiTags.observeIn(tx, change, at, envelope.id, now);
  if (outcome.status === "stale") {
    const newer = `${outcome.newer.tagged ? "tagged" : "untagged"} at ${outcome.newer.eventAt.toISOString()} by message ${outcome.newer.messageId}`;
    return { status: "ignored", reason: `older than what is observed of ${change.nvr} in ${change.tag} (${newer}); not applied`, artifactId: null, nvr: change.nvr };
  }
  const what = change.action === "tag" ? `${change.nvr} tagged into ${change.tag}` : `${change.nvr} untagged from ${change.tag}`;
  const before = outcome.wasTagged === null ? "first seen" : outcome.wasTagged ? "was tagged" : "was untagged";
  return { status: "accepted", reason: `observed: ${what} (${before})`, artifactId: null, nvr: change.nvr };
}

async function queueCompose(deps: BusDeps, tx: Tx, envelope: Envelope, compose: ComposeDone, now: Date): Promise<BusEventOutcome> {
  const doc = buildComposeRequest(compose.spec, {});
  let path: string;
  try {
    path = composeRequestPath(compose.spec);
  } catch (err) {
    if (err instanceof UnsafePathError) return { status: "rejected", reason: `/body/compose_id ${err.message}`, artifactId: null, nvr: null };
    throw err;
  }
  const problems = documentProblems(doc);
  const message = renderShadowCommitMessage({
    subject: `compose: ${compose.composeId} ${compose.status === "FINISHED" ? "finished" : "finished incomplete"}`,
    messageId: envelope.id,
    topic: envelope.topic,
    composeId: compose.composeId,
    composeStatus: compose.status,
    nvrs: [],
    problems: problems ? [problems] : [],
  });
  await deps.events.shadow.queueIn(
    tx,
    { messageId: envelope.id, topic: envelope.topic, kind: "compose", branch: SHADOW_MAIN, alias: null, path, content: renderComposeRequest(doc), message, mergeMessage: null },
    now,
  );
  return { status: "accepted", reason: `compose ${compose.composeId} ${compose.status}: ${path} queued for the shadow repository's ${SHADOW_MAIN}`, artifactId: null, nvr: null };
}

const STATE_AFTER: Record<BodhiUpdateMessage["action"], ShadowState> = { update: "open", merge: "merged", close: "closed" };

/**
 * A Bodhi update's message becomes a commit on its merge request `mr/<alias>` (the message's
 * fields merged onto the document mirrored so far); pushed to stable, the merge request is also
 * merged into main; obsoleted, revoked or unpushed, it is closed (the branch stays). A message
 * about a closed or merged update opens it again, as a new request in Bodhi does.
 */
async function mirrorBodhiUpdate(deps: BusDeps, tx: Tx, envelope: Envelope, update: BodhiUpdateMessage, now: Date): Promise<BusEventOutcome> {
  const shadow = deps.events.shadow;
  const current = await shadow.updateIn(tx, update.alias);
  const next = nextBodhiSpec(current?.spec, update);
  if (!next.ok) return { status: "rejected", reason: `${next.path} ${next.reason}`, artifactId: null, nvr: null };
  let path: string;
  try {
    // Fixed when first seen: a later message listing the builds in another order keeps the file where it is.
    path = current?.path ?? bodhiUpdatePath(next.spec);
  } catch (err) {
    if (err instanceof UnsafePathError) return { status: "rejected", reason: `/body/update ${err.message}`, artifactId: null, nvr: null };
    throw err;
  }
  const branch = mergeRequestBranch(update.alias);
  const state = STATE_AFTER[update.action];
  const builds = next.spec.builds.join(", ");
  const common = { messageId: envelope.id, topic: envelope.topic, alias: update.alias, nvrs: next.spec.builds };
  const message = renderShadowCommitMessage({
    ...common,
    subject: `bodhi: ${update.alias} ${update.summary} (${builds.length > 120 ? builds.slice(0, 117) + "..." : builds})`,
    ...(update.closure ? { closed: update.closure } : {}),
    problems: next.problems,
  });
  const mergeMessage = update.action === "merge" ? renderShadowMergeMessage({ ...common, branch, summary: update.summary }) : null;

  await shadow.saveUpdateIn(
    tx,
    current,
    {
      alias: update.alias,
      release: current?.release ?? next.spec.release,
      path,
      state,
      spec: next.spec,
      problems: next.problems,
      closedReason: update.closure ?? null,
      lastMessageId: envelope.id,
      mergedAt: update.action === "merge" ? now : (current?.mergedAt ?? null),
      closedAt: update.action === "close" ? now : null,
    },
    now,
  );
  await shadow.queueIn(
    tx,
    { messageId: envelope.id, topic: envelope.topic, kind: update.action, branch, alias: update.alias, path, content: renderBodhiUpdate(buildBodhiUpdate(next.spec, {})), message, mergeMessage },
    now,
  );
  const reopened = current && current.state !== "open" && state === "open" ? `; reopens the ${current.state} merge request` : "";
  const effect =
    update.action === "merge" ? `a commit on ${branch} and its merge into ${SHADOW_MAIN} queued` : update.action === "close" ? `a commit closing ${branch} (${update.closure}) queued` : `a commit on ${branch} queued`;
  const misfits = next.problems.length > 0 ? `; relengd/v1 cannot hold all of it: ${next.problems[0]}${next.problems.length > 1 ? ` (and ${next.problems.length - 1} more)` : ""}` : "";
  return { status: "accepted", reason: `${update.alias} ${update.summary}: ${effect}${reopened}${misfits}`, artifactId: null, nvr: null };
}
