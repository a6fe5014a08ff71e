// What a Fedora message-bus message means to relengd: an artifact, results to append, or nothing (and why). Pure.
import { z } from "zod";
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
import { splitTopic, type Envelope } from "./envelope.js";
import { parseNvr, renderNvr } from "./nvr.js";

/** What became of a message, as the event log and the metrics say it. */
export const busEventStatuses = [
  /** Its effect is in the store (an artifact, or results appended). */
  "accepted",
  /** A result about a build no artifact carries yet; kept and appended when one arrives. */
  "waiting",
  /** A topic relengd will map (shadow repo, Koji tag state, composes) but does not yet. */
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
  | { kind: "deferred"; reason: string }
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

// Topics the later parts of issue 5 map (shadow repo, observed Koji tags, composes).
const DEFERRED: { pattern: RegExp; becomes: string }[] = [
  { pattern: /^bodhi\.update\.(request\.(testing|stable|obsolete|revoke)|status\.testing\..+|complete\..+|edit)$/, becomes: "a BodhiUpdate merge request in the shadow repository" },
  { pattern: /^buildsys\.(tag|untag)$/, becomes: "the observed state of Koji tags" },
];

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
  if (topic === "resultsdb.result.new") return mapResultsdbResult(envelope.body);
  const modern = /^ci\.([a-z0-9-]+)\.test\.(complete|error|queued|running)$/.exec(topic);
  if (modern) return mapCiTestMessage(envelope.body, modern[1] as string, modern[2] as string);
  if (/^ci\.pipeline\..+\.test\.[a-z0-9_-]+\.(complete|error)$/.test(topic)) return mapLegacyPipelineResult(envelope.body, envelope.topic);
  if (topic === "pungi.compose.status.change") {
    const status = envelope.body.status;
    if (status === "FINISHED" || status === "FINISHED_INCOMPLETE") {
      return { kind: "deferred", reason: `recognised, not mapped yet: a ${status} compose will become a compose record (issue 5, later part)` };
    }
    return { kind: "ignored", reason: `compose status ${JSON.stringify(status)}; only FINISHED and FINISHED_INCOMPLETE composes are recorded` };
  }
  for (const d of DEFERRED) {
    if (d.pattern.test(topic)) return { kind: "deferred", reason: `recognised, not mapped yet: ${topic} will become ${d.becomes} (issue 5, later part)` };
  }
  return { kind: "ignored", reason: `topic ${topic} is not one relengd maps` };
}

const positiveInt = z.number().int().positive();
const shortText = (max: number) => z.string().min(1).max(max);

const buildStateChangeSchema = z.object({
  build_id: positiveInt,
  name: z.string().regex(PACKAGE_PATTERN, "must be a koji package name"),
  version: shortText(255),
  release: shortText(255),
  // Imported builds have no task.
  task_id: positiveInt.nullish(),
  owner: z.unknown().optional(),
  instance: z.string().nullish(),
  url: z.string().nullish(),
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
  const parsed = buildStateChangeSchema.safeParse(body);
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
 * The release of a build, from the dist tag in its Release field:
 * - `fcN` → `rawhide` when N ≥ options.rawhideVersion, else `fN`;
 * - `elnN` → `eln`;
 * - `elN` → `epelN`, and `elN_M` (EPEL 10 minor versions) → `epelN.M`: on Fedora's Koji an
 *   elN dist tag is always an EPEL build;
 * - anything else (images, modules, no dist tag) → undefined.
 */
export function releaseOfDistTag(release: string, options: MappingOptions): string | undefined {
  for (const token of release.split(".")) {
    const fc = /^fc([0-9]{1,3})$/.exec(token);
    if (fc) return Number(fc[1]) >= options.rawhideVersion ? "rawhide" : `f${Number(fc[1])}`;
    if (/^eln[0-9]{1,4}$/.test(token)) return "eln";
    const el = /^el([0-9]{1,2})(?:_([0-9]{1,2}))?$/.exec(token);
    if (el) return el[2] === undefined ? `epel${Number(el[1])}` : `epel${Number(el[1])}.${Number(el[2])}`;
  }
  return undefined;
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
  };
  return { kind: "results", nvr: renderNvr(parsed.nvr), results: [result] };
}

/**
 * `resultsdb.result.new`, in both shapes seen on the bus: the fedmsg-era
 * `{task: {type, item, name}, result: {outcome, log_url}}` and ResultsDB 2's
 * `{testcase: {name}, outcome, ref_url, data: {type: [..], item: [..]}}`. Only results about a
 * `koji_build` are about an artifact.
 */
function mapResultsdbResult(body: Record<string, unknown>): BusEffect {
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
  });
}

/**
 * Fedora CI's messages (CI messages spec, `ci.<artifact type>.test.<state>`): the testcase is
 * `<test.namespace>.<test.type>.<test.category>`, as Fedora CI's ResultsDB listener names it
 * (`fedora-ci.koji-build.tier0.functional`). `.error` is an ERROR result; queued/running are
 * progress, not results.
 */
function mapCiTestMessage(body: Record<string, unknown>, artifactType: string, state: string): BusEffect {
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
function mapLegacyPipelineResult(body: Record<string, unknown>, fullTopic: string): BusEffect {
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
  });
}
