// Loads policies/*.yaml (every file but environments.yaml: release policies, approval policies, the facts configuration) into a policy set, all or nothing.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseYaml } from "../domain/documents/envelope.js";
import { isReportPolicy, validatePolicyDocument, type Policy, type ReportPolicy } from "../domain/policy.js";
import { parseApprovalPolicy, type ApprovalPolicy } from "../domain/requests/approval.js";
import { parseFactsConfig, type FactsConfig } from "../domain/requests/facts.js";
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
  /** kind Policy with spec.report: scheduled broken-dependency reports (issue 18); absent: none. */
  reportPolicies?: ReportPolicy[];
  /** kind ApprovalPolicy: how requests (branches, repositories, side tags) are judged. */
  approvalPolicies: ApprovalPolicy[];
  /** kind Facts: where the facts approval policies read come from; absent when no file declares them. */
  facts?: FactsConfig;
  environments: EnvironmentSet;
  loadedAt: Date;
}

/** The document kinds a policies folder holds besides environments.yaml. */
export const policyFileKinds = ["Policy", "ApprovalPolicy", "Facts"] as const;

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
  /** The Facts file, valid, with the way back to its lines (`relengd policy lint` reads its sources). */
  facts?: { config: FactsConfig; file: string; lineOf: (path: (string | number)[]) => number | undefined };
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
  const reportPolicies: ReportPolicy[] = [];
  const approvalPolicies: ApprovalPolicy[] = [];
  let facts: PolicyCheck["facts"];
  // Names are unique across release and approval policies: both are named policy/<name> in trailers and decisions.
  const names = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== ENVIRONMENTS_FILE).sort();
  } catch {
    files = [];
  }
  for (const f of files) {
    const file = path.join(dir, f);
    const yaml = parseYaml(readFileSync(file, "utf8"));
    if (!yaml.ok) {
      problems.push(...yaml.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path}: ${i.message}`));
      continue;
    }
    const at = (field: (string | number)[]) => `${file}:${yaml.lineOf(field) ?? 1}: /${field.join("/")}`;
    const kind = yaml.value !== null && typeof yaml.value === "object" && !Array.isArray(yaml.value) ? (yaml.value as Record<string, unknown>).kind : undefined;
    if (typeof kind !== "string" || !(policyFileKinds as readonly string[]).includes(kind)) {
      const said = kind === undefined ? "is missing" : `is ${JSON.stringify(kind)}`;
      problems.push(`${at(["kind"])}: kind ${said}; a policy file holds one of ${policyFileKinds.join(", ")}`);
      continue;
    }
    const parsed = kind === "Policy" ? validatePolicyDocument(yaml.value, yaml.lineOf) : kind === "ApprovalPolicy" ? parseApprovalPolicy(yaml.value, yaml.lineOf) : parseFactsConfig(yaml.value, yaml.lineOf);
    if (!parsed.ok) {
      problems.push(...parsed.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path}: ${i.message}`));
      continue;
    }
    const value = parsed.value;
    if (value.kind === "Facts") {
      if (facts) problems.push(`${at(["kind"])}: the facts are also configured in ${facts.file}; keep one Facts file`);
      else facts = { config: value, file, lineOf: yaml.lineOf };
      continue;
    }
    const prior = names.get(value.metadata.name);
    if (prior) problems.push(`${at(["metadata", "name"])}: policy ${value.metadata.name} is also defined in ${prior}`);
    names.set(value.metadata.name, file);
    if (value.kind === "ApprovalPolicy") {
      approvalPolicies.push(value);
      continue;
    }
    if (isReportPolicy(value)) {
      reportPolicies.push(value);
      continue;
    }
    if (environments && !environments.environments.has(value.spec.release.environment)) {
      problems.push(`${at(["spec", "release", "environment"])}: no environment ${value.spec.release.environment} in ${environments.source}`);
    }
    policies.push(value);
  }
  const counts = { files: files.length, environments: environments?.environments.size ?? 0, ...(facts ? { facts } : {}) };
  if (problems.length > 0 || !environments) return { ...counts, problems };
  const set: PolicySet = { policies, approvalPolicies, environments, loadedAt: new Date(), ...(reportPolicies.length > 0 ? { reportPolicies } : {}) };
  if (facts) set.facts = facts.config;
  return { ...counts, problems, set };
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
export function fixedPolicies(set: Omit<PolicySet, "loadedAt" | "approvalPolicies"> & Partial<Pick<PolicySet, "approvalPolicies">>): Pick<PolicyHolder, "get" | "reload" | "environments"> {
  const current: PolicySet = { ...set, approvalPolicies: set.approvalPolicies ?? [], loadedAt: new Date() };
  return {
    get: () => current,
    environments: () => current.environments,
    reload: () => Promise.resolve({ ok: false, error: "this policy set is fixed; there is nothing to reload" }),
  };
}
