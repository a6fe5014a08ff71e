// What a Fedora message-bus message means to relengd: an artifact, results to append, or nothing (and why). Pure.
import { z } from "zod";
import { isWellFormedText, NOT_WELL_FORMED, wellFormedString, describeValue } from "./text.js";
import { fieldErrorMap } from "./fieldIssues.js";
import {
  ciOutcomes,
  KOJI_TAG_PATTERN,
  PACKAGE_PATTERN,
  parseArtifact,
  TESTCASE_PATTERN,
  type Artifact,
  type CiOutcome,
  type CiResultItem,
  type KojiBuildItem,
} from "./artifact.js";
import {
  BODHI_ALIAS_PATTERN,
  BODHI_RELEASE_PATTERN,
  bodhiSeverities,
  bodhiUpdateSpecSchema,
  bodhiUpdateTypes,
  type BodhiUpdateDocument,
} from "./documents/bodhiUpdate.js";
import { COMPOSE_LABEL_PATTERN, type ComposeRequestDocument } from "./documents/composeRequest.js";
import { distTagOf } from "./artifactRules.js";
import { sentAt, splitTopic, type Envelope } from "./envelope.js";
import type { Waiver } from "./gating.js";
import { parseNvr, renderNvr } from "./nvr.js";
import { mapScmTicketMessage, type ScmTicketMessage } from "./scmTicket.js";

import { isDistgitTopic, mapDistgitMessage, type DistgitBranchCreated, type DistgitRepoCreated } from "./distgitEvents.js";
import { isFedocalTopic, mapFedocal, type FedocalMeeting } from "./fedocalEvents.js";
import { isSideTagMessage, mapSideTagMessage, type SideTagSeen } from "./sideTagEvents.js";

/** What became of a message, as the event log and the metrics say it. */
export const busEventStatuses = [
  /** Its effect is in the store (an artifact, or results appended). */
  "accepted",
  /** A result about a build no artifact carries yet; kept and appended when one arrives. */
  "waiting",
  /**
   * Recorded by versions of relengd that recognised a topic (Bodhi updates, Koji tags, composes)
   * before they mapped it; nothing is deferred any more, the status stays readable.
   */
  "deferred",
  /** Nothing to do: a topic relengd does not map, or a state it does not act on. */
  "ignored",
  /** Malformed: not an envelope, or a field the mapping needs is missing or wrong. */
  "rejected",
] as const;
export type BusEventStatus = (typeof busEventStatuses)[number];
/** Outcomes counted per delivery: a message seen before is a duplicate and is not applied again. */
export const busOutcomes = [...busEventStatuses, "duplicate"] as const;
export type BusOutcome = (typeof busOutcomes)[number];

/** Rawhide's version now; the shipped policies/environments.yaml tags rawhide builds into f45. */
export const DEFAULT_RAWHIDE_VERSION = 45;

export interface MappingOptions {
  /**
   * The Fedora version that is Rawhide now (45 while f45 is Rawhide): a build with dist tag
   * fcN, N at or above it, belongs to release `rawhide`; below it, to `fN`.
   */
  rawhideVersion: number;
}

export type BusEffect =
  | { kind: "artifact"; artifact: Artifact }
  | { kind: "results"; nvr: string; results: CiResultItem[] }
  /** WaiverDB waived (or revoked the waiver of) a result of a build: every artifact carrying it. */
  | { kind: "waiver"; nvr: string; waiver: BusWaiver }
  /** A change to a Bodhi update: a commit on its merge request in the shadow repository. */
  | { kind: "bodhiUpdate"; update: BodhiUpdateMessage }
  /** A build tagged into or untagged from a Koji tag: the observed tag state. */
  | { kind: "kojiTag"; change: KojiTagChange }
  /** A compose Pungi finished: a ComposeRequest on the shadow repository's main branch. */
  | { kind: "compose"; compose: ComposeDone }
  /** A releng/fedora-scm-requests ticket filed, edited or commented: its merge request in the shadow repository. */
  | { kind: "scmTicket"; ticket: ScmTicketMessage }

  /** issue 17 T: a dist-git branch created (a fact), a fedocal meeting (a CalendarEntry on the shadow main), a Koji side tag seen. */
  | { kind: "distgitBranch"; branch: DistgitBranchCreated }
  | { kind: "distgitRepo"; repo: DistgitRepoCreated }
  | { kind: "calendarEntry"; meeting: FedocalMeeting }
  | { kind: "sideTag"; sideTag: SideTagSeen; kojiTag?: KojiTagChange }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; path: string; reason: string };

/**
 * The commit id used when a build message names no source commit (fedmsg-era messages carry
 * no SCM URL): git's null object id, which no commit can have. The artifact's context then says
 * `SOURCE_SHA: unknown`.
 */
export const UNKNOWN_SHA = "0".repeat(40);

// Koji's build states (koji.BUILD_STATES).
const KOJI_BUILD_STATES = ["BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"] as const;
const COMPLETE = 1;

/** A waiver as WaiverDB announces it; without a sent-at header, its time is when relengd received it. */
export type BusWaiver = Omit<Waiver, "waivedAt"> & { waivedAt?: Date };

/** Maps one envelope; never throws (a mapping bug becomes a rejection naming it). */
export function mapEnvelope(envelope: Envelope, options: MappingOptions): BusEffect {
  try {
    return mapTopic(envelope, options);
  } catch (err) {
    return { kind: "rejected", path: "/body", reason: `mapping failed: ${(err as Error).message}` };
  }
}

