// The broken-dependency report's format (JSON both ways), what changed between two reports, and
// the words a blocked release, a trailer and a terminal show of it.
import { describe, expect, it } from "vitest";
import {
  blameFor,
  brokenDepsCounts,
  describeBroken,
  diffBrokenDeps,
  isBroken,
  parseBrokenDepsReport,
  providerCandidates,
  renderBrokenDepsReport,
  renderBrokenDepsText,
  renderSourceBlocks,
  repoclosureTrailerValue,
  sortBrokenPackages,
  type BrokenDepsReport,
  type BrokenPackage,
  type TagHistoryEntry,
} from "../../src/domain/brokenDeps.js";

const row = (source: string, nevra: string, unresolved: string[], blame: string[] = []): BrokenPackage => ({ source, nevra, repo: "main", unresolved, blame });
const alpha = row("alpha", "alpha-1.0-1.fc45.noarch", ["/usr/bin/nothere", "libbeta >= 2"], ["beta"]);

/** The designed repos' report (test/support/rpmRepo.ts), as the runner gives it. */
const designed: BrokenDepsReport = {
  tree: "f45-build",
  generatedAt: "2031-05-06T12:00:00.000Z",
  arches: {
    x86_64: [alpha, row("beta", "beta-tools-1.0-1.fc45.x86_64", ["missingcap(foo)"])],
    aarch64: [alpha, row("beta", "beta-tools-1.0-1.fc45.aarch64", ["missingcap(foo)"]), row("kappa", "kappa-1.0-1.fc45.aarch64", ["lambda-aarch64-only"])],
  },
};
const clean: BrokenDepsReport = { tree: "f45-build", generatedAt: "2031-05-06T12:00:00.000Z", arches: { x86_64: [], aarch64: [] } };

