// Loads policies/environments.yaml into the environments and repositories the server uses.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnvironmentsYaml } from "../domain/environment.js";
import { emptyEnvironmentSet, type EnvironmentSet, type ResolvedRepository } from "../domain/environmentSet.js";

// Kept while modules being rewritten elsewhere still import the types from here.
export type { EnvironmentSet, ResolvedRepository } from "../domain/environmentSet.js";

/** environments.yaml is not valid; `problems` has one line each, `file:line: /field: message`. */
export class EnvironmentsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export const ENVIRONMENTS_FILE = "environments.yaml";

/**
 * Reads DIR/environments.yaml. Repositories without a url use `defaultRepoUrl` (the server's
 * RELENGD_GITOPS_REPO); relative paths are resolved against the current directory, like the
 * other RELENGD_* paths.
 */
export function loadEnvironments(dir: string, defaultRepoUrl: string): EnvironmentSet {
  const file = path.join(dir, ENVIRONMENTS_FILE);
  if (!existsSync(file)) return emptyEnvironmentSet(file);
  return parseEnvironments(readFileSync(file, "utf8"), file, defaultRepoUrl);
}

export function parseEnvironments(text: string, file: string, defaultRepoUrl: string): EnvironmentSet {
  const parsed = parseEnvironmentsYaml(text);
  if (!parsed.ok) {
    throw new EnvironmentsError(parsed.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path}: ${i.message}`));
  }
  const repositories = new Map<string, ResolvedRepository>();
  for (const r of parsed.value.repositories) {
    const url = r.url ?? defaultRepoUrl;
    const isRemote = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/:]+:/.test(url);
    repositories.set(r.name, { ...r, url: isRemote ? url : path.resolve(url) });
  }
  const environments = new Map(parsed.value.environments.map((e) => [e.name, e]));
  return { repositories, environments, source: file };
}