function mapTopic(envelope: Envelope, options: MappingOptions): BusEffect {
  const { prefix, topic } = splitTopic(envelope.topic);
  if (topic === "buildsys.build.state.change") {
    if (prefix !== null && !prefix.startsWith("org.fedoraproject.")) {
      return { kind: "ignored", reason: `a build in ${prefix}* Koji, not Fedora's` };
    }
    return mapBuildStateChange(envelope.body, prefix === "org.fedoraproject.stg." ? "stg" : "prod", options);
  }
  // A result's own time orders it against the other results of its testcase (Greenwave's rule).
  const sent = sentAt(envelope);
  if (topic === "resultsdb.result.new") return mapResultsdbResult(envelope.body, sent);
  const modern = /^ci\.([a-z0-9-]+)\.test\.(complete|error|queued|running)$/.exec(topic);
  if (modern) return mapCiTestMessage(envelope.body, modern[1] as string, modern[2] as string, sent);
  if (/^ci\.pipeline\..+\.test\.[a-z0-9_-]+\.(complete|error)$/.test(topic)) return mapLegacyPipelineResult(envelope.body, envelope.topic, sent);
  if (topic === "waiverdb.waiver.new") {
    if (prefix !== null && prefix !== "org.fedoraproject.prod.") return { kind: "ignored", reason: `a waiver in ${prefix}* WaiverDB, not Fedora's production WaiverDB` };
    return mapWaiver(envelope.body, sent);
  }
  if (topic === "pungi.compose.status.change") return mapComposeStatus(envelope.body, options);
  if (isSideTagMessage(topic, envelope.body)) return mapSideTagMessage(prefix, topic, envelope.body, mapTagChange, (e) => (e.kind === "kojiTag" ? e.change : undefined));
  if (isDistgitTopic(envelope.topic)) return mapDistgitMessage(envelope.topic, envelope.body);
  if (isFedocalTopic(envelope.topic)) return mapFedocal(envelope.topic, envelope.body);
  if (topic === "buildsys.tag" || topic === "buildsys.untag") {
    if (prefix !== null && prefix !== "org.fedoraproject.prod.") return { kind: "ignored", reason: `a tag change in ${prefix}* Koji, not Fedora's production Koji` };
    return mapTagChange(envelope.body, topic === "buildsys.tag" ? "tag" : "untag");
  }
  if (topic.startsWith("bodhi.update.")) {
    if (prefix !== null && prefix !== "org.fedoraproject.prod.") return { kind: "ignored", reason: `an update in ${prefix}* Bodhi, not Fedora's production Bodhi` };
    return mapBodhiUpdate(envelope.body, topic);
  }
  const scm = mapScmTicketMessage(envelope.topic, envelope.body);
  if (scm) return scm;
  return { kind: "ignored", reason: `topic ${topic} is not one relengd maps` };
}

const positiveInt = z.number().int().positive();
const shortText = (max: number) => wellFormedString().min(1).max(max);

const buildStateChangeSchema = z.object({
  build_id: positiveInt,
  name: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name"),
  version: shortText(255),
  release: shortText(255),
  // Imported builds have no task.
  task_id: positiveInt.nullish(),
  owner: z.unknown().optional(),
  instance: wellFormedString().nullish(),
  url: wellFormedString().nullish(),
  request: z.array(z.unknown()).nullish(),
  task: z.object({ request: z.array(z.unknown()).nullish() }).nullish(),
});

/**
 * `buildsys.build.state.change` with new = COMPLETE → a `mirror` artifact with one koji-build
 * item. The artifact is a function of the build alone (not of the message), so the same build
 * seen in two messages is the same artifact.
 */
function mapBuildStateChange(body: Record<string, unknown>, instance: "prod" | "stg", options: MappingOptions): BusEffect {
  const state = body.new;
  if (typeof state !== "number" || !Number.isInteger(state)) return { kind: "rejected", path: "/body/new", reason: "must be a Koji build state number" };
  if (state !== COMPLETE) {
    return { kind: "ignored", reason: `build state ${KOJI_BUILD_STATES[state] ?? state}; only COMPLETE builds become artifacts` };
  }
  const parsed = buildStateChangeSchema.safeParse(body, { error: fieldErrorMap });
  if (!parsed.success) return rejectedBy(parsed.error, "/body");
  const b = parsed.data;
  if (b.instance && b.instance !== "primary") return { kind: "ignored", reason: `a build on the ${b.instance} Koji instance, not the primary one` };

  const nvrText = `${b.name}-${b.version}-${b.release}`;
  const nvr = parseNvr(nvrText);
  if (!nvr.ok) return { kind: "rejected", path: "/body/release", reason: `NVR ${nvrText} ${nvr.reason}` };
  // A dash inside version or release would shift the split: bash + 5.2 + 1-2.fc41 is not bash-5.2-1 + 2.fc41.
  if (nvr.nvr.name !== b.name || nvr.nvr.version !== b.version || nvr.nvr.release !== b.release || nvr.nvr.epoch !== undefined) {
    const field = nvr.nvr.release !== b.release ? "release" : nvr.nvr.version !== b.version ? "version" : "name";
    return { kind: "rejected", path: `/body/${field}`, reason: `must not contain a dash or colon (NVR ${nvrText} would not split back into name ${b.name}, version ${b.version}, release ${b.release})` };
  }
  const release = releaseOfDistTag(b.release, options);
  if (!release) return { kind: "ignored", reason: `release ${b.release} carries no Fedora or EPEL dist tag (fcN, elnN, elN); not a build relengd tracks` };

  // A build task's request is [source, target, options].
  const request = b.request ?? b.task?.request ?? [];
  const scm = scmSource([request[0]]);
  const requestedTarget = request[1];
  const target = scm && typeof requestedTarget === "string" && KOJI_TAG_PATTERN.test(requestedTarget) ? requestedTarget : undefined;
  const owner = typeof b.owner === "string" && b.owner.length > 0 && b.owner.length <= 128 ? b.owner : undefined;
  const item: KojiBuildItem = {
    kind: "koji-build",
    nvr: renderNvr({ name: nvr.nvr.name, version: nvr.nvr.version, release: nvr.nvr.release }),
    buildId: b.build_id,
    ...(b.task_id ? { taskId: b.task_id } : {}),
    ...(target ? { target } : {}),
    ...(owner ? { owner } : {}),
  };
  const sha = scm?.sha ?? UNKNOWN_SHA;
  const url = httpUrl(b.url);
  const candidate = {
    id: instance === "prod" ? `koji-build-${b.build_id}` : `koji-build-${instance}-${b.build_id}`,
    package: b.name,
    release,
    source: {
      repo: scm?.repo ?? `https://src.fedoraproject.org/rpms/${b.name}.git`,
      sha,
      event: "mirror",
      ...(url ? { url } : {}),
    },
    items: [item],
    context: {
      KOJI_BUILD_ID: String(b.build_id),
      ...(sha === UNKNOWN_SHA ? { SOURCE_SHA: "unknown" } : {}),
    },
  };
  const artifact = parseArtifact(candidate);
  if (!artifact.ok) {
    const first = artifact.issues[0];
    return { kind: "rejected", path: "/body", reason: `the artifact it maps to is not valid: ${first?.path} ${first?.message}` };
  }
  return { kind: "artifact", artifact: artifact.value };
}