describe("the report's JSON", () => {
  it("renders and parses back the same, the field order of the issue kept", () => {
    const text = renderBrokenDepsReport(designed);
    expect(parseBrokenDepsReport(text)).toEqual({ ok: true, report: designed });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(["tree", "generatedAt", "arches"]);
    expect(Object.keys((JSON.parse(text) as BrokenDepsReport).arches.x86_64?.[0] ?? {})).toEqual(["source", "nevra", "repo", "unresolved", "blame"]);
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("rejects what is not the report, naming the field", () => {
    const bad = (mutate: (r: Record<string, unknown>) => void): string => {
      const r = JSON.parse(renderBrokenDepsReport(designed)) as Record<string, unknown>;
      mutate(r);
      return JSON.stringify(r);
    };
    const error = (text: string): string => {
      const parsed = parseBrokenDepsReport(text);
      return parsed.ok ? "(accepted)" : parsed.error;
    };
    expect(error("{")).toMatch(/^not JSON: /);
    expect(error(bad((r) => delete r.tree))).toMatch(/^\/tree /);
    expect(error(bad((r) => (r.generatedAt = "yesterday")))).toMatch(/^\/generatedAt /);
    expect(error(bad((r) => (r.extra = 1)))).toMatch(/extra/);
    expect(error(bad((r) => ((r.arches as Record<string, unknown>)["X86 64"] = [])))).toMatch(/^\/arches\/X86 64 /);
    expect(error(bad((r) => (((r.arches as Record<string, BrokenPackage[]>).x86_64 as BrokenPackage[])[1] = { ...alpha, unresolved: [] })))).toMatch(/^\/arches\/x86_64\/1\/unresolved /);
    expect(error(bad((r) => (((r.arches as Record<string, BrokenPackage[]>).aarch64 as BrokenPackage[])[2] = { ...alpha, nevra: "" })))).toMatch(/^\/arches\/aarch64\/2\/nevra /);
    expect(error(bad((r) => (((r.arches as Record<string, BrokenPackage[]>).aarch64 as BrokenPackage[])[0] = { ...alpha, blame: "beta" as unknown as string[] })))).toMatch(/^\/arches\/aarch64\/0\/blame /);
  });

  it("sorts rows by source, then NEVRA", () => {
    const rows = [row("b", "b-1-1.noarch", ["x"]), row("a", "a-tools-1-1.noarch", ["x"]), row("a", "a-1-1.noarch", ["x"])];
    expect(sortBrokenPackages(rows).map((r) => r.nevra)).toEqual(["a-1-1.noarch", "a-tools-1-1.noarch", "b-1-1.noarch"]);
    expect(rows[0]?.source).toBe("b");
  });
});

describe("counts and words", () => {
  it("counts distinct packages, sources, dependencies and the broken arches", () => {
    expect(brokenDepsCounts(designed)).toEqual({ packages: 4, sources: 3, dependencies: 5, brokenArches: ["x86_64", "aarch64"] });
    expect(brokenDepsCounts(clean)).toEqual({ packages: 0, sources: 0, dependencies: 0, brokenArches: [] });
    expect(isBroken(designed)).toBe(true);
    expect(isBroken(clean)).toBe(false);
  });

  it("gives the trailer's value: count and broken arches", () => {
    expect(repoclosureTrailerValue(designed)).toBe("5 unresolved (x86_64 aarch64)");
    expect(repoclosureTrailerValue({ ...designed, arches: { x86_64: [], aarch64: designed.arches.aarch64 ?? [] } })).toBe("4 unresolved (aarch64)");
    expect(repoclosureTrailerValue(clean)).toBe("0 unresolved");
  });

  it("says why a fatal check blocks: the count, then the first packages with their first dependencies", () => {
    expect(describeBroken(designed)).toBe(
      "repoclosure: 5 unresolved dependencies in 4 packages (x86_64, aarch64): alpha-1.0-1.fc45.noarch requires /usr/bin/nothere, libbeta >= 2; " +
        "beta-tools-1.0-1.fc45.x86_64 requires missingcap(foo); beta-tools-1.0-1.fc45.aarch64 requires missingcap(foo); and 1 more package",
    );
    const one: BrokenDepsReport = { ...clean, arches: { x86_64: [row("alpha", "alpha-1.0-1.fc45.noarch", ["a", "b", "c"])] } };
    expect(describeBroken(one)).toBe("repoclosure: 3 unresolved dependencies in 1 package (x86_64): alpha-1.0-1.fc45.noarch requires a, b, …");
    const single: BrokenDepsReport = { ...clean, arches: { x86_64: [row("alpha", "alpha-1.0-1.fc45.noarch", ["libbeta >= 2"])] } };
    expect(describeBroken(single)).toBe("repoclosure: 1 unresolved dependency in 1 package (x86_64): alpha-1.0-1.fc45.noarch requires libbeta >= 2");
  });

  it("keeps the blocked reason short however much is broken", () => {
    const many: BrokenDepsReport = { ...clean, arches: { x86_64: Array.from({ length: 20_000 }, (_, i) => row(`p${i}`, `p${i}-1-1.x86_64`, ["x".repeat(200), "y", "z"])) } };
    const reason = describeBroken(many);
    expect(reason.length).toBeLessThan(1000);
    expect(reason).toMatch(/; and 19997 more packages$/);
  });

  it("prints the report in spam-o-matic's form: per arch, [source] blocks of `nevra requires dep` lines", () => {
    expect(renderBrokenDepsText(designed)).toBe(
      [
        "Broken dependencies in f45-build (2031-05-06T12:00:00.000Z)",
        "5 unresolved dependencies in 4 packages from 3 source packages.",
        "",
        "Broken deps for x86_64",
        "-".repeat(58),
        "[alpha]",
        "\talpha-1.0-1.fc45.noarch requires /usr/bin/nothere",
        "\talpha-1.0-1.fc45.noarch requires libbeta >= 2",
        "[beta]",
        "\tbeta-tools-1.0-1.fc45.x86_64 requires missingcap(foo)",
        "",
        "Broken deps for aarch64",
        "-".repeat(58),
        "[alpha]",
        "\talpha-1.0-1.fc45.noarch requires /usr/bin/nothere",
        "\talpha-1.0-1.fc45.noarch requires libbeta >= 2",
        "[beta]",
        "\tbeta-tools-1.0-1.fc45.aarch64 requires missingcap(foo)",
        "[kappa]",
        "\tkappa-1.0-1.fc45.aarch64 requires lambda-aarch64-only",
        "",
      ].join("\n"),
    );
    expect(renderBrokenDepsText(clean)).toBe("Broken dependencies in f45-build (2031-05-06T12:00:00.000Z)\nNo broken dependencies.\n");
  });

  it("groups source blocks by source, in order, whatever order the rows come in", () => {
    const rows = [
      { arch: "x86_64", source: "zeta", nevra: "zeta-1-1.x86_64", unresolved: ["a"] },
      { arch: "x86_64", source: "beta", nevra: "beta-1-1.x86_64", unresolved: ["b", "c"] },
      { arch: "x86_64", source: "zeta", nevra: "zeta-devel-1-1.x86_64", unresolved: ["d"] },
    ];
    expect(renderSourceBlocks(rows)).toEqual(["[beta]", "\tbeta-1-1.x86_64 requires b", "\tbeta-1-1.x86_64 requires c", "[zeta]", "\tzeta-1-1.x86_64 requires a", "\tzeta-devel-1-1.x86_64 requires d"]);
  });
});

describe("diffBrokenDeps", () => {
  const report = (arches: Record<string, BrokenPackage[]>): BrokenDepsReport => ({ tree: "f45-build", generatedAt: "2031-05-06T12:00:00.000Z", arches });

  it("with no previous report, everything broken is new", () => {
    const d = diffBrokenDeps(undefined, designed);
    expect(d.fixed).toEqual([]);
    expect(d.newlyBroken).toHaveLength(5);
    expect(d.newlyBroken[0]).toEqual({ arch: "x86_64", source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", unresolved: ["/usr/bin/nothere", "libbeta >= 2"] });
  });

  it("knows a package by name and arch, not version: a rebuild still broken the same way is not news", () => {
    const before = report({ x86_64: [row("alpha", "alpha-1.0-1.fc45.noarch", ["libbeta >= 2"])] });
    const rebuilt = report({ x86_64: [row("alpha", "alpha-1:1.1~rc1-2.fc45.noarch", ["libbeta >= 2"])] });
    expect(diffBrokenDeps(before, rebuilt)).toEqual({ newlyBroken: [], fixed: [] });
  });

  it("tells a new dependency of a still-broken package, and a fixed one, each alone", () => {
    const before = report({ x86_64: [row("alpha", "alpha-1.0-1.fc45.noarch", ["libbeta >= 2", "/usr/bin/nothere"])] });
    const after = report({ x86_64: [row("alpha", "alpha-1.0-2.fc45.noarch", ["libbeta >= 2", "libgamma.so.1()(64bit)"])] });
    expect(diffBrokenDeps(before, after)).toEqual({
      newlyBroken: [{ arch: "x86_64", source: "alpha", nevra: "alpha-1.0-2.fc45.noarch", unresolved: ["libgamma.so.1()(64bit)"] }],
      fixed: [{ arch: "x86_64", source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", unresolved: ["/usr/bin/nothere"] }],
    });
  });

  it("keeps arches apart, and the arch of a package apart (x86_64 and i686 builds in one tree)", () => {
    const before = report({ x86_64: [row("beta", "beta-libs-1-1.x86_64", ["a"]), row("beta", "beta-libs-1-1.i686", ["a"])], aarch64: [] });
    const after = report({ x86_64: [row("beta", "beta-libs-1-1.i686", ["a"])], aarch64: [row("beta", "beta-libs-1-1.aarch64", ["a"])] });
    expect(diffBrokenDeps(before, after)).toEqual({
      newlyBroken: [{ arch: "aarch64", source: "beta", nevra: "beta-libs-1-1.aarch64", unresolved: ["a"] }],
      fixed: [{ arch: "x86_64", source: "beta", nevra: "beta-libs-1-1.x86_64", unresolved: ["a"] }],
    });
  });

  it("does not call an arch dropped from the check fixed", () => {
    expect(diffBrokenDeps(designed, { ...designed, arches: { x86_64: designed.arches.x86_64 ?? [] } })).toEqual({ newlyBroken: [], fixed: [] });
  });

  it("finds nothing between a report and itself, and everything fixed when it is clean again", () => {
    expect(diffBrokenDeps(designed, designed)).toEqual({ newlyBroken: [], fixed: [] });
    const d = diffBrokenDeps(designed, clean);
    expect(d.newlyBroken).toEqual([]);
    expect(d.fixed.map((r) => `${r.arch} ${r.nevra}`)).toEqual([
      "x86_64 alpha-1.0-1.fc45.noarch",
      "x86_64 beta-tools-1.0-1.fc45.x86_64",
      "aarch64 alpha-1.0-1.fc45.noarch",
      "aarch64 beta-tools-1.0-1.fc45.aarch64",
      "aarch64 kappa-1.0-1.fc45.aarch64",
    ]);
  });
});

describe("providerCandidates", () => {
  it.each([
    ["libbeta >= 2", ["libbeta", "beta"]],
    ["perl(Foo::Bar) >= 1.2", ["perl-Foo-Bar"]],
    ["python3dist(requests) >= 2.31", ["python-requests", "python3-requests"]],
    ["libfoo.so.1()(64bit)", ["libfoo", "foo"]],
    ["libgone-2.0.so.0", ["libgone", "gone"]],
    ["pkgconfig(glib-2.0) >= 2.80", ["glib-2.0", "glib-2.0-devel"]],
    ["rubygem(rake)", ["rubygem-rake"]],
    ["npm(left-pad)", ["nodejs-left-pad"]],
    ["mvn(org.apache:commons-io)", ["commons-io"]],
    ["libbeta-devel", ["libbeta-devel", "libbeta", "beta-devel"]],
    // `Requires: %{name}-libs%{?_isa} = %{version}-%{release}`: the package, qualified by its ISA.
    ["foo-libs(x86-64) = 1.0-1.fc45", ["foo-libs", "foo"]],
    ["libstdc++(aarch-64) >= 14", ["libstdc++"]],
    ["glibc(x86-32)", ["glibc"]],
  ])("%s → %j", (dep, names) => {
    expect(providerCandidates(dep)).toEqual(names);
  });

  it("names nobody for a file or a rich dependency", () => {
    expect(providerCandidates("/usr/bin/nothere")).toEqual([]);
    expect(providerCandidates("(delta or beta)")).toEqual([]);
    expect(providerCandidates("   ")).toEqual([]);
  });
});

describe("blameFor", () => {
  const entry = (pkg: string, nvr: string, day: number, tagged = true): TagHistoryEntry => ({ package: pkg, nvr, tagged, eventAt: new Date(Date.UTC(2031, 0, day)) });
  const history = new Map<string, TagHistoryEntry[]>([
    ["beta", [entry("beta", "beta-0.9-1.fc45", 1), entry("beta", "beta-1.0-1.fc45", 5)]],
    ["libbeta", [entry("libbeta", "libbeta-2.0-1.fc45", 3, false)]],
    ["foo", [entry("foo", "foo-2.0-1.fc45", 4)]],
  ]);

  it("blames the candidate whose build changed in the tag last, once each", () => {
    expect(blameFor(["libbeta >= 2", "beta-devel"], history, "alpha")).toEqual(["beta"]);
    expect(blameFor(["foo-libs(x86-64) = 1.0-1.fc45", "libbeta >= 2"], history, "alpha")).toEqual(["foo", "beta"]);
  });

  it("never blames the package itself, nor anyone for what the history does not know", () => {
    expect(blameFor(["libbeta >= 2"], history, "beta")).toEqual([]);
    expect(blameFor(["/usr/bin/nothere", "missingcap(foo)"], history, "alpha")).toEqual([]);
  });
});
