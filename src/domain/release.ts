// Releases: what an artifact must carry for an environment, and the document a release becomes.
import { kojiBuilds, type Artifact } from "./artifact.js";
import { buildBodhiUpdate } from "./documents/bodhiUpdate.js";
import { buildComposeRequest, COMPOSE_LABEL_PATTERN } from "./documents/composeRequest.js";
import type { DocumentMetadata } from "./documents/envelope.js";
import { documentPath, documentProblems, renderDocument, type RequestDocument } from "./documents/index.js";
import { buildKojiTag } from "./documents/kojiTag.js";
import type { Environment } from "./environment.js";
import { parseNvr } from "./nvr.js";
import { renderCommitMessage, type ReleaseCommitInfo } from "./trailers.js";

export const releaseStatuses = ["queued", "committed", "pushed", "failed", "superseded", "blocked"] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];
/** States a release does not leave on its own. `failed` can be retried. */
export const finalStatuses: readonly ReleaseStatus[] = ["pushed", "superseded", "blocked", "failed"];

/** What the writer needs to know of a release. */
export interface ReleaseSpec {
  id: string;
  artifactId: string;
  environment: string;
  /** policy/<name> | user:<subject> | rollback | mirror */
  trigger: string;
  forceReason?: string;
  createdAt: Date;
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
      const label = compose?.label ?? composeLabel(compose?.composeId) ?? `${yyyymmdd(release.createdAt)}.n.0`;
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
  };
  // What is pushed must pass `relengd lint`: a document its own schema refuses is not written.
  const problems = documentProblems(document);
  if (problems) throw new Error(`the ${document.kind} document for ${artifact.id} would be invalid: ${problems}`);
  return { document, path: documentPath(document), content: renderDocument(document), commitMessage: renderCommitMessage(info), nvrs: req.nvrs };
}
