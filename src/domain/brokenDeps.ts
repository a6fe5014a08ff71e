// The broken-dependency report: its JSON form (the one machines read), the differences between
// two reports, and the words a blocked release, a commit trailer and a terminal show of it.
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { parseNvr } from "./nvr.js";

/** One package with dependencies nothing in the checked repos provides. */
export interface BrokenPackage {
  /** The source package (the SRPM's name) the package was built from. */
  source: string;
  /** As dnf prints it: `alpha-1.0-1.fc45.noarch`. */
  nevra: string;
  repo: string;
  /** dnf's own strings: `libbeta >= 2`. */
  unresolved: string[];
  /** Source packages whose builds last provided a missing capability, when the Koji tag history knows them. */
  blame: string[];
}

export interface BrokenDepsReport {
  /** What was checked, in people's words: `rawhide`, `f45-build`, a compose id. */
  tree: string;
  /** ISO 8601, UTC. */
  generatedAt: string;
  /** arch → broken packages, sorted by source then nevra. Every checked arch is present, empty when clean. */
  arches: Record<string, BrokenPackage[]>;
}

const brokenPackageSchema = z.strictObject({
  source: wellFormedString().min(1).max(256),
  nevra: wellFormedString().min(1).max(512),
  repo: wellFormedString().min(1).max(64),
  unresolved: z.array(wellFormedString().min(1).max(4096)).min(1).max(10_000),
  blame: z.array(wellFormedString().min(1).max(256)).max(100),
});

export const brokenDepsReportSchema = z.strictObject({
  tree: wellFormedString().min(1).max(256),
  generatedAt: z.iso.datetime(),
  arches: z.record(wellFormedString().regex(/^[a-z0-9_]{1,16}$/, "must be an arch"), z.array(brokenPackageSchema).max(200_000)),
});

export function renderBrokenDepsReport(report: BrokenDepsReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function parseBrokenDepsReport(text: string): { ok: true; report: BrokenDepsReport } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const parsed = brokenDepsReportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `/${issue?.path.join("/") ?? ""} ${issue?.message ?? "is invalid"}` };
  }
  return { ok: true, report: parsed.data };
}

/** Rows in a stable order: by source, then nevra. */
export function sortBrokenPackages(rows: BrokenPackage[]): BrokenPackage[] {
  return [...rows].sort((a, b) => (a.source === b.source ? (a.nevra < b.nevra ? -1 : a.nevra > b.nevra ? 1 : 0) : a.source < b.source ? -1 : 1));
}

export interface BrokenDepsCounts {
  /** Distinct broken packages (a noarch package listed under every arch counts once). */
  packages: number;
  /** Distinct source packages. */
  sources: number;
  /** Distinct (package, dependency) pairs. */
  dependencies: number;
  /** Arches with at least one broken package, in the report's order. */
  brokenArches: string[];
}

export function brokenDepsCounts(report: BrokenDepsReport): BrokenDepsCounts {
  const packages = new Set<string>();
  const dependencies = new Set<string>();
  const sources = new Set<string>();
  const brokenArches: string[] = [];
  for (const [arch, rows] of Object.entries(report.arches)) {
    if (rows.length > 0) brokenArches.push(arch);
    for (const r of rows) {
      packages.add(r.nevra);
      for (const d of r.unresolved) dependencies.add(`${r.nevra}\0${d}`);
      sources.add(r.source);
    }
  }
  return { packages: packages.size, sources: sources.size, dependencies: dependencies.size, brokenArches };
}

export function isBroken(report: BrokenDepsReport): boolean {
  return Object.values(report.arches).some((rows) => rows.length > 0);
}

/** The `Relengd-Repoclosure` trailer's value: `3 unresolved (aarch64 x86_64)`. */
export function repoclosureTrailerValue(report: BrokenDepsReport): string {
  const c = brokenDepsCounts(report);
  return c.dependencies === 0 ? "0 unresolved" : `${c.dependencies} unresolved (${c.brokenArches.join(" ")})`;
}

/**
 * Why a `fatal` check blocks a release: the count, then the first packages with their first
 * dependencies, short enough for a status line.
 */