/**
 * The release of a build, from the dist tag in its Release field (see distTagOf):
 * - `fcN` → `rawhide` when N ≥ options.rawhideVersion, else `fN`;
 * - `elnN` → `eln`;
 * - `elN` → `epelN`, `elN_M` (EPEL 10 minor versions) → `epelN.M`, and EPEL Next's `elN.next`
 *   → `epelN-next`: on Fedora's Koji an elN dist tag is always an EPEL build;
 * - anything else (images, modules, no dist tag) → undefined.
 * The inverse of the ingest rule `dist-tag-mismatch`, so every mirrored build follows it.
 */
export function releaseOfDistTag(release: string, options: MappingOptions): string | undefined {
  const tag = distTagOf(release);
  if (!tag) return undefined;
  switch (tag.family) {
    case "fc":
      return tag.version >= options.rawhideVersion ? "rawhide" : `f${tag.version}`;
    case "eln":
      return "eln";
    case "el":
      return `epel${tag.major}${tag.minor === undefined ? "" : `.${tag.minor}`}${tag.next ? "-next" : ""}`;
  }
}

/**
 * The dist-git repository and commit of a Koji build request's SCM URL
 * (`git+https://src.fedoraproject.org/rpms/foo.git#<sha>`): the first candidate that is one.
 * A fragment that is not a commit id (a branch name) gives the repository without a sha.
 */
export function scmSource(candidates: unknown[]): { repo: string; sha?: string } | undefined {
  for (const c of candidates) {
    if (typeof c !== "string" || !c.includes("://") || c.length > 2048) continue;
    const hash = c.indexOf("#");
    const location = (hash === -1 ? c : c.slice(0, hash)).replace(/^git\+/, "").replace(/\?.*$/, "");
    const fragment = hash === -1 ? "" : c.slice(hash + 1);
    try {
      const u = new URL(location);
      if (!/^(https?|git|ssh):$/.test(u.protocol)) continue;
    } catch {
      continue;
    }
    const sha = /^[0-9a-fA-F]{7,64}$/.test(fragment) ? fragment.toLowerCase() : undefined;
    return sha ? { repo: location, sha } : { repo: location };
  }
  return undefined;
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 2048) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? value : undefined;
  } catch {
    return undefined;
  }
}

function rejectedBy(error: z.ZodError, base: string): BusEffect {
  const issue = error.issues[0];
  const path = base + (issue && issue.path.length > 0 ? "/" + issue.path.map(String).join("/") : "");
  return { kind: "rejected", path, reason: issue?.message ?? "is not valid" };
}

// --- results ---------------------------------------------------------------------------------

// ResultsDB's outcomes, and the extra ones Fedora's instance accepts.
function resultOutcome(value: unknown): { outcome: CiOutcome; note?: string } | undefined {
  if (typeof value !== "string") return undefined;
  const upper = value.toUpperCase();
  if ((ciOutcomes as readonly string[]).includes(upper)) return { outcome: upper as CiOutcome };
  // relengd's outcomes have no NOT_APPLICABLE; INFO neither gates nor fails, which is what it means.
  if (upper === "NOT_APPLICABLE") return { outcome: "INFO", note: "NOT_APPLICABLE" };
  return undefined;
}

/** A single value of a ResultsDB `data` field: v2 sends lists, older messages plain strings. */
function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resultFor(
  nvr: unknown,
  nvrPath: string,
  fields: {
    testcase: unknown;
    testcasePath: string;
    outcome: { outcome: CiOutcome; note?: string } | undefined;
    outcomePath: string;
    /** What the outcome field may say, for the rejection. */
    outcomeHint?: string;
    refUrl?: unknown;
    scenario?: unknown;
    note?: unknown;
    /** When the result was submitted: ResultsDB's submit_time, else the message's sent-at. */
    submittedAt?: Date | undefined;
  },
): BusEffect {
  if (typeof nvr !== "string" || nvr.length === 0) return { kind: "rejected", path: nvrPath, reason: "must be the NVR of a Koji build" };
  const parsed = parseNvr(nvr);
  if (!parsed.ok) return { kind: "rejected", path: nvrPath, reason: `NVR ${nvr} ${parsed.reason}` };
  if (typeof fields.testcase !== "string" || !TESTCASE_PATTERN.test(fields.testcase)) {
    return { kind: "rejected", path: fields.testcasePath, reason: "must be a testcase name" };
  }
  if (!fields.outcome) {
    return { kind: "rejected", path: fields.outcomePath, reason: `must be ${fields.outcomeHint ?? `one of ${ciOutcomes.join(", ")} (any case) or NOT_APPLICABLE`}` };
  }
  const refUrl = httpUrl(fields.refUrl);
  const scenario = typeof fields.scenario === "string" && fields.scenario.length > 0 ? fields.scenario.slice(0, 255) : undefined;
  const noteText = [fields.outcome.note, typeof fields.note === "string" ? fields.note : undefined].filter((n) => n && n.length > 0).join(": ");
  const result: CiResultItem = {
    kind: "ci-result",
    testcase: fields.testcase,
    outcome: fields.outcome.outcome,
    ...(refUrl ? { refUrl } : {}),
    ...(scenario ? { scenario } : {}),
    ...(noteText ? { note: noteText.slice(0, 4096) } : {}),
    ...(fields.submittedAt ? { submittedAt: fields.submittedAt.toISOString() } : {}),
  };
  return { kind: "results", nvr: renderNvr(parsed.nvr), results: [result] };
}

