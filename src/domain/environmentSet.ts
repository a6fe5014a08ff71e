// The environments and repositories a server works with, as read from environments.yaml
// (loading it is src/policy/environments.ts's job).
import type { Environment, Repository } from "./environment.js";

export interface ResolvedRepository extends Repository {
  /** Absolute path or remote URL. */
  url: string;
}

export interface EnvironmentSet {
  repositories: Map<string, ResolvedRepository>;
  environments: Map<string, Environment>;
  /** Where it was read from, for messages. */
  source: string;
}

/** The set a server without an environments file works with: nothing declared. */
export function emptyEnvironmentSet(source: string): EnvironmentSet {
  return { repositories: new Map(), environments: new Map(), source };
}
