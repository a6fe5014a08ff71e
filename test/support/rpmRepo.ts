// Real RPMs and real repodata for the repoclosure tests: spec files written by the test, built by
// rpmbuild (empty packages, so a build takes a fraction of a second) and indexed by createrepo_c.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface SubPackage {
  /** Full name of the subpackage (`%package -n`). */
  name: string;
  requires?: string[];
  provides?: string[];
  /** Files it owns (created empty in the build root). */
  files?: string[];
  noarch?: boolean;
}

export interface SpecPackage {
  name: string;
  /** An rpm epoch (dnf then prints name-EPOCH:version-release.arch). */
  epoch?: number;
  version?: string;
  release?: string;
  /** The main package's own dependencies and capabilities. */
  requires?: string[];
  provides?: string[];
  files?: string[];
  /** A noarch source package (every subpackage noarch). */
  noarch?: boolean;
  subpackages?: SubPackage[];
  /** Arches to build for (each a separate rpmbuild --target); default x86_64. Ignored for noarch. */
  arches?: string[];
}

function tags(kind: "Requires" | "Provides", values: string[] | undefined): string {
  return (values ?? []).map((v) => `${kind}: ${v}\n`).join("");
}

function installLines(files: string[]): string {
  return files.map((f) => `mkdir -p "%{buildroot}${path.posix.dirname(f)}" && touch "%{buildroot}${f}"\n`).join("");
}

export function specText(p: SpecPackage): string {
  const files = [...(p.files ?? []), ...(p.subpackages ?? []).flatMap((s) => s.files ?? [])];
  let text =
    `Name: ${p.name}\n${p.epoch === undefined ? "" : `Epoch: ${p.epoch}\n`}Version: ${p.version ?? "1.0"}\nRelease: ${p.release ?? "1.fc45"}\nSummary: ${p.name}\nLicense: MIT\n` +
    (p.noarch ? "BuildArch: noarch\n" : "") +
    tags("Requires", p.requires) +
    tags("Provides", p.provides) +
    `%description\n${p.name}\n`;
  for (const s of p.subpackages ?? []) {
    text += `%package -n ${s.name}\nSummary: ${s.name}\n` + (s.noarch && !p.noarch ? "BuildArch: noarch\n" : "") + tags("Requires", s.requires) + tags("Provides", s.provides) + `%description -n ${s.name}\n${s.name}\n`;
  }
  text += `%install\n${installLines(files)}`;
  text += `%files\n${(p.files ?? []).join("\n")}\n`;
  for (const s of p.subpackages ?? []) text += `%files -n ${s.name}\n${(s.files ?? []).join("\n")}\n`;
  return text;
}

/** Builds the packages' RPMs into `outDir` (flat). */
export function buildRpms(packages: SpecPackage[], outDir: string): void {
  const top = mkdtempSync(path.join(tmpdir(), "relengd-rpmbuild-"));
  try {
    mkdirSync(outDir, { recursive: true });
    for (const p of packages) {
      const spec = path.join(top, `${p.name}.spec`);
      writeFileSync(spec, specText(p));
      for (const arch of p.noarch ? [undefined] : (p.arches ?? ["x86_64"])) {
        execFileSync(
          "rpmbuild",
          ["-bb", ...(arch ? ["--target", arch] : []), "--define", `_topdir ${top}`, "--define", "_build_id_links none", "--define", "__os_install_post %{nil}", "--nodeps", spec],
          { stdio: "pipe", env: { ...process.env, LC_ALL: "C" } },
        );
      }
    }
    for (const archDir of readdirSync(path.join(top, "RPMS"))) {
      for (const rpm of readdirSync(path.join(top, "RPMS", archDir))) cpSync(path.join(top, "RPMS", archDir, rpm), path.join(outDir, rpm));
    }
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

/** Writes repodata for the RPMs in `dir` (`compress`: createrepo_c's --general-compress-type). */
export function createRepo(dir: string, compress?: "gz" | "xz" | "bz2" | "zstd"): void {
  execFileSync("createrepo_c", ["--quiet", "--no-database", ...(compress ? [`--general-compress-type=${compress}`] : []), dir], { stdio: "pipe" });
}

/** A repository of `packages` in a fresh folder under `parent`: its file:// URL. */
export function makeRepo(parent: string, name: string, packages: SpecPackage[], compress?: "gz" | "xz" | "bz2" | "zstd"): { dir: string; url: string } {
  const dir = path.join(parent, name);
  buildRpms(packages, dir);
  createRepo(dir, compress);
  return { dir, url: `file://${dir}` };
}

/** Whether rpmbuild, createrepo_c and dnf's repoclosure are all here (CI installs them). */
export function haveRpmTools(): boolean {
  try {
    execFileSync("rpmbuild", ["--version"], { stdio: "pipe" });
    execFileSync("createrepo_c", ["--version"], { stdio: "pipe" });
    execFileSync("dnf", ["repoclosure", "--help"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

/**
 * The designed repositories of the tests: every way a dependency can be (un)resolved, on two
 * arches plus noarch. `unresolved` is exactly what dnf must report.
 */
export function designedRepos(parent: string): {
  main: { dir: string; url: string };
  lookaside: { dir: string; url: string };
  expected: Record<string, { source: string; nevra: string; unresolved: string[] }[]>;
} {
  const main = makeRepo(parent, "main", [
    // libbeta = 1 only: `libbeta >= 2` is unresolved.
    { name: "beta", provides: ["libbeta = 1"], arches: ["x86_64", "aarch64"], subpackages: [{ name: "beta-tools", requires: ["missingcap(foo)"] }] },
    // A noarch consumer: broken on every arch, by a versioned requirement and a file.
    { name: "alpha", noarch: true, requires: ["libbeta >= 2", "(delta or beta)", "/usr/bin/nothere", "/usr/share/omega/data"] },
    // Satisfied by the lookaside repo only.
    { name: "epsilon", noarch: true, requires: ["zeta >= 1"] },
    // Owns the file alpha needs, and satisfies the rich dependency's second branch.
    { name: "omega", noarch: true, files: ["/usr/share/omega/data"] },
    // A package that is broken on one arch only.
    { name: "kappa", arches: ["aarch64"], requires: ["lambda-aarch64-only"] },
  ]);
  const lookaside = makeRepo(parent, "lookaside", [{ name: "zeta", noarch: true, version: "1.5", requires: ["nothing-here-either"] }]);
  const alpha = { source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", unresolved: ["libbeta >= 2", "/usr/bin/nothere"] };
  return {
    main,
    lookaside,
    expected: {
      x86_64: [alpha, { source: "beta", nevra: "beta-tools-1.0-1.fc45.x86_64", unresolved: ["missingcap(foo)"] }],
      aarch64: [alpha, { source: "beta", nevra: "beta-tools-1.0-1.fc45.aarch64", unresolved: ["missingcap(foo)"] }, { source: "kappa", nevra: "kappa-1.0-1.fc45.aarch64", unresolved: ["lambda-aarch64-only"] }],
    },
  };
}