/**
 * `resultsdb.result.new`, in both shapes seen on the bus: the fedmsg-era
 * `{task: {type, item, name}, result: {outcome, log_url}}` and ResultsDB 2's
 * `{testcase: {name}, outcome, ref_url, data: {type: [..], item: [..]}}`. Only results about a
 * `koji_build` are about an artifact.
 */
function mapResultsdbResult(body: Record<string, unknown>, sent: Date | undefined): BusEffect {
  if (isObject(body.task)) {
    const task = body.task;
    if (task.type !== "koji_build") return { kind: "ignored", reason: `a result about a ${String(task.type)} (${String(task.item)}), not a koji_build` };
    const result = isObject(body.result) ? body.result : {};
    return resultFor(task.item, "/body/task/item", {
      testcase: task.name,
      testcasePath: "/body/task/name",
      outcome: resultOutcome(result.outcome),
      outcomePath: "/body/result/outcome",
      refUrl: result.log_url,
      submittedAt: resultsdbTime(result.submit_time) ?? sent,
    });
  }
  if (!isObject(body.data)) return { kind: "rejected", path: "/body/data", reason: "must hold the result's item and type (or /body/task, in the older shape)" };
  const type = firstOf(body.data.type);
  if (type !== "koji_build") return { kind: "ignored", reason: `a result about a ${String(type)} (${String(firstOf(body.data.item))}), not a koji_build` };
  const testcase = isObject(body.testcase) ? body.testcase.name : body.testcase;
  return resultFor(firstOf(body.data.item), "/body/data/item", {
    testcase,
    testcasePath: isObject(body.testcase) ? "/body/testcase/name" : "/body/testcase",
    outcome: resultOutcome(body.outcome),
    outcomePath: "/body/outcome",
    refUrl: body.ref_url,
    scenario: firstOf(body.data.scenario),
    note: body.note,
    submittedAt: resultsdbTime(body.submit_time) ?? sent,
  });
}

/**
 * ResultsDB's submit_time: `2019-04-24 13:06:12 UTC` in fedmsg-era messages, ISO 8601 without a
 * zone (UTC) in ResultsDB 2's. Undefined when it is neither.
 */
export function resultsdbTime(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?)(?: ?(UTC|Z|[+-][0-9]{2}:?[0-9]{2}))?$/.exec(value.trim());
  if (!m) return undefined;
  const zone = m[3] === undefined || m[3] === "UTC" ? "Z" : m[3];
  // Date.parse takes at most milliseconds.
  const time = (m[2] as string).replace(/(\.[0-9]{3})[0-9]+$/, "$1");
  const t = Date.parse(`${m[1]}T${time}${zone}`);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Fedora CI's messages (CI messages spec, `ci.<artifact type>.test.<state>`): the testcase is
 * `<test.namespace>.<test.type>.<test.category>`, as Fedora CI's ResultsDB listener names it
 * (`fedora-ci.koji-build.tier0.functional`). `.error` is an ERROR result; queued/running are
 * progress, not results.
 */
function mapCiTestMessage(body: Record<string, unknown>, artifactType: string, state: string, sent: Date | undefined): BusEffect {
  if (state === "queued" || state === "running") return { kind: "ignored", reason: `test ${state}: progress, not a result (only complete and error are recorded)` };
  if (artifactType !== "koji-build") return { kind: "ignored", reason: `a CI result about a ${artifactType}, not a koji-build` };
  if (!isObject(body.artifact)) return { kind: "rejected", path: "/body/artifact", reason: "must describe the tested koji-build" };
  if (body.artifact.scratch === true) return { kind: "ignored", reason: "a result about a scratch build, which is never an artifact" };
  if (!isObject(body.test)) return { kind: "rejected", path: "/body/test", reason: "must describe the test (namespace, type, category, result)" };
  const test = body.test;
  for (const field of ["namespace", "type", "category"] as const) {
    if (typeof test[field] !== "string" || test[field] === "") return { kind: "rejected", path: `/body/test/${field}`, reason: "must be a non-empty string" };
  }
  const testcase = `${String(test.namespace)}.${String(test.type)}.${String(test.category)}`;
  const error = isObject(body.error) ? body.error : undefined;
  const run = isObject(body.run) ? body.run : {};
  return resultFor(body.artifact.nvr, "/body/artifact/nvr", {
    testcase,
    testcasePath: "/body/test/namespace",
    outcome: state === "error" ? { outcome: "ERROR" } : resultOutcome(test.result),
    outcomePath: "/body/test/result",
    refUrl: run.url,
    scenario: test.scenario,
    note: state === "error" ? error?.reason : test.note,
    submittedAt: sent,
  });
}

