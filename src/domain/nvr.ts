// Koji build identifiers (name-version-release), parsed the way koji's parse_NVR does.

export interface Nvr {
  name: string;
  version: string;
  release: string;
  /** Absent when the NVR carried no epoch. */
  epoch?: string;
}

export type NvrResult = { ok: true; nvr: Nvr } | { ok: false; reason: string };

// Characters koji and rpm accept in the three parts; "-" separates them, so only the name may
// contain it. "~" and "^" are rpm's pre/post-release markers (python38-3.8.0~b1-1.fc29).
const NAME = /^[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$/;
const VERSION_OR_RELEASE = /^[A-Za-z0-9_+.~^]+$/;
const EPOCH = /^[0-9]{1,10}$/;
export const MAX_NVR_LENGTH = 255;

/**
 * Splits like koji.parse_NVR: release after the last dash, version before it, the rest is the
 * name (which may contain dashes). An epoch is accepted koji-style in front of the name
 * (`1:foo-1.0-1.fc41`) and rpm-style in front of the version (`foo-1:1.0-1.fc41`).
 */
export function parseNvr(input: string): NvrResult {
  if (input.length === 0) return { ok: false, reason: "is empty" };
  if (input.length > MAX_NVR_LENGTH) return { ok: false, reason: `is longer than ${MAX_NVR_LENGTH} characters` };
  const lastDash = input.lastIndexOf("-");
  if (lastDash <= 0 || lastDash === input.length - 1) {
    return { ok: false, reason: "is not name-version-release: no release after the last dash" };
  }
  const versionDash = input.lastIndexOf("-", lastDash - 1);
  if (versionDash <= 0 || versionDash === lastDash - 1) {
    return { ok: false, reason: "is not name-version-release: no version between the last two dashes" };
  }
  let name = input.slice(0, versionDash);
  let version = input.slice(versionDash + 1, lastDash);
  const release = input.slice(lastDash + 1);
  let epoch: string | undefined;

  const nameColon = name.indexOf(":");
  if (nameColon !== -1) {
    epoch = name.slice(0, nameColon);
    name = name.slice(nameColon + 1);
  }
  const versionColon = version.indexOf(":");
  if (versionColon !== -1) {
    if (epoch !== undefined) return { ok: false, reason: "has two epochs" };
    epoch = version.slice(0, versionColon);
    version = version.slice(versionColon + 1);
  }
  if (epoch !== undefined && !EPOCH.test(epoch)) return { ok: false, reason: `has an epoch "${epoch}" that is not a number` };
  if (!NAME.test(name)) return { ok: false, reason: `has a name "${name}" with characters koji does not allow` };
  if (!VERSION_OR_RELEASE.test(version)) return { ok: false, reason: `has a version "${version}" with characters koji does not allow` };
  if (!VERSION_OR_RELEASE.test(release)) return { ok: false, reason: `has a release "${release}" with characters koji does not allow` };
  return { ok: true, nvr: epoch === undefined ? { name, version, release } : { name, version, release, epoch } };
}

/** The koji form: epoch (if any) in front of the name. */
export function renderNvr(nvr: Nvr): string {
  const base = `${nvr.name}-${nvr.version}-${nvr.release}`;
  return nvr.epoch === undefined ? base : `${nvr.epoch}:${base}`;
}

export function isNvr(input: string): boolean {
  return parseNvr(input).ok;
}
