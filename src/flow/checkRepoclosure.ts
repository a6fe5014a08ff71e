// Use case: run repoclosure over a repo set, blame what broke from the observed Koji tag
// history, and keep the result (a report, or the error that kept the check from running).
import { blameFor, providerCandidates, type BrokenDepsReport, type BrokenPackage, type TagHistoryEntry } from "../domain/brokenDeps.js";
import { blameTagOf, repoSetKey, type RepoclosureTarget } from "../domain/repoclosure.js";
import type { BrokenDepsReportRecord, BrokenDepsReportRepository } from "../store/brokenDepsReportRepository.js";

/** What one run of dnf over every arch gave (checks/repoclosure.ts's result). */
export type RepoclosureRunResult =
  | { ok: true; arches: Record<string, BrokenPackage[]>; dnfMs: number }
  | { ok: false; error: string; reason: "error" | "timeout" | "cancelled" };

export interface CheckRepoclosureDeps {
  reports: Pick<BrokenDepsReportRepository, "save">;
  /** Builds of these packages ever observed in the tag (store/kojiTagRepository.ts history). */
  tagHistory: (tag: string, packages: readonly string[]) => Promise<TagHistoryEntry[]>;
  run: (target: RepoclosureTarget, signal?: AbortSignal) => Promise<RepoclosureRunResult>;
  now?: () => Date;
}

export interface RepoclosureCheckInput {
  tree: string;
  /** gate | policy/<name> | cli */
  origin: string;
  target: RepoclosureTarget;
}

/** A check that was cancelled (shutdown) is not a result: nothing is stored, the caller retries later. */
export class RepoclosureCancelled extends Error {}

export async function checkRepoclosure(deps: CheckRepoclosureDeps, input: RepoclosureCheckInput, signal?: AbortSignal): Promise<BrokenDepsReportRecord> {
  const now = deps.now ?? (() => new Date());
  // When the repositories were read, not when dnf finished: a retry asked while a run was under
  // way must not take that run's result as fresh (RepoclosureChecks compares with this).
  const generatedAt = now();
  const run = await deps.run(input.target, signal);
  const common = { tree: input.tree, origin: input.origin, repoSetKey: repoSetKey(input.target), arches: input.target.arches, generatedAt };
  if (!run.ok) {
    if (run.reason === "cancelled") throw new RepoclosureCancelled(run.error);
    return deps.reports.save({ ...common, dnfMs: 0, error: run.error });
  }
  const report: BrokenDepsReport = { tree: input.tree, generatedAt: common.generatedAt.toISOString(), arches: await withBlame(deps, input.target, run.arches) };
  return deps.reports.save({ ...common, dnfMs: run.dnfMs, report });
}

async function withBlame(deps: CheckRepoclosureDeps, target: RepoclosureTarget, arches: Record<string, BrokenPackage[]>): Promise<Record<string, BrokenPackage[]>> {
  const tag = blameTagOf(target);
  const rows = Object.values(arches).flat();
  if (!tag || rows.length === 0) return arches;
  const names = new Set<string>();
  for (const r of rows) for (const dep of r.unresolved) for (const n of providerCandidates(dep)) names.add(n);
  const byPackage = new Map<string, TagHistoryEntry[]>();
  for (const entry of await deps.tagHistory(tag, [...names])) byPackage.set(entry.package, [...(byPackage.get(entry.package) ?? []), entry]);
  const out: Record<string, BrokenPackage[]> = {};
  for (const [arch, list] of Object.entries(arches)) out[arch] = list.map((r) => ({ ...r, blame: blameFor(r.unresolved, byPackage, r.source) }));
  return out;
}