// Jenkins' build results, as the CentOS CI pipelines (2017-2019) published them in `status`.
const PIPELINE_STATUS: Record<string, CiOutcome> = {
  SUCCESS: "PASSED",
  PASSED: "PASSED",
  FAILURE: "FAILED",
  FAILED: "FAILED",
  // Jenkins marks a build UNSTABLE when its tests failed.
  UNSTABLE: "FAILED",
  ABORTED: "ERROR",
  ERROR: "ERROR",
};

/**
 * The CentOS CI pipeline's results (`ci.pipeline.<pipeline>.<stage>.test.<category>.complete`):
 * the testcase is the full topic, as those results were named in ResultsDB and Greenwave
 * policies; results of scratch (pull-request) builds and of composes/images are not about a
 * Koji build artifact.
 */
function mapLegacyPipelineResult(body: Record<string, unknown>, fullTopic: string, sent: Date | undefined): BusEffect {
  if (body.scratch === true || body.scratch === "true") return { kind: "ignored", reason: "a result about a scratch build, which is never an artifact" };
  if (!("nvr" in body)) return { kind: "ignored", reason: "a pipeline result without an NVR (a compose or image test), not about a Koji build" };
  const status = typeof body.status === "string" ? PIPELINE_STATUS[body.status.toUpperCase()] : undefined;
  return resultFor(body.nvr, "/body/nvr", {
    testcase: fullTopic,
    testcasePath: "/topic",
    outcome: status ? { outcome: status } : undefined,
    outcomePath: "/body/status",
    outcomeHint: `a Jenkins result: one of ${Object.keys(PIPELINE_STATUS).join(", ")}`,
    refUrl: body.build_url,
    submittedAt: sent,
  });
}

// --- waivers (WaiverDB) -------------------------------------------------------------------

/**
 * `waiverdb.waiver.new`: WaiverDB's `{subject_type, subject_identifier, testcase, scenario?,
 * waived, username, comment, proxied_by?}` (older messages nest the subject as
 * `subject: {type, item}`). Only waivers of a `koji_build` are about an artifact; the oldest
 * messages name only a ResultsDB result id, which says nothing of the build.
 */
function mapWaiver(body: Record<string, unknown>, sent: Date | undefined): BusEffect {
  const subject = isObject(body.subject) ? body.subject : {};
  const type = body.subject_type ?? subject.type;
  if (type === undefined) {
    if (body.result_id !== undefined) return { kind: "ignored", reason: `a waiver of ResultsDB result ${describeValue(body.result_id)} (an old WaiverDB message): it names no build` };
    return { kind: "rejected", path: "/body/subject_type", reason: "must say what the waiver is about (koji_build)" };
  }
  const item = body.subject_identifier ?? subject.item;
  if (type !== "koji_build") return { kind: "ignored", reason: `a waiver of a ${describeValue(type)} (${describeValue(item)}), not a koji_build` };
  const itemPath = body.subject_identifier !== undefined ? "/body/subject_identifier" : "/body/subject/item";
  if (typeof item !== "string" || item.length === 0) return { kind: "rejected", path: itemPath, reason: "must be the NVR of a Koji build" };
  const nvr = parseNvr(item);
  if (!nvr.ok) return { kind: "rejected", path: itemPath, reason: `NVR ${item} ${nvr.reason}` };
  if (typeof body.testcase !== "string" || !TESTCASE_PATTERN.test(body.testcase)) return { kind: "rejected", path: "/body/testcase", reason: "must be a testcase name" };
  if (typeof body.waived !== "boolean") return { kind: "rejected", path: "/body/waived", reason: "must be true (waived) or false (the waiver revoked)" };
  if (typeof body.username !== "string" || body.username.length === 0 || body.username.length > 255) {
    return { kind: "rejected", path: "/body/username", reason: "must name who waived (1-255 characters)" };
  }
  // A lone UTF-16 surrogate cannot be stored: refused here, it is recorded rejected instead of failing the store (and coming back for ever).
  for (const field of ["username", "comment", "scenario"] as const) {
    if (typeof body[field] === "string" && !isWellFormedText(body[field])) return { kind: "rejected", path: `/body/${field}`, reason: NOT_WELL_FORMED };
  }
  const comment = typeof body.comment === "string" && body.comment.length > 0 ? body.comment.slice(0, 4096) : "(no comment)";
  const scenario = typeof body.scenario === "string" && body.scenario.length > 0 ? body.scenario.slice(0, 255) : undefined;
  return {
    kind: "waiver",
    nvr: renderNvr(nvr.nvr),
    waiver: { testcase: body.testcase, ...(scenario ? { scenario } : {}), waived: body.waived, comment, username: body.username, ...(sent ? { waivedAt: sent } : {}) },
  };
}

// --- Bodhi updates (the shadow repository's merge requests) ---------------------------------

/** What becomes of an update's merge request `mr/<alias>`: a commit, a merge into main, or its closure. */
export const bodhiActions = ["update", "merge", "close"] as const;
export type BodhiAction = (typeof bodhiActions)[number];
/** Bodhi requests that end an update's way to stable (bodhi.update.request.<closure>). */
export const bodhiClosures = ["obsolete", "revoke", "unpush"] as const;
export type BodhiClosure = (typeof bodhiClosures)[number];

export type BodhiUpdateSpec = BodhiUpdateDocument["spec"];

export interface BodhiUpdateMessage {
  alias: string;
  action: BodhiAction;
  /** Set when action is "close". */
  closure?: BodhiClosure;
  /** What happened, in words: the subject of the commit ("testing requested"). */
  summary: string;
  /** The update's fields this message tells; the others keep what was mirrored before. */
  fields: Partial<BodhiUpdateSpec>;
  /** Values Bodhi sent that relengd/v1 cannot hold (kept out of the document, said in the commit). */
  problems: string[];
}

/**
 * Bodhi's defaults for what a message does not tell (bodhi.server.schemas.SaveUpdateSchema):
 * the first message seen of an update may be a short one (bodhi.update.request.stable carries
 * alias, builds, release and request only).
 */
