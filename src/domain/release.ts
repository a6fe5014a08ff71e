// Releases: what an artifact must carry for an environment, and the document a release becomes.
import { kojiBuilds, type Artifact } from "./artifact.js";
import { buildBodhiUpdate } from "./documents/bodhiUpdate.js";
import { buildComposeRequest, COMPOSE_LABEL_PATTERN } from "./documents/composeRequest.js";
import type { DocumentMetadata } from "./documents/envelope.js";
import { documentPath, documentProblems, parseDocumentText, renderDocument, type RequestDocument } from "./documents/index.js";
import { buildKojiTag } from "./documents/kojiTag.js";
import type { Environment } from "./environment.js";
import { compareNvr } from "./evr.js";
import { parseNvr } from "./nvr.js";
import { renderReleaseCommitMessage, type ReleaseCommitInfo } from "./commitMessages/release.js";
import { brokenDepsReportUrl } from "./reportLinks.js";

/**
 * `checking`: accepted, waiting for its environment's preflight (repoclosure) before the writer
 * may see it; the writer's queries take `queued` only.
 */
export const releaseStatuses = ["checking", "queued", "committed", "pushed", "failed", "superseded", "blocked"] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];
/** Each status by name, so code compares against a checked constant rather than a bare string. */
export const RELEASE_STATUS = {
  checking: "checking",
  queued: "queued",
  committed: "committed",
  pushed: "pushed",
  failed: "failed",
  superseded: "superseded",
  blocked: "blocked",
} as const satisfies { readonly [S in ReleaseStatus]: S };
/** States a release does not leave on its own. `failed` can be retried. */
export const finalStatuses: readonly ReleaseStatus[] = [RELEASE_STATUS.pushed, RELEASE_STATUS.superseded, RELEASE_STATUS.blocked, RELEASE_STATUS.failed];
/** Whether `value` (a query parameter, a command-line option) names a release status. */
export function isReleaseStatus(value: string): value is ReleaseStatus {
  return (releaseStatuses as readonly string[]).includes(value);
}
/** Whether a release in `status` stays there unless someone acts (a retry). */
export function isFinalStatus(status: ReleaseStatus): boolean {
  return finalStatuses.includes(status);
}

/** What the writer needs to know of a release. */
export interface ReleaseSpec {
  id: string;
  artifactId: string;
  environment: string;
  /** policy/<name> | user:<subject> | rollback | mirror */
  trigger: string;
  forceReason?: string;
  createdAt: Date;
  /** What the repoclosure gate found, for the commit's trailers (absent: no check ran). */
  repoclosure?: RepoclosureNote;
}

/** The Relengd-Repoclosure trailers: the count (`3 unresolved (aarch64 x86_64)`) and the report's URL. */
export interface RepoclosureNote {
  value: string;
  report: string;
}

/** The fields of a stored release record its spec is made of (the store keeps an absent force reason as null). */
export interface StoredReleaseFields {
  id: string;
  artifactId: string;
  environment: string;
  trigger: string;
  forceReason: string | null;
  createdAt: Date;
  /** The gate's trailer value and the report it judged by (null: no check ran). */
  repoclosure?: string | null;
  repoclosureReportId?: string | null;
}

/**
 * A stored release as the writer renders it: the one conversion, so the dashboard shows what the
 * writer commits. `publicUrl` (RELENGD_PUBLIC_URL) prefixes the repoclosure report's link.
 */
export function toReleaseSpec(record: StoredReleaseFields, publicUrl?: string): ReleaseSpec {
  return {
    id: record.id,
    artifactId: record.artifactId,
    environment: record.environment,
    trigger: record.trigger,
    createdAt: record.createdAt,
    ...(record.forceReason ? { forceReason: record.forceReason } : {}),
    ...(record.repoclosure && record.repoclosureReportId ? { repoclosure: { value: record.repoclosure, report: brokenDepsReportUrl(publicUrl, record.repoclosureReportId) } } : {}),
  };
}

// The BodhiUpdate document's limit (bodhiUpdateSpecSchema.builds).
const MAX_BODHI_BUILDS = 200;

export type Requirement = { ok: true; nvrs: string[] } | { ok: false; reason: string };

