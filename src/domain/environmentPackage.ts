// The (environment, package) pair: what a hold stops, and where a newer release of a package
// supersedes an older one. Maps and sets of pairs are keyed by environmentPackageKey alone.

export interface EnvironmentPackage {
  environment: string;
  package: string;
}

/**
 * The pair as one map key. NUL cannot occur in an environment or package name (both are checked
 * against name patterns at the edge), so no two pairs share a key.
 */
export function environmentPackageKey(pair: EnvironmentPackage): string {
  return `${pair.environment}\0${pair.package}`;
}