export const BODHI_DEFAULTS = {
  type: "unspecified",
  severity: "unspecified",
  notes: "",
  bugs: [],
  request: "testing",
  autokarma: true,
  stable_karma: 3,
  unstable_karma: -3,
  autotime: true,
  stable_days: 7,
} as const satisfies Partial<BodhiUpdateSpec>;

/** Bodhi update aliases (the document's own pattern) are also safe git branch names. */
export const BUS_ALIAS_PATTERN = BODHI_ALIAS_PATTERN;

const BODHI_TOPICS: Record<string, { action: BodhiAction; summary: string; request?: "testing" | "stable"; closure?: BodhiClosure }> = {
  "bodhi.update.request.testing": { action: "update", summary: "testing requested", request: "testing" },
  "bodhi.update.request.stable": { action: "update", summary: "stable requested", request: "stable" },
  "bodhi.update.complete.testing": { action: "update", summary: "pushed to testing", request: "testing" },
  "bodhi.update.complete.stable": { action: "merge", summary: "pushed to stable", request: "stable" },
  "bodhi.update.edit": { action: "update", summary: "edited" },
  "bodhi.update.request.obsolete": { action: "close", summary: "obsoleted", closure: "obsolete" },
  "bodhi.update.request.revoke": { action: "close", summary: "request revoked", closure: "revoke" },
  "bodhi.update.request.unpush": { action: "close", summary: "unpushed", closure: "unpush" },
};

/**
 * The bodhi.update.* topics that change an update (request, push, edit, closure), and the
 * status.testing.* messages Bodhi sends for CI when an update reaches testing (they carry the
 * builds and release, not the update's other fields). Comments, karma and the like change no
 * document.
 */
function mapBodhiUpdate(body: Record<string, unknown>, topic: string): BusEffect {
  const statusTesting = topic.startsWith("bodhi.update.status.testing.");
  const known = statusTesting ? { action: "update" as const, summary: "in testing", request: "testing" as const } : BODHI_TOPICS[topic];
  if (!known) return { kind: "ignored", reason: `${topic} does not change an update's document (only requests, pushes, edits and closures do)` };
  const update = isObject(body.update) ? body.update : undefined;
  const artifact = isObject(body.artifact) ? body.artifact : undefined;
  if (!update && !(statusTesting && artifact)) return { kind: "rejected", path: "/body/update", reason: "must describe the Bodhi update" };

  const alias = bodhiAlias(update, statusTesting ? artifact : undefined);
  if (alias.kind !== "found") return alias.effect;

  const problems: string[] = [];
  const fields: Partial<BodhiUpdateSpec> = {};
  // The release and builds place the document: wrong ones reject the message.
  const release = update && isObject(update.release) ? update.release.name : statusTesting ? bodhiReleaseOf(artifact?.release) : undefined;
  const releasePath = update && isObject(update.release) ? "/body/update/release/name" : "/body/artifact/release";
  if (release !== undefined) {
    if (typeof release !== "string" || !BODHI_RELEASE_PATTERN.test(release)) return { kind: "rejected", path: releasePath, reason: "must be a Bodhi release name like F44 or EPEL-9" };
    fields.release = release;
  }
  const buildList: { list: readonly unknown[]; path: string } | undefined = update && Array.isArray(update.builds) ? { list: update.builds, path: "/body/update/builds" } : artifact && Array.isArray(artifact.builds) ? { list: artifact.builds, path: "/body/artifact/builds" } : undefined;
  if (buildList && buildList.list.length > 0) {
    const builds: string[] = [];
    for (const [i, b] of buildList.list.entries()) {
      const nvr = isObject(b) ? b.nvr : b;
      const parsed = typeof nvr === "string" ? parseNvr(nvr) : undefined;
      if (!parsed?.ok) return { kind: "rejected", path: `${buildList.path}/${i}/nvr`, reason: parsed ? `NVR ${String(nvr)} ${parsed.reason}` : "must be the NVR of a Koji build" };
      builds.push(renderNvr(parsed.nvr));
    }
    fields.builds = builds.slice(0, 200);
    if (builds.length > 200) problems.push(`/spec/builds Bodhi lists ${builds.length} builds; relengd/v1 holds at most 200`);
  }

  if (update) readUpdateFields(update, fields, problems);
  const request = known.request ?? (topic === "bodhi.update.edit" && (update?.request === "testing" || update?.request === "stable") ? update.request : undefined);
  if (request) fields.request = request;
  return {
    kind: "bodhiUpdate",
    update: { alias: alias.alias, action: known.action, ...(known.closure ? { closure: known.closure } : {}), summary: known.summary, fields, problems },
  };
}

function bodhiAlias(update: Record<string, unknown> | undefined, artifact: Record<string, unknown> | undefined): { kind: "found"; alias: string } | { kind: "none"; effect: BusEffect } {
  let alias: unknown = update?.alias;
  let path = "/body/update/alias";
  // Bodhi 1 named an update by `updateid` (FEDORA-EPEL-2012-6650); Bodhi 2 sends both, equal.
  if ((alias === undefined || alias === null) && update && update.updateid !== undefined && update.updateid !== null) {
    alias = update.updateid;
    path = "/body/update/updateid";
  }
  if ((alias === undefined || alias === null) && artifact) {
    // CI's koji-build-group messages name the update by its URL (…/updates/<alias>) and their id (<alias>-<sha1>).
    const fromUrl = typeof artifact.repository === "string" ? /\/updates\/([A-Z][A-Za-z0-9-]{4,63})\/?$/.exec(artifact.repository)?.[1] : undefined;
    alias = fromUrl;
    path = "/body/artifact/repository";
  }
  if (alias === undefined || alias === null) {
    // Bodhi 1 gave an update its id only when it was first pushed; until then it had a title.
    if (update && typeof update.title === "string") {
      return {
        kind: "none",
        effect: {
          kind: "ignored",
          reason: `update ${update.title} has neither an alias nor an updateid (Bodhi 1 gave an update its id at its first push; status ${typeof update.status === "string" ? update.status : "unknown"}); the shadow repository names merge requests by that id`,
        },
      };
    }
    return { kind: "none", effect: { kind: "rejected", path, reason: "must name the update's alias (FEDORA-2019-6a5e0b8f19), or its updateid in a Bodhi 1 message" } };
  }
  if (typeof alias !== "string" || !BUS_ALIAS_PATTERN.test(alias)) return { kind: "none", effect: { kind: "rejected", path, reason: "must be a Bodhi update alias like FEDORA-2019-6a5e0b8f19" } };
  return { kind: "found", alias };
}

