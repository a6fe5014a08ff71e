// What approval policies know about the world (maintainers, groups, keys, branches, EPEL and SLA rules, Koji's side-tag policy): the pure Facts value, the shape of each facts file and the Facts configuration document.
import { z } from "zod";
import { wellFormedString } from "../text.js";
import { API_VERSION, validateDocument, type DocumentParse } from "../documents/envelope.js";

/**
 * A name used as a key in a facts file. Parsed records become Maps, so a name like `constructor`
 * is a plain key and never reaches Object.prototype; zod leaves a `__proto__` key out of the
 * records it builds, so such an entry is dropped, never made a prototype.
 */
const keyed = (pattern: RegExp, words: string) => wellFormedString().regex(pattern, words);

/** FAS user names; also the principal of an SSH allowed-signers line, so no pattern characters (`*`, `?`, `,`, `!`). */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// fedpkg's repo name rule (`^[a-zA-Z0-9_][a-zA-Z0-9-_.+]*$`), bounded.
const PACKAGE_NAME_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9-_.+]{0,254}$/;
const NAMESPACE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
const BRANCH_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const TAG_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const SLA_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

const userName = keyed(USER_NAME_PATTERN, "must be a user name (letters, digits and ._-)");
const groupName = keyed(GROUP_NAME_PATTERN, "must be a group name (letters, digits and ._-)");
const packageName = keyed(PACKAGE_NAME_PATTERN, "must be a package name (letters, digits and -_.+)");
const namespaceName = keyed(NAMESPACE_PATTERN, "must be a dist-git namespace like rpms");
const branchName = keyed(BRANCH_NAME_PATTERN, "must be a branch name like f44 or epel9");
const tagName = keyed(TAG_NAME_PATTERN, "must be a Koji tag name like f44-build");
/** A member of an access level: a user, or `@group` for every member of a group. */
const accessMember = wellFormedString().regex(/^@?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a user name or @group");

/**
 * One public key in OpenSSH's one-line form (`ssh-ed25519 AAAA… comment`). The type list is what
 * `ssh-keygen -Y verify` accepts for signatures; one line, printable ASCII, so a key can never add
 * a line (another principal) to the allowed-signers file written from it.
 */
export const SSH_PUBLIC_KEY_PATTERN =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{16,16384}={0,3}( [\x20-\x7e]{0,500})?$/;
const sshPublicKey = wellFormedString().regex(SSH_PUBLIC_KEY_PATTERN, "must be one OpenSSH public key line like ssh-ed25519 AAAA… comment");

const list = <T extends z.ZodType>(item: T) => z.array(item).max(100_000);
const mapOf = <V, T extends z.ZodType>(key: z.ZodType<string>, value: T, into: (v: z.output<T>) => V) =>
  z.record(key, value).transform((r) => new Map(Object.entries(r).map(([k, v]) => [k, into(v)] as const)) as ReadonlyMap<string, V>);
const same = <T>(v: T) => v;

export interface PackageAccessEntry {
  admin: readonly string[];
  commit: readonly string[];
  collaborator: readonly string[];
}

/** The groups of one fedocal calendar: its editors' and its admins' (either may add a meeting). */
export interface CalendarGroups {
  editors: readonly string[];
  admins: readonly string[];
}

/** fedocal's comma-separated group list (`"sysadmin-main, packager"`, or `""` for none). */
const calendarGroups = wellFormedString()
  .max(1000)
  .transform((v) => v.split(",").map((g) => g.trim()).filter((g) => g !== ""))
  .pipe(z.array(groupName).max(50));

/**
 * The shape of each facts file (JSON), parsed into the value approval policies read. Names are the
 * configuration's source names (`spec.sources.<name>` of the Facts document).
 */
export const factFileSchemas = {
  /** dist-git's `extras/pagure_owner_alias.json`: namespace → package → users with commit access or more. */
  packageAcls: mapOf(namespaceName, z.record(packageName, list(userName)), (pkgs) => new Map(Object.entries(pkgs)) as ReadonlyMap<string, readonly string[]>),
  /** namespace → package → {admin, commit, collaborator}: users, or `@group` for a group's members. */
  packageAccess: mapOf(
    namespaceName,
    z.record(
      packageName,
      z.strictObject({ admin: list(accessMember).default([]), commit: list(accessMember).default([]), collaborator: list(accessMember).default([]) }),
    ),
    (pkgs) => new Map(Object.entries(pkgs)) as ReadonlyMap<string, PackageAccessEntry>,
  ),
  /** FAS group → its members. */
  groups: mapOf(groupName, list(userName), (users) => new Set(users) as ReadonlySet<string>),
  /** user → the SSH public keys the user signs commits with. */
  signingKeys: mapOf(userName, z.array(sshPublicKey).max(100), same),
  /** namespace → repo → the branches it has. */
  distgit: mapOf(namespaceName, z.record(packageName, list(branchName)), (repos) => new Map(Object.entries(repos).map(([r, b]) => [r, new Set(b) as ReadonlySet<string>])) as ReadonlyMap<string, ReadonlySet<string>>),
  /** The active release branches, e.g. ["rawhide", "f44", "f43", "epel10", "epel9"]. */
  releaseBranches: list(branchName).transform((b) => new Set(b) as ReadonlySet<string>),
  /** RHEL major → the source packages RHEL ships on every architecture (no epelN branch for them). */
  rhel: mapOf(keyed(/^[1-9][0-9]{0,2}$/, "must be a RHEL major version like 9"), list(packageName), (pkgs) => new Set(pkgs) as ReadonlySet<string>),
  /**
   * The request processor's deployed configuration (toddlers.json / poddlers.json in the fixtures:
   * fedora-infra/ansible's fedora-messaging.toml as JSON). Only `scm_request_processor`'s
   * `monitor_choices` and `branch_slas` are read; the rest of the file is left alone.
   */
  scmRequestProcessor: z
    .looseObject({
      scm_request_processor: z.looseObject({
        monitor_choices: z.array(keyed(/^[a-z][a-z0-9-]{0,63}$/, "must be a monitoring choice like monitoring")).min(1).max(100),
        // Dates are kept as deployed (some do not exist, like 2029-11-31): slaValid judges requests, not this file.
        branch_slas: z.record(branchName, z.record(keyed(SLA_NAME_PATTERN, "must be a service level name like bug_fixes"), wellFormedString().max(32))),
      }),
    })
    .transform((c) => ({
      monitorChoices: c.scm_request_processor.monitor_choices,
      branchSlas: new Map(Object.entries(c.scm_request_processor.branch_slas).map(([b, s]) => [b, new Map(Object.entries(s)) as ReadonlyMap<string, string>])),
    })),
  /** Koji's side-tag settings as deployed (koji-sidetag.json in the fixtures): the base tags the hub's `sidetag` policy allows. */
  kojiSidetag: z
    .looseObject({ fedora_deployment: z.looseObject({ sidetag_base_tags_allowed: z.array(tagName).max(10_000) }) })
    .transform((k) => ({ baseTagsAllowed: new Set(k.fedora_deployment.sidetag_base_tags_allowed) })),
  /**
   * fedocal's calendars as its API lists them (`GET /api/calendars/`: `{"calendars": [{calendar_name,
   * calendar_editor_group, calendar_admin_group, ...}]}`; the fedocal.calendar.* messages carry the
   * same objects). fedocal keeps each group field as one string of comma-separated group names, or
   * null. Parsed: calendar name → the groups whose members may edit it (editors and admins).
   */
  calendars: z
    .looseObject({
      calendars: z
        .array(
          z.looseObject({
            calendar_name: wellFormedString().regex(/^[A-Za-z0-9_][A-Za-z0-9._+-]{0,79}$/, "must be a calendar name like council"),
            calendar_editor_group: calendarGroups.nullable().optional(),
            calendar_admin_group: calendarGroups.nullable().optional(),
          }),
        )
        .max(10_000),
    })
    .transform((c) => new Map(c.calendars.map((cal) => [cal.calendar_name, { editors: cal.calendar_editor_group ?? [], admins: cal.calendar_admin_group ?? [] }] as const)) as ReadonlyMap<string, CalendarGroups>),
} as const;

export type FactSource = keyof typeof factFileSchemas;
export const factSources = Object.keys(factFileSchemas) as FactSource[];

/** Every source's parsed value, by source name. */
export type FactValues = { [S in FactSource]: z.output<(typeof factFileSchemas)[S]> };

/** How one source last loaded: when it last loaded well, and the error of the last attempt if it failed. */
export interface FactSourceStatus {
  source: FactSource;
  /** The path (relative to the policies folder) or URL it is read from. */
  location: string;
  /** When the value in `values` was loaded; absent when it never loaded. */
  loadedAt?: Date;
  /** Why the last attempt failed; a value loaded earlier is kept meanwhile. */
  error?: string;
}

/**
 * What approval policies know. A source absent from `values` is unknown (not configured, or never
 * loaded): a condition over it is "unknown", never false.
 */
export interface Facts {
  values: Partial<FactValues>;
  status: readonly FactSourceStatus[];
}

/** Facts with no source known. */
export const noFacts = (): Facts => ({ values: {}, status: [] });

/** Parses one facts file's JSON value; issues are `/pointer: message` lines (at most five, then a count). */
export function parseFactFile<S extends FactSource>(source: S, raw: unknown): { ok: true; value: FactValues[S] } | { ok: false; error: string } {
  const parsed = validateDocument(factFileSchemas[source] as unknown as z.ZodType<FactValues[S]>, raw);
  if (parsed.ok) return { ok: true, value: parsed.value };
  const shown = parsed.issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  const more = parsed.issues.length > 5 ? `; and ${parsed.issues.length - 5} more` : "";
  return { ok: false, error: shown.join("; ") + more };
}

/**
 * SSH allowed-signers text for `git verify-commit` / `git log %G?` (gpg.ssh.allowedSignersFile):
 * one `<user> namespaces="git" <type> <key>` line per key, sorted. The key's comment is left out.
 */
export function renderAllowedSigners(facts: Facts): string {
  const keys = facts.values.signingKeys;
  if (!keys) return "";
  const lines: string[] = [];
  for (const [user, userKeys] of [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Checked again although the schema did: a line here grants signing rights.
    if (!USER_NAME_PATTERN.test(user)) continue;
    for (const key of userKeys) {
      if (!SSH_PUBLIC_KEY_PATTERN.test(key)) continue;
      const [type, blob] = key.split(" ");
      lines.push(`${user} namespaces="git" ${type} ${blob}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

// --- The Facts configuration document (policies/facts.yaml) ---

/**
 * Where a source is read from: a path relative to the policies folder (segments of letters, digits
 * and ._+-, no `..`), an https URL, or an http URL on the loopback host (a sidecar, a test).
 */
const sourceLocation = wellFormedString()
  .max(2000)
  .refine((l) => isRelativeFactPath(l) || isFactUrl(l), { message: "must be a path inside the policies folder (like facts/groups.json) or an https URL" });

export function isRelativeFactPath(location: string): boolean {
  const parts = location.split("/");
  return parts.length <= 16 && parts.every((p) => /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/.test(p) && !p.includes(".."));
}

export function isFactUrl(location: string): boolean {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "") return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

const durationPattern = /^([1-9][0-9]{0,4})([smhd])$/;
const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration like 15m; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const m = durationPattern.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
}

export const factsConfigSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Facts"),
  metadata: z
    .strictObject({
      name: wellFormedString().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and -").optional(),
      description: wellFormedString().max(500).optional(),
    })
    .optional(),
  spec: z.strictObject({
    refresh: wellFormedString()
      .regex(durationPattern, "must be a duration like 15m, 1h or 30s")
      .refine((d) => (durationMs(d) ?? 0) >= 10_000, { message: "must be at least 10s" })
      .default("15m"),
    sources: z.strictObject(Object.fromEntries(factSources.map((s) => [s, sourceLocation.optional()])) as { [S in FactSource]: z.ZodOptional<typeof sourceLocation> }),
  }),
});

export type FactsConfig = z.output<typeof factsConfigSchema>;

export function parseFactsConfig(raw: unknown, lineOf?: (path: (string | number)[]) => number | undefined): DocumentParse<FactsConfig> {
  return validateDocument(factsConfigSchema, raw, lineOf);
}
