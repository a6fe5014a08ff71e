// Loads policies/*.yaml (every file but environments.yaml) into a policy set, all or nothing.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parsePolicyYaml, type Policy } from "../domain/policy.js";
import { ENVIRONMENTS_FILE, EnvironmentsError, loadEnvironments, type EnvironmentSet } from "./environments.js";

/** The folder does not load; `problems` has one line each, `file:line: /field: message`. */
export class PolicyLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export type ReloadResult = { ok: true; policies: number; environments: number } | { ok: false; error: string };

export interface PolicySet {
  policies: Policy[];
  environments: EnvironmentSet;
  loadedAt: Date;
}

/** What checking a policies folder found. */
export interface PolicyCheck {
  /** Policy files read, valid or not. */
  files: number;
  /** Environments declared (0 when environments.yaml is broken). */
  environments: number;
  /** Every problem, one line each: `file:line: /field: message`. */
  problems: string[];
  /** The policy set, when there are no problems. */
  set?: PolicySet;
}

/**
 * Reads and validates environments.yaml and every policy file, and reports every problem. A broken
 * environments.yaml does not stop the policy files from being checked, only the environment each names.
 */
export function checkPolicies(dir: string, defaultRepoUrl: string): PolicyCheck {
  const problems: string[] = [];
  let environments: EnvironmentSet | undefined;
  try {
    environments = loadEnvironments(dir, defaultRepoUrl);
  } catch (err) {
    if (!(err instanceof EnvironmentsError)) throw err;
    problems.push(...err.problems);
  }
  const policies: Policy[] = [];
  const names = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== ENVIRONMENTS_FILE).sort();
  } catch {
    files = [];
  }
  for (const f of files) {
    const file = path.join(dir, f);
    const parsed = parsePolicyYaml(readFileSync(file, "utf8"));
    if (!parsed.ok) {
      problems.push(...parsed.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path}: ${i.message}`));
      continue;
    }
    const p = parsed.value;
    const at = (field: string[]) => `${file}:${parsed.lineOf(field) ?? 1}: /${field.join("/")}`;
    const prior = names.get(p.metadata.name);
    if (prior) problems.push(`${at(["metadata", "name"])}: policy ${p.metadata.name} is also defined in ${prior}`);
    names.set(p.metadata.name, file);
    if (environments && !environments.environments.has(p.spec.release.environment)) {
      problems.push(`${at(["spec", "release", "environment"])}: no environment ${p.spec.release.environment} in ${environments.source}`);
    }
    policies.push(p);
  }
  const counts = { files: files.length, environments: environments?.environments.size ?? 0 };
  if (problems.length > 0 || !environments) return { ...counts, problems };
  return { ...counts, problems, set: { policies, environments, loadedAt: new Date() } };
}

/** The folder's policy set, all or nothing: throws PolicyLoadError listing every problem checkPolicies finds. */
export function loadPolicies(dir: string, defaultRepoUrl: string): PolicySet {
  const check = checkPolicies(dir, defaultRepoUrl);
  if (!check.set) throw new PolicyLoadError(check.problems);
  return check.set;
}

/**
 * The current policy set, swapped atomically on reload: a broken file keeps the old set and
 * the error says why.
 */
export class PolicyHolder {
  private current: PolicySet;
  private readonly listeners: ((set: PolicySet) => void)[] = [];

  constructor(
    private readonly dir: string,
    private readonly defaultRepoUrl: string,
    /** Set when the policies come from a git repository (already synced once by the caller). */
    private readonly source?: { sync(): Promise<void> },
  ) {
    this.current = loadPolicies(dir, defaultRepoUrl);
  }

  get(): PolicySet {
    return this.current;
  }

  environments = (): EnvironmentSet => this.current.environments;

  /** Called after every successful reload (the scheduler re-arms its schedules). */
  onReload(listener: (set: PolicySet) => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the policies (after fetching them, when they come from git); atomic. */
  async reload(): Promise<ReloadResult> {
    try {
      await this.source?.sync();
      const next = loadPolicies(this.dir, this.defaultRepoUrl);
      this.current = next;
      for (const l of this.listeners) l(next);
      return { ok: true, policies: next.policies.length, environments: next.environments.environments.size };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
}

/** A fixed policy set (benchmarks, tests, embedding): reload has nothing to read. */
export function fixedPolicies(set: Omit<PolicySet, "loadedAt">): Pick<PolicyHolder, "get" | "reload" | "environments"> {
  const current: PolicySet = { ...set, loadedAt: new Date() };
  return {
    get: () => current,
    environments: () => current.environments,
    reload: () => Promise.resolve({ ok: false, error: "this policy set is fixed; there is nothing to reload" }),
  };
}