/** Fedora CI's release names (f34, epel8, eln) as Bodhi's (F34, EPEL-8, ELN). */
function bodhiReleaseOf(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const f = /^f([0-9]{1,3})$/.exec(value);
  if (f) return `F${f[1]}`;
  const epel = /^epel([0-9]{1,2}(?:\.[0-9]{1,2})?)$/.exec(value);
  if (epel) return `EPEL-${epel[1]}`;
  return value === "eln" ? "ELN" : undefined;
}

/** The update's own fields; a value relengd/v1 cannot hold is left out and named in `problems`. */
function readUpdateFields(update: Record<string, unknown>, fields: Partial<BodhiUpdateSpec>, problems: string[]): void {
  const misfit = (field: string, value: unknown, why: string) => problems.push(`/spec/${field} Bodhi says ${JSON.stringify(value)?.slice(0, 80)}; ${why}`);
  const has = (field: string) => update[field] !== undefined && update[field] !== null;
  if (has("type")) {
    if ((bodhiUpdateTypes as readonly unknown[]).includes(update.type)) fields.type = update.type as BodhiUpdateSpec["type"];
    else misfit("type", update.type, `relengd/v1 knows ${bodhiUpdateTypes.join(", ")}`);
  }
  if (has("severity")) {
    if ((bodhiSeverities as readonly unknown[]).includes(update.severity)) fields.severity = update.severity as BodhiUpdateSpec["severity"];
    else misfit("severity", update.severity, `relengd/v1 knows ${bodhiSeverities.join(", ")}`);
  }
  if (has("notes")) {
    if (typeof update.notes !== "string") misfit("notes", update.notes, "notes are text");
    else {
      fields.notes = update.notes.slice(0, 10_000);
      if (update.notes.length > 10_000) problems.push(`/spec/notes Bodhi's notes are ${update.notes.length} characters; relengd/v1 keeps the first 10000`);
    }
  }
  if (Array.isArray(update.bugs)) {
    // Bodhi 2+ sends {bug_id}, Bodhi 1 sent {bz_id}.
    const sent: readonly unknown[] = update.bugs;
    const bugs = sent.map((b) => (isObject(b) ? (b.bug_id ?? b.bz_id) : b));
    const ids = bugs.filter((b): b is number => typeof b === "number" && Number.isInteger(b) && b > 0);
    if (ids.length !== bugs.length) misfit("bugs", update.bugs, "bugs are Bugzilla numbers");
    fields.bugs = [...new Set(ids)].slice(0, 100);
  }
  const integer = (field: "stable_karma" | "unstable_karma" | "stable_days", min: number, max: number) => {
    if (!has(field)) return;
    const v = update[field];
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) fields[field] = v;
    else misfit(field, v, `relengd/v1 wants a whole number from ${min} to ${max}`);
  };
  integer("stable_karma", 1, 100);
  integer("unstable_karma", -100, -1);
  integer("stable_days", 0, 365);
  for (const field of ["autokarma", "autotime"] as const) {
    if (!has(field)) continue;
    if (typeof update[field] === "boolean") fields[field] = update[field];
    else misfit(field, update[field], "relengd/v1 wants true or false");
  }
  if (has("from_tag")) {
    if (typeof update.from_tag === "string" && KOJI_TAG_PATTERN.test(update.from_tag)) fields.from_tag = update.from_tag;
    else misfit("from_tag", update.from_tag, "relengd/v1 wants a Koji tag name");
  }
}

export type NextBodhiSpec = { ok: true; spec: BodhiUpdateSpec; problems: string[] } | { ok: false; path: string; reason: string };

/**
 * The update's document after a message: the message's fields over what was mirrored before
 * (or Bodhi's defaults, for the first message seen), in the schema's key order. `problems` says
 * where the result does not pass relengd/v1 — a real update the schema cannot express (Bodhi 1
 * updates of several builds had no side tag) is mirrored anyway: finding those is what the
 * shadow repository is for.
 */
export function nextBodhiSpec(previous: BodhiUpdateSpec | undefined, message: BodhiUpdateMessage): NextBodhiSpec {
  const merged = { ...BODHI_DEFAULTS, ...previous, ...message.fields, alias: message.alias };
  if (merged.release === undefined) return { ok: false, path: "/body/update/release", reason: `must name the update's release (nothing mirrored of ${message.alias} says it yet)` };
  if (merged.builds === undefined || merged.builds.length === 0) {
    return { ok: false, path: "/body/update/builds", reason: `must list the update's builds (nothing mirrored of ${message.alias} lists them yet)` };
  }
  const spec: BodhiUpdateSpec = {
    release: merged.release,
    builds: [...merged.builds],
    type: merged.type,
    severity: merged.severity,
    notes: merged.notes,
    bugs: [...merged.bugs],
    request: merged.request,
    autokarma: merged.autokarma,
    stable_karma: merged.stable_karma,
    unstable_karma: merged.unstable_karma,
    autotime: merged.autotime,
    stable_days: merged.stable_days,
    ...(merged.from_tag !== undefined ? { from_tag: merged.from_tag } : {}),
    alias: message.alias,
  };
  const checked = bodhiUpdateSpecSchema.safeParse(spec, { error: fieldErrorMap });
  const schemaProblems = checked.success ? [] : checked.error.issues.map((i) => `/spec${i.path.length > 0 ? "/" + i.path.map(String).join("/") : ""} ${i.message}`);
  return { ok: true, spec, problems: [...message.problems, ...schemaProblems] };
}

