// Use case: releases waiting for their repoclosure preflight are checked (one run per repo set,
// whatever the number of releases over it) and queued for the writer or blocked with the reason.
import type { EnvironmentSet } from "../domain/environmentSet.js";
import { gateOutcome } from "../domain/releaseGate.js";
import { repoSetKey, type RepoclosurePreflight } from "../domain/repoclosure.js";
import { brokenDepsReportUrl } from "../domain/reportLinks.js";
import type { BrokenDepsReportRecord } from "../store/brokenDepsReportRepository.js";
import type { ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import type { RepoclosureCheckInput } from "./checkRepoclosure.js";

export interface GateReleaseDeps {
  releases: Pick<ReleaseRepository, "judgeChecked">;
  /** RepoclosureChecks.check: a stored fresh result, the run under way, or a new run. */
  check: (input: RepoclosureCheckInput, options: { fresh?: boolean }) => Promise<BrokenDepsReportRecord>;
  environments: () => EnvironmentSet;
  /** RELENGD_PUBLIC_URL: the report links in reasons start with it. */
  publicUrl?: string | undefined;
  /** Wakes the writer of a repository. */
  notify: (repository: string) => void;
  /** Told the releases the gate blocked (the bus announces them). */
  blocked?: (ids: string[]) => void;
}

export interface GateResult {
  queued: string[];
  blocked: string[];
  /** Left `checking`: another replica or a retry changed them meanwhile. */
  unchanged: string[];
}

/** Checking releases with the same repos, checked once. */
export interface GateGroup {
  key: string;
  preflight: RepoclosurePreflight;
  releases: ReleaseRecord[];
}

/** Groups checking releases by the repo set their preflight checks (strictness is each release's own). */
export function gateGroups(checking: readonly ReleaseRecord[]): GateGroup[] {
  const groups = new Map<string, GateGroup>();
  for (const r of checking) {
    if (!r.preflight) continue;
    const key = repoSetKey(r.preflight);
    const group = groups.get(key);
    if (group) group.releases.push(r);
    else groups.set(key, { key, preflight: r.preflight, releases: [r] });
  }
  return [...groups.values()];
}

/**
 * Checks one group and applies the verdict to each of its releases. A cancelled check
 * (shutdown) throws RepoclosureCancelled and changes nothing: the releases stay `checking` and the
 * next start checks them.
 */
export async function gateGroup(deps: GateReleaseDeps, group: GateGroup): Promise<GateResult> {
  const first = group.releases[0];
  const result: GateResult = { queued: [], blocked: [], unchanged: [] };
  if (!first) return result;
  const env = deps.environments().environments.get(first.environment);
  // The tree is what people call the repos: the compose's release, else the environment's name.
  const tree = env?.kind === "ComposeRequest" ? env.compose.release : first.environment;
  const { strictness: _strictness, ...target } = group.preflight;
  // A person asked for the check again: a result from before the ask is not taken.
  const fresh = group.releases.some((r) => r.attempts > 0);
  const record = await deps.check({ tree, origin: "gate", target }, { fresh });
  const url = brokenDepsReportUrl(deps.publicUrl, record.id);
  const queuedIn = new Set<string>();
  for (const r of group.releases) {
    const outcome = gateOutcome(r.preflight?.strictness ?? group.preflight.strictness, record, url);
    const changed = await deps.releases.judgeChecked(
      r.id,
      outcome.status === "queued" ? { status: "queued", reportId: record.id, repoclosure: outcome.repoclosure } : { status: "blocked", reportId: record.id, reason: outcome.reason },
    );
    if (!changed) result.unchanged.push(r.id);
    else if (outcome.status === "queued") {
      result.queued.push(r.id);
      queuedIn.add(r.repository);
    } else result.blocked.push(r.id);
  }
  for (const repository of queuedIn) deps.notify(repository);
  if (result.blocked.length > 0) deps.blocked?.(result.blocked);
  return result;
}
