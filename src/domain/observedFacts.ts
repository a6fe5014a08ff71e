// The dist-git branches the bus showed created, merged into the facts approval policies read
// (branchExists, repoExists read `distgit`: namespace → repo → branches). Pure.
import type { Facts } from "./requests/facts.js";

export type DistgitBranches = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

/** Namespace → repo → branches of a list of observed branches (a repository seen without a branch: no branch known). */
export function distgitBranchesOf(rows: readonly { namespace: string; repo: string; branch?: string }[]): DistgitBranches {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const r of rows) {
    let repos = out.get(r.namespace);
    if (!repos) out.set(r.namespace, (repos = new Map<string, Set<string>>()));
    let branches = repos.get(r.repo);
    if (!branches) repos.set(r.repo, (branches = new Set<string>()));
    if (r.branch !== undefined) branches.add(r.branch);
  }
  return out;
}

/**
 * The facts with the observed branches added to the distgit facts. Observation only ever adds: a
 * branch the bus never showed may exist all the same (created before relengd listened), so when
 * the distgit facts are unknown they stay unknown — a partial list must not make every other
 * branch "does not exist". The facts given are not changed; unchanged namespaces are shared.
 */
export function withObservedBranches(facts: Facts, observed: DistgitBranches): Facts {
  const known = facts.values.distgit;
  if (!known || observed.size === 0) return facts;
  const merged = new Map(known);
  for (const [namespace, repos] of observed) {
    const into = new Map(merged.get(namespace) ?? []);
    for (const [repo, branches] of repos) {
      const had = into.get(repo);
      into.set(repo, had ? new Set([...had, ...branches]) : branches);
    }
    merged.set(namespace, into);
  }
  return { ...facts, values: { ...facts.values, distgit: merged } };
}