// --- Koji tags (observed state) --------------------------------------------------------------

export interface KojiTagChange {
  action: "tag" | "untag";
  tag: string;
  package: string;
  nvr: string;
  buildId?: number;
}

const tagChangeSchema = z.object({
  tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name"),
  name: wellFormedString().regex(PACKAGE_PATTERN, "must be a koji package name"),
  version: shortText(255),
  release: shortText(255),
  build_id: positiveInt.nullish(),
  instance: wellFormedString().nullish(),
});

/** `buildsys.tag` / `buildsys.untag`: a build entered or left a tag of the primary Koji. */
function mapTagChange(body: Record<string, unknown>, action: "tag" | "untag"): BusEffect {
  const parsed = tagChangeSchema.safeParse(body, { error: fieldErrorMap });
  if (!parsed.success) return rejectedBy(parsed.error, "/body");
  const b = parsed.data;
  // Secondary-architecture Kojis (s390, ppc) had tags of the same names.
  if (b.instance && b.instance !== "primary") return { kind: "ignored", reason: `a tag change on the ${b.instance} Koji instance, not the primary one` };
  const nvrText = `${b.name}-${b.version}-${b.release}`;
  const nvr = parseNvr(nvrText);
  if (!nvr.ok) return { kind: "rejected", path: "/body/release", reason: `NVR ${nvrText} ${nvr.reason}` };
  if (nvr.nvr.name !== b.name || nvr.nvr.version !== b.version || nvr.nvr.release !== b.release || nvr.nvr.epoch !== undefined) {
    return { kind: "rejected", path: "/body/version", reason: `must not contain a dash or colon (NVR ${nvrText} would not split back into name, version and release)` };
  }
  return {
    kind: "kojiTag",
    change: { action, tag: b.tag, package: b.name, nvr: renderNvr(nvr.nvr), ...(b.build_id ? { buildId: b.build_id } : {}) },
  };
}

// --- composes ----------------------------------------------------------------------------------

export interface ComposeDone {
  composeId: string;
  status: "FINISHED" | "FINISHED_INCOMPLETE";
  /** The ComposeRequest the compose answers, as relengd would have asked for it. */
  spec: ComposeRequestDocument["spec"];
}

/**
 * A productmd compose id: `<short>[-<variant>]-<version>-<date>[.<type>].<respin>`, as in
 * Fedora-Rawhide-20230502.n.0, Fedora-24-20151208.n.7, Fedora-Atomic-25-20170206.0 (no type
 * suffix: a production compose).
 */
const COMPOSE_ID = /^([A-Za-z][A-Za-z0-9]*)(?:-([A-Za-z][A-Za-z0-9_]*))?-(Rawhide|rawhide|ELN|eln|[0-9]{1,3})-([0-9]{8})(?:\.(n|t|ci))?\.([0-9]{1,4})$/;
const COMPOSE_TYPES = { n: "nightly", t: "test", ci: "test" } as const;

/** Release, type and label of a compose id (undefined when it is not one of Fedora's). */
export function parseComposeId(composeId: string, options: MappingOptions): { release: string; type: ComposeRequestDocument["spec"]["type"]; label: string } | undefined {
  const m = COMPOSE_ID.exec(composeId);
  if (!m) return undefined;
  const [, short, variant, version, date, type, respin] = m as unknown as [string, string, string | undefined, string, string, "n" | "t" | "ci" | undefined, string];
  if (short !== "Fedora") return undefined;
  const lower = version.toLowerCase();
  const release = lower === "rawhide" ? "rawhide" : lower === "eln" ? "eln" : Number(version) >= options.rawhideVersion ? "rawhide" : `f${Number(version)}`;
  // A variant (Atomic, Cloud, Docker) composes beside the main one on the same day: its label says which.
  const label = `${variant ? variant + "-" : ""}${date}${type ? "." + type : ""}.${respin}`;
  if (!COMPOSE_LABEL_PATTERN.test(label)) return undefined;
  return { release, type: type ? COMPOSE_TYPES[type] : "production", label };
}

/** `pungi.compose.status.change`: a FINISHED (or FINISHED_INCOMPLETE) compose is recorded as done. */
function mapComposeStatus(body: Record<string, unknown>, options: MappingOptions): BusEffect {
  const status = body.status;
  if (status !== "FINISHED" && status !== "FINISHED_INCOMPLETE") {
    return { kind: "ignored", reason: `compose status ${JSON.stringify(status)}; only FINISHED and FINISHED_INCOMPLETE composes are recorded` };
  }
  const composeId = body.compose_id;
  if (typeof composeId !== "string" || composeId.length === 0) return { kind: "rejected", path: "/body/compose_id", reason: "must be the compose id" };
  const parts = parseComposeId(composeId, options);
  if (!parts) return { kind: "ignored", reason: `compose ${composeId.slice(0, 128)} is not a Fedora compose id (Fedora[-Variant]-<version>-<date>[.n|.t].<respin>)` };
  return {
    kind: "compose",
    compose: {
      composeId,
      status,
      spec: { release: parts.release, type: parts.type, label: parts.label, reason: `mirrored: Pungi finished compose ${composeId} (${status})`, composeId },
    },
  };
}