/** Whether `artifact` carries what `environment`'s kind of request needs. */
export function releaseRequirement(artifact: Artifact, environment: Environment): Requirement {
  const builds = kojiBuilds(artifact);
  switch (environment.kind) {
    case "KojiTag": {
      const own = builds.filter((b) => {
        const p = parseNvr(b.nvr);
        return p.ok && p.nvr.name === artifact.package;
      });
      if (own.length === 0) return { ok: false, reason: `artifact ${artifact.id} has no koji-build of package ${artifact.package} to tag into ${environment.kojiTag.tag}` };
      if (own.length > 1) return { ok: false, reason: `artifact ${artifact.id} has ${own.length} koji-builds of ${artifact.package}; a tag holds one` };
      return { ok: true, nvrs: own.map((b) => b.nvr) };
    }
    case "BodhiUpdate": {
      if (builds.length === 0) return { ok: false, reason: `artifact ${artifact.id} has no koji-build for a Bodhi update` };
      if (builds.length > MAX_BODHI_BUILDS) return { ok: false, reason: `artifact ${artifact.id} has ${builds.length} koji-builds; a Bodhi update takes at most ${MAX_BODHI_BUILDS}` };
      if (builds.length > 1) {
        const tags = new Set(builds.map((b) => b.sideTag));
        if (tags.size !== 1 || tags.has(undefined)) {
          return { ok: false, reason: `artifact ${artifact.id} has ${builds.length} koji-builds; a multi-build update needs them all from one side tag` };
        }
      }
      return { ok: true, nvrs: builds.map((b) => b.nvr) };
    }
    case "ComposeRequest": {
      const composes = artifact.items.filter((i) => i.kind === "compose");
      if (composes.length === 0 && artifact.release !== environment.compose.release) {
        return { ok: false, reason: `artifact ${artifact.id} has no compose item and is for release ${artifact.release}, not ${environment.compose.release}` };
      }
      return { ok: true, nvrs: [] };
    }
  }
}

export interface RenderedRelease {
  document: RequestDocument;
  path: string;
  content: string;
  commitMessage: string;
  nvrs: string[];
}

/**
 * A compose's file name from its id: the date and respin (Fedora-Rawhide-20230502.n.0 →
 * 20230502.n.0), else the id itself when it is a valid label, else nothing (the release date is used).
 */
function composeLabel(composeId: string | undefined): string | undefined {
  if (!composeId) return undefined;
  const dated = /-(\d{8}\.[a-z]\.\d+)$/.exec(composeId);
  if (dated?.[1]) return dated[1];
  return COMPOSE_LABEL_PATTERN.test(composeId) ? composeId : undefined;
}

function yyyymmdd(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, "");
}

/**
 * The context entry a scheduled run records on the artifact it makes: the slot (an ISO instant)
 * the run is for. A nightly compose is named after its slot, not after the moment the writer
 * happens to render it (a catch-up run or a retry can be days later).
 */
export const SCHEDULE_SLOT_CONTEXT_KEY = "RELENGD_SCHEDULE_SLOT";

/** The day a compose without a Pungi label is named after: its schedule slot, else the release's creation. */
function composeDay(artifact: Artifact, release: ReleaseSpec): Date {
  const slot = artifact.context[SCHEDULE_SLOT_CONTEXT_KEY];
  const at = slot === undefined ? undefined : new Date(slot);
  return at && !Number.isNaN(at.getTime()) ? at : release.createdAt;
}

