// Use case: one message from the Fedora message bus (or POST /api/v1/events) is mapped, its effect made durable, and the event recorded.
import type { CiResultItem, FieldIssue } from "../domain/artifact.js";
import { mapEnvelope, type BusEffect, type BusEventStatus, type BusOutcome, type MappingOptions } from "../domain/busMapping.js";
import {
  bareTopic,
  deliveryKey,
  MESSAGE_ID_PATTERN,
  parseAmqp,
  renderEnvelopeJson,
  type AmqpDelivery,
  type Envelope,
} from "../domain/envelope.js";
import type { Principal } from "../domain/token.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { BusEventRepository } from "../store/busEventRepository.js";
import { appendResults } from "./appendResults.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";
import { pushArtifact } from "./pushArtifact.js";

export interface BusDeps {
  artifacts: ArtifactRepository;
  events: BusEventRepository;
  /** Mirrored artifacts and appended results are news to the policies, as when CI pushes them. */
  policyEvent?: PolicyEventHandler;
  mapping: MappingOptions;
  /** Counts each message once per delivery (relengd_bus_messages_total). */
  count?: (bareTopic: string, outcome: BusOutcome) => void;
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
  const parsed = parseAmqp(delivery);
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
 */
export async function ingestBusMessage(deps: BusDeps, message: BusMessage): Promise<BusIngestResult> {
  const messageId = message.ok ? message.envelope.id : message.messageId;
  const topic = message.ok ? message.envelope.topic : message.topic;
  const bare = bareTopic(topic);
  const done = (outcome: BusOutcome, reason: string, artifactId: string | null): BusIngestResult => {
    deps.count?.(bare, outcome);
    return { messageId, topic, bareTopic: bare, outcome, reason, artifactId };
  };

  const known = await deps.events.countDelivery(messageId);
  if (known) return done("duplicate", `message ${messageId} was received before (${known.status}: ${known.reason}); not applied again`, known.artifactId);

  const applied: Applied = message.ok
    ? await applyEffect(deps, mapEnvelope(message.envelope, deps.mapping))
    : { status: "rejected", reason: describeIssues(message.issues), artifactId: null, nvr: null };

  const recorded = await deps.events.record({
    messageId,
    topic,
    bareTopic: bare,
    status: applied.status,
    reason: applied.reason,
    artifactId: applied.artifactId,
    nvr: applied.nvr,
    parsed: message.ok,
    envelope: message.ok ? renderEnvelopeJson(message.envelope) : message.raw,
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
    case "deferred":
      return { status: effect.kind, reason: effect.reason, artifactId: null, nvr: null };
    case "rejected":
      return { status: "rejected", reason: `${effect.path} ${effect.reason}`, artifactId: null, nvr: null };
    case "artifact": {
      const artifact = effect.artifact;
      const nvr = artifact.items.find((i) => i.kind === "koji-build")?.nvr ?? null;
      const outcome = await pushArtifact(deps, BUS_PRINCIPAL, artifact);
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
