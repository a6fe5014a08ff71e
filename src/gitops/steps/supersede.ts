// Step: Koji tags are declarative. Of the releases of one package to one tag, only the one whose
// build should end up there is written (see supersedingContender: the newest build by rpm's
// order, or the latest a person chose), whether the others are in this batch, still queued, or
// pushed meanwhile (a release held back by a failed attempt must not put an older build back).
import { environmentPackageKey } from "../../domain/environmentPackage.js";
import { kojiTagNvr, RELEASE_STATUS, supersedingContender, type TagContender } from "../../domain/release.js";
import type { EnvironmentSet } from "../../domain/environmentSet.js";
import type { ArtifactRepository } from "../../store/artifactRepository.js";
import type { ReleaseRecord, ReleaseRepository } from "../../store/releaseRepository.js";
import { isExplicit, type BatchItem, type BatchResult } from "./batch.js";

export interface SupersedeDeps {
  releases: Pick<ReleaseRepository, "tagContenders" | "markSuperseded">;
  artifacts: Pick<ArtifactRepository, "getMany">;
  environments: EnvironmentSet;
}

/** The items still to write; the superseded ones are recorded so, with the release that wins. */
export async function supersede(deps: SupersedeDeps, items: BatchItem[], result: BatchResult): Promise<BatchItem[]> {
  const tagged = items.filter(({ release }) => deps.environments.environments.get(release.environment)?.kind === "KojiTag");
  if (tagged.length === 0) return items;
  const sinceSeq = Math.min(...tagged.map(({ release }) => release.seq));
  const rivals = await deps.releases.tagContenders(
    tagged.map(({ release }) => ({ environment: release.environment, package: release.package })),
    sinceSeq,
  );
  // The builds of rivals outside this batch: their artifacts are read only when there are any.
  const known = new Map(items.map(({ artifact }) => [artifact.id, artifact]));
  const missing = rivals.filter((r) => !known.has(r.artifactId)).map((r) => r.artifactId);
  if (missing.length > 0) for (const [id, a] of await deps.artifacts.getMany(missing)) known.set(id, a);
  const contender = (r: ReleaseRecord): TagContender => {
    const artifact = known.get(r.artifactId);
    return { id: r.id, seq: r.seq, nvr: artifact ? kojiTagNvr(artifact) : undefined, explicit: isExplicit(r), written: r.status === RELEASE_STATUS.pushed };
  };
  const byPair = new Map<string, TagContender[]>();
  for (const r of rivals) {
    const key = environmentPackageKey(r);
    const list = byPair.get(key) ?? [];
    list.push(contender(r));
    byPair.set(key, list);
  }
  const superseded: { id: string; by: string }[] = [];
  const live = items.filter(({ release }) => {
    const others = byPair.get(environmentPackageKey(release));
    if (!others) return true;
    const by = supersedingContender(contender(release), others);
    if (by) {
      superseded.push({ id: release.id, by: by.id });
      return false;
    }
    return true;
  });
  if (superseded.length > 0) {
    await deps.releases.markSuperseded(superseded);
    result.superseded.push(...superseded.map((s) => s.id));
  }
  return live;
}