export function describeBroken(report: BrokenDepsReport, firstPackages = 3): string {
  const c = brokenDepsCounts(report);
  const shown: string[] = [];
  const seen = new Set<string>();
  for (const rows of Object.values(report.arches)) {
    for (const r of rows) {
      if (seen.has(r.nevra)) continue;
      seen.add(r.nevra);
      if (shown.length < firstPackages) shown.push(`${r.nevra} requires ${r.unresolved.slice(0, 2).join(", ")}${r.unresolved.length > 2 ? ", …" : ""}`);
    }
  }
  const more = seen.size > shown.length ? `; and ${seen.size - shown.length} more package${seen.size - shown.length === 1 ? "" : "s"}` : "";
  return (
    `repoclosure: ${c.dependencies} unresolved dependenc${c.dependencies === 1 ? "y" : "ies"} in ${c.packages} package${c.packages === 1 ? "" : "s"} ` +
    `(${c.brokenArches.join(", ")}): ${shown.join("; ")}${more}`
  );
}

/** A package's problem on one arch, the unit a diff and a mail speak of. */
export interface BrokenRow {
  arch: string;
  source: string;
  nevra: string;
  unresolved: string[];
}

export interface BrokenDepsDiff {
  /** Dependencies broken now that were not before (a row holds only the new strings). */
  newlyBroken: BrokenRow[];
  /** Dependencies broken before that are not now (rows of the previous report). */
  fixed: BrokenRow[];
}

// A package's identity across reports is its name and arch, not its version: a rebuild that is
// still broken the same way is not news, a rebuild that fixed it is.
function nameArch(nevra: string, arch: string): string {
  const dot = nevra.lastIndexOf(".");
  const nvr = dot > 0 ? nevra.slice(0, dot) : nevra;
  const pkgArch = dot > 0 ? nevra.slice(dot + 1) : "";
  const parsed = parseNvr(nvr);
  return `${arch}\0${parsed.ok ? parsed.nvr.name : nvr}\0${pkgArch}`;
}

/** What changed from `previous` to `current` (no previous: everything broken is new). */
export function diffBrokenDeps(previous: BrokenDepsReport | undefined, current: BrokenDepsReport): BrokenDepsDiff {
  const before = new Map<string, { row: BrokenPackage; arch: string }>();
  if (previous) for (const [arch, rows] of Object.entries(previous.arches)) for (const row of rows) before.set(nameArch(row.nevra, arch), { row, arch });
  const now = new Map<string, { row: BrokenPackage; arch: string }>();
  for (const [arch, rows] of Object.entries(current.arches)) for (const row of rows) now.set(nameArch(row.nevra, arch), { row, arch });

  const newlyBroken: BrokenRow[] = [];
  for (const [key, { row, arch }] of now) {
    const old = new Set(before.get(key)?.row.unresolved ?? []);
    const added = row.unresolved.filter((d) => !old.has(d));
    if (added.length > 0) newlyBroken.push({ arch, source: row.source, nevra: row.nevra, unresolved: added });
  }
  const fixed: BrokenRow[] = [];
  for (const [key, { row, arch }] of before) {
    // Only arches the current report checked: an arch dropped from the check is not fixed.
    if (!(arch in current.arches)) continue;
    const still = new Set(now.get(key)?.row.unresolved ?? []);
    const gone = row.unresolved.filter((d) => !still.has(d));
    if (gone.length > 0) fixed.push({ arch, source: row.source, nevra: row.nevra, unresolved: gone });
  }
  return { newlyBroken, fixed };
}

/**
 * The report as text, in releng's spam-o-matic form: for each arch `Broken deps for <arch>`, a
 * rule, then per source package `[<src>]` and its `<nevra> requires <dep>` lines.
 */
export function renderBrokenDepsText(report: BrokenDepsReport): string {
  const out: string[] = [];
  const c = brokenDepsCounts(report);
  out.push(`Broken dependencies in ${report.tree} (${report.generatedAt})`);
  out.push(c.packages === 0 ? "No broken dependencies." : `${c.dependencies} unresolved dependencies in ${c.packages} packages from ${c.sources} source packages.`);
  for (const [arch, rows] of Object.entries(report.arches)) {
    if (rows.length === 0) continue;
    out.push("", `Broken deps for ${arch}`, "-".repeat(58));
    out.push(...renderSourceBlocks(rows.map((r) => ({ arch, ...r }))));
  }
  return `${out.join("\n")}\n`;
}

