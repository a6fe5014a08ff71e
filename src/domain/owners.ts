// Who owns a source package: the users with commit access or more, from the requests' facts
// (`packageAcls`, dist-git's pagure_owner_alias.json) or a file of the same shape; and the mail
// alias Fedora gives each package's owners (`<package>-owner@fedoraproject.org`).
import { PACKAGE_PATTERN } from "./artifact.js";

/** namespace → package → users, as factFileSchemas.packageAcls parses pagure_owner_alias.json. */
export type PackageAcls = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

/** Source packages live in dist-git's `rpms` namespace. */
const RPMS = "rpms";

/** The owners of a source package, sorted; none when the ACLs do not know it. */
export function ownersOf(acls: PackageAcls | undefined, source: string): string[] {
  return [...(acls?.get(RPMS)?.get(source) ?? [])].sort();
}

/** Fedora's alias of a package's owners; the template's `{package}` is the source package. */
export const DEFAULT_OWNER_ADDRESS = "{package}-owner@fedoraproject.org";

/**
 * The owners' address of a source package, or undefined for a name that cannot be a package (it
 * came from an RPM header: never put such a string into a mail header).
 */
export function ownerAddress(template: string, source: string): string | undefined {
  if (!PACKAGE_PATTERN.test(source)) return undefined;
  return template.split("{package}").join(source);
}

/** Source packages grouped by owner (a package without known owners is under `null`), owners sorted. */
export function sourcesByOwner(acls: PackageAcls | undefined, sources: readonly string[]): { owner: string | null; sources: string[] }[] {
  const groups = new Map<string | null, Set<string>>();
  for (const source of sources) {
    const owners = ownersOf(acls, source);
    for (const owner of owners.length > 0 ? owners : [null]) groups.set(owner, (groups.get(owner) ?? new Set()).add(source));
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)))
    .map(([owner, set]) => ({ owner, sources: [...set].sort() }));
}