// Bugzilla references in the commit message become the update's bugs (Bodhi closes them).
function bugsIn(text: string | undefined): number[] {
  if (!text) return [];
  const ids = [...text.matchAll(/\b(?:rhbz|bz|RHBZ)#(\d{1,9})\b/g)].map((m) => Number(m[1])).filter((n) => n > 0);
  return [...new Set(ids)].slice(0, 100);
}

/**
 * The document a release becomes: a pure function of (release, artifact, environment), so the
 * writer can render it again on a fresh head after a rejected push.
 */
export function renderRelease(release: ReleaseSpec, artifact: Artifact, environment: Environment): RenderedRelease {
  const req = releaseRequirement(artifact, environment);
  if (!req.ok) throw new Error(req.reason);
  const metadata: DocumentMetadata = { artifactId: artifact.id, releaseId: release.id, environment: environment.name };
  let document: RequestDocument;
  let subject: string;
  switch (environment.kind) {
    case "KojiTag": {
      const nvr = req.nvrs[0] as string;
      document = buildKojiTag({ tag: environment.kojiTag.tag, package: artifact.package, nvr }, metadata);
      subject = `koji-tag: ${nvr} → ${environment.kojiTag.tag}`;
      break;
    }
    case "BodhiUpdate": {
      const b = environment.bodhi;
      const sideTag = req.nvrs.length > 1 ? kojiBuilds(artifact)[0]?.sideTag : undefined;
      document = buildBodhiUpdate(
        {
          release: b.release,
          builds: req.nvrs,
          type: b.type,
          severity: b.severity,
          notes: artifact.source.message?.trim() || `${req.nvrs.join(", ")} built from ${artifact.source.repo} at ${artifact.source.sha}`,
          bugs: bugsIn(artifact.source.message),
          request: b.request,
          autokarma: b.autokarma,
          stable_karma: b.stable_karma,
          unstable_karma: b.unstable_karma,
          autotime: b.autotime,
          stable_days: b.stable_days,
          ...(sideTag ? { from_tag: sideTag } : {}),
        },
        metadata,
      );
      subject = `bodhi-update: ${req.nvrs.join(" ")} → ${b.release} ${b.request}`;
      break;
    }
    case "ComposeRequest": {
      const compose = artifact.items.find((i) => i.kind === "compose");
      const label = compose?.label ?? composeLabel(compose?.composeId) ?? `${yyyymmdd(composeDay(artifact, release))}.n.0`;
      document = buildComposeRequest(
        {
          release: environment.compose.release,
          type: environment.compose.type,
          label,
          reason: `${release.trigger} released artifact ${artifact.id}`,
          ...(compose ? { composeId: compose.composeId } : {}),
        },
        metadata,
      );
      subject = `compose: ${environment.compose.release} ${environment.compose.type} ${label}`;
      break;
    }
  }
  const info: ReleaseCommitInfo = {
    subject,
    releaseId: release.id,
    artifactId: artifact.id,
    environment: environment.name,
    trigger: release.trigger,
    nvrs: req.nvrs,
    ...(release.forceReason ? { forceReason: release.forceReason } : {}),
    ...(release.repoclosure ? { repoclosure: release.repoclosure.value, repoclosureReport: release.repoclosure.report } : {}),
  };
  // What is pushed must pass `relengd lint`: a document its own schema refuses is not written.
  const problems = documentProblems(document);
  if (problems) throw new Error(`the ${document.kind} document for ${artifact.id} would be invalid: ${problems}`);
  return { document, path: documentPath(document), content: renderDocument(document), commitMessage: renderReleaseCommitMessage(info), nvrs: req.nvrs };
}

/**
 * A release of a Koji tag competing with others for one (environment, package): `nvr` is the
 * build it puts in the tag (undefined when unknown: its artifact is gone), `explicit` says a
 * person chose it (a rollback, or forced with a reason), `written` that it is already pushed.
 */
export interface TagContender {
  id: string;
  seq: number;
  nvr: string | undefined;
  explicit: boolean;
  written: boolean;
}

/** The build a KojiTag release of `artifact` puts in the tag; undefined when it has none (or several). */
export function kojiTagNvr(artifact: Artifact): string | undefined {
  const own = kojiBuilds(artifact).filter((b) => {
    const p = parseNvr(b.nvr);
    return p.ok && p.nvr.name === artifact.package;
  });
  return own.length === 1 ? own[0]?.nvr : undefined;
}

/** rpm's order of two builds of one package; NVRs it cannot compare count as equal. */
function buildOrder(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return 0;
  const c = compareNvr(a, b);
  return c.ok ? c.order : 0;
}

/**
 * Which contender makes writing `release` pointless, if any. Koji tags are declarative, so only
 * the build that should end up in the tag is written:
 * - a later release that is not an older build (or that a person chose) replaces it;
 * - an earlier release still waiting to be written, of a newer build, wins over it unless
 *   `release` itself was chosen by a person: arrival order never puts an older build in a tag
 *   (a slow pipeline's stale build arriving after a newer one is the classic downgrade).
 */
export function supersedingContender(release: TagContender, others: readonly TagContender[]): TagContender | undefined {
  let winner: TagContender | undefined;
  for (const other of others) {
    if (other.id === release.id) continue;
    const order = buildOrder(other.nvr, release.nvr);
    const wins = other.seq > release.seq ? other.explicit || order >= 0 : !other.written && !release.explicit && order > 0;
    if (wins && (!winner || other.seq > winner.seq)) winner = other;
  }
  return winner;
}

/**
 * Why writing `document` over the file's current text would put an older build in a Koji tag
 * (`downgrade: X < Y`), or undefined when it would not: only a rollback or a forced release may.
 */
export function downgradeReason(currentText: string | undefined, document: RequestDocument): string | undefined {
  if (currentText === undefined || document.kind !== "KojiTag") return undefined;
  const current = parseDocumentText(currentText);
  if (!current.ok || current.value.kind !== "KojiTag") return undefined;
  const have = current.value.spec.nvr;
  const want = document.spec.nvr;
  const c = compareNvr(want, have);
  return c.ok && c.order < 0 ? `downgrade: ${want} < ${have}` : undefined;
}