/** `[<src>]` blocks of `\t<nevra> requires <dep>` lines, sources in order. */
export function renderSourceBlocks(rows: readonly BrokenRow[]): string[] {
  const bySource = new Map<string, BrokenRow[]>();
  for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  const out: string[] = [];
  for (const source of [...bySource.keys()].sort()) {
    out.push(`[${source}]`);
    for (const r of bySource.get(source) ?? []) for (const dep of r.unresolved) out.push(`\t${r.nevra} requires ${dep}`);
  }
  return out;
}

/**
 * The package names that may have provided a capability, most likely first: `libbeta >= 2` →
 * libbeta, beta; `perl(Foo::Bar)` → perl-Foo-Bar; `libfoo.so.1()(64bit)` → libfoo, foo;
 * `python3dist(requests)` → python-requests, python3-requests; a file path gives nothing.
 */
export function providerCandidates(dependency: string): string[] {
  const dep = dependency.trim().split(/\s+(?:[<>=]=?|=)\s+/)[0]?.trim() ?? "";
  if (dep === "" || dep.startsWith("/") || dep.startsWith("(")) return [];
  const out: string[] = [];
  const add = (n: string | undefined): void => {
    if (n && /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(n) && !out.includes(n)) out.push(n);
  };
  // `%{name}-libs%{?_isa} = %{version}-%{release}`, the commonest broken dependency in Fedora,
  // reads `foo-libs(x86-64) = 1.0-1.fc45`: the package itself, qualified by rpm's ISA marker.
  const isa = /^([A-Za-z0-9._+-]+)\((?:x86|aarch|ppc|s390|sparc|arm|riscv|mips|loongarch|ia)-(?:32|64)\)$/.exec(dep);
  if (isa) {
    add(isa[1]);
    add(isa[1]?.replace(/-(devel|libs|common)$/, ""));
    return out;
  }
  const wrapped = /^([A-Za-z0-9_-]+)\((.+?)\)/.exec(dep);
  if (wrapped) {
    const [, ns, inner] = wrapped as unknown as [string, string, string];
    if (ns === "perl") add(`perl-${inner.replace(/::/g, "-")}`);
    else if (/^python\d*dist$/.test(ns)) {
      add(`python-${inner}`);
      add(`python3-${inner}`);
    } else if (ns === "pkgconfig" || ns === "cmake") {
      add(inner);
      add(`${inner}-devel`);
    } else if (ns === "rubygem") add(`rubygem-${inner}`);
    else if (ns === "golang") add(`golang-${inner.replace(/^[a-z]+\.[a-z]+\//, "").replace(/[/.]/g, "-")}`);
    else if (ns === "mvn") add(inner.split(":")[1]);
    else if (ns === "npm") add(`nodejs-${inner}`);
    else if (ns === "font" || ns === "tex") add(inner);
    // A soname: libfoo.so.1()(64bit).
    if (ns.includes(".so")) {
      add(ns.replace(/\.so.*$/, ""));
      add(ns.replace(/\.so.*$/, "").replace(/^lib/, ""));
    }
    return out;
  }
  const soname = /^(lib[A-Za-z0-9_+-]+?)(?:-[0-9.]+)?\.so/.exec(dep);
  if (soname) {
    add(soname[1]);
    add(soname[1]?.replace(/^lib/, ""));
    return out;
  }
  add(dep);
  add(dep.replace(/-(devel|libs|common)$/, ""));
  if (dep.startsWith("lib")) add(dep.replace(/^lib/, ""));
  return out;
}

/** A Koji tag's change of one package's build, as observed on the bus. */
export interface TagHistoryEntry {
  package: string;
  nvr: string;
  tagged: boolean;
  eventAt: Date;
}

/**
 * Who to blame for a row: for each unresolved dependency, the source package among its provider
 * candidates whose build changed in the tag most recently (a newer build that stopped providing
 * it, or an untag that removed it). A dependency whose candidates the history does not know
 * blames nobody.
 */
export function blameFor(unresolved: readonly string[], historyByPackage: ReadonlyMap<string, readonly TagHistoryEntry[]>, self: string): string[] {
  const blamed: string[] = [];
  for (const dep of unresolved) {
    let best: TagHistoryEntry | undefined;
    for (const name of providerCandidates(dep)) {
      for (const entry of historyByPackage.get(name) ?? []) {
        if (!best || entry.eventAt > best.eventAt) best = entry;
      }
    }
    if (best && best.package !== self && !blamed.includes(best.package)) blamed.push(best.package);
  }
  return blamed;
}
