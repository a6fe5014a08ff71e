// What `dnf repoclosure` printed, read back: dnf 4's older and newer plugin forms (one recorded
// here), dnf 5's form from its own sources, and output as it arrives in practice.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { blameTagOf, checkedRepoIds, parseRepoclosureOutput, repoclosurePreflightSchema, repoclosureTargetSchema, repoSetKey, repoUrlForArch, type RepoclosureTarget } from "../../src/domain/repoclosure.js";

/** A fixture without its leading "# " note (what dnf itself printed). */
function recorded(name: string): string {
  const text = readFileSync(new URL(`../fixtures/repoclosure/${name}`, import.meta.url), "utf8");
  const lines = text.split("\n");
  let i = 0;
  while (lines[i]?.startsWith("# ")) i += 1;
  return lines.slice(i).join("\n");
}

describe("parseRepoclosureOutput", () => {
  it("reads dnf-plugins-core 4.3's form as Debian 12's dnf prints it, with its totals", () => {
    const out = parseRepoclosureOutput(recorded("dnf4-plugins-4.3.txt"));
    expect(out.packages).toEqual([
      { nevra: "alpha-1.0-1.fc45.noarch", repo: "main", unresolved: ["/usr/bin/nothere", "libbeta >= 2"] },
      { nevra: "beta-tools-1.0-1.fc45.x86_64", repo: "main", unresolved: ["missingcap(foo)"] },
      { nevra: "epsilon-1.0-1.fc45.noarch", repo: "main", unresolved: ["zeta >= 1"] },
      { nevra: "rho-1.0-1.fc45.x86_64", repo: "extra", unresolved: ["libmissing.so.3()(64bit)", "(nothere-a or nothere-b)", "pkgconfig(foo) >= 1.2"] },
    ]);
    expect(out.totals).toEqual({ dependencies: 7, packages: 4 });
  });

  it("reads the older dnf 4 form (no counts, no totals), an epoch in the NEVRA included", () => {
    const out = parseRepoclosureOutput(recorded("dnf4-old.txt"));
    expect(out.packages).toEqual([
      { nevra: "alpha-1.0-1.fc45.noarch", repo: "main", unresolved: ["libbeta >= 2", "/usr/bin/nothere"] },
      { nevra: "beta-tools-1.0-1.fc45.x86_64", repo: "main", unresolved: ["missingcap(foo)"] },
      { nevra: "perl-Foo-Bar-2:0.31-4.fc45.noarch", repo: "main", unresolved: ["perl(Foo::Baz) >= 1.2"] },
    ]);
    expect(out.totals).toBeUndefined();
  });

  it("reads dnf 5's form, its repository-loading lines on stderr skipped", () => {
    const out = parseRepoclosureOutput(recorded("dnf5.txt"));
    expect(out.packages.map((p) => [p.nevra, p.repo, p.unresolved])).toEqual([
      ["alpha-1.0-1.fc45.noarch", "main", ["/usr/bin/nothere", "libbeta >= 2"]],
      ["beta-tools-1.0-1.fc45.x86_64", "main", ["missingcap(foo)"]],
      ["perl-Foo-Bar-2:0.31-4.fc45.noarch", "main", ["perl(Foo::Baz) >= 1.2"]],
      ["rho-1.0-1.fc45.x86_64", "extra", ["(nothere-a or nothere-b)", "libmissing.so.3()(64bit)", "pkgconfig(foo) >= 1.2"]],
    ]);
    expect(out.totals).toEqual({ dependencies: 7, packages: 4 });
    // The counts dnf announced agree with what was read.
    expect(out.packages.reduce((n, p) => n + p.unresolved.length, 0)).toBe(out.totals?.dependencies);
  });

  it("reads dnf 5's totals for a single package (dnf 5 says \"1 packages\")", () => {
    const out = parseRepoclosureOutput("package: a-1-1.noarch from r\n  unresolved deps (1):\n    b\nError: Repoclosure ended with unresolved dependencies (1) across 1 packages.\n");
    expect(out).toEqual({ packages: [{ nevra: "a-1-1.noarch", repo: "r", unresolved: ["b"] }], totals: { dependencies: 1, packages: 1 } });
  });

  it("reads the same from CRLF line ends", () => {
    for (const name of ["dnf4-plugins-4.3.txt", "dnf4-old.txt", "dnf5.txt"]) {
      const lf = recorded(name);
      expect(parseRepoclosureOutput(lf.replace(/\n/g, "\r\n")), name).toEqual(parseRepoclosureOutput(lf));
    }
  });

  it("finds nothing in a clean run's output and in an error's", () => {
    expect(parseRepoclosureOutput("Added main repo from file:///srv/main\nmain   1.5 MB/s | 1.5 kB     00:00\n")).toEqual({ packages: [] });
    expect(parseRepoclosureOutput("Error: Failed to download metadata for repo 'main': Cannot download repomd.xml: Curl error (37)\n")).toEqual({ packages: [] });
    expect(parseRepoclosureOutput("")).toEqual({ packages: [] });
  });

  it("keeps a dependency's inner spaces and parentheses, and does not take a dependency that reads like a header for one", () => {
    const text = ["package: x-1-1.noarch from r", "  unresolved deps (3):", "    (python3-foo if (python3 >= 3.12 with python3 < 3.14))", "    font(:lang=en)", "    package: not-a-block", ""].join("\n");
    expect(parseRepoclosureOutput(text).packages).toEqual([{ nevra: "x-1-1.noarch", repo: "r", unresolved: ["(python3-foo if (python3 >= 3.12 with python3 < 3.14))", "font(:lang=en)", "package: not-a-block"] }]);
  });

  it("ends a block at a line that belongs to no block (a progress line, a message)", () => {
    const text = ["package: x-1-1.noarch from r", "  unresolved deps:", "    a", "Last metadata expiration check: 0:00:01 ago", "    b", "package: y-1-1.noarch from r", "  unresolved deps:", "    c"].join("\n");
    expect(parseRepoclosureOutput(text).packages).toEqual([
      { nevra: "x-1-1.noarch", repo: "r", unresolved: ["a"] },
      { nevra: "y-1-1.noarch", repo: "r", unresolved: ["c"] },
    ]);
  });

  it("takes a block as listed when its header announces more than it lists (output cut short)", () => {
    expect(parseRepoclosureOutput("package: x-1-1.noarch from r\n  unresolved deps (3):\n    a\n").packages).toEqual([{ nevra: "x-1-1.noarch", repo: "r", unresolved: ["a"] }]);
  });

  it("reads a Rawhide-sized output (50,000 packages, 150,000 dependencies) whole", () => {
    const lines: string[] = ["Updating and loading repositories:", " rawhide 100% | 10.0 MiB/s | 80.0 MiB | 00m08s", "Repositories loaded."];
    for (let i = 0; i < 50_000; i++) lines.push(`package: pkg${i}-1.0-1.fc45.x86_64 from rawhide`, "  unresolved deps (3):", `    libgone${i}.so.1()(64bit)`, `    perl(Gone::M${i}) >= 2`, `    (a${i} or b${i})`);
    lines.push("Error: Repoclosure ended with unresolved dependencies (150000) across 50000 packages.");
    const out = parseRepoclosureOutput(lines.join("\n"));
    expect(out.packages).toHaveLength(50_000);
    expect(out.packages[49_999]).toEqual({ nevra: "pkg49999-1.0-1.fc45.x86_64", repo: "rawhide", unresolved: ["libgone49999.so.1()(64bit)", "perl(Gone::M49999) >= 2", "(a49999 or b49999)"] });
    expect(out.totals).toEqual({ dependencies: 150_000, packages: 50_000 });
  });

  it("reads a line of a million spaces in linear time (no backtracking on trailing whitespace)", () => {
    // No clock: with a quadratic trim (/\s+$/) this test does not end for hours, and CI fails it.
    const spaces = " ".repeat(1_000_000);
    const text = Array.from({ length: 5 }, (_, i) => `package: x${i}-1-1.noarch from r\n  unresolved deps (1):\n    a${spaces}b`).join("\n");
    const out = parseRepoclosureOutput(text);
    // Compared as booleans: vitest's matchers are slow to compare megabyte strings.
    expect(out.packages.length).toBe(5);
    expect(out.packages.every((p) => p.unresolved.length === 1 && p.unresolved[0] === `a${spaces}b`)).toBe(true);
  }, 20_000);
});

describe("the repoclosure target", () => {
  const base = { arches: ["x86_64"], repos: [{ id: "f45-build", url: "https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/" }] };

  it("names the field of a bad value", () => {
    const cases: [unknown, string][] = [
      [{ ...base, arches: ["noarch"] }, "arches.0"],
      [{ ...base, repos: [{ id: "-x", url: "file:///a" }] }, "repos.0.id"],
      [{ ...base, repos: [{ id: "a", url: "ftp://a/b" }] }, "repos.0.url"],
      [{ ...base, repos: [{ id: "a", url: "file:///a,b" }] }, "repos.0.url"],
      [{ ...base, lookaside: [{ id: "f45-build", url: "file:///b" }] }, "lookaside.0.id"],
      [{ ...base, check: ["other"] }, "check.0"],
      [{ ...base, arches: ["x86_64", "x86_64"] }, "arches"],
    ];
    for (const [value, field] of cases) {
      const parsed = repoclosureTargetSchema.safeParse(value);
      expect(parsed.success, field).toBe(false);
      if (!parsed.success) expect(parsed.error.issues.map((i) => i.path.join("."))).toContain(field);
    }
    expect(repoclosurePreflightSchema.safeParse({ ...base, strictness: "strict" }).success).toBe(false);
    expect(repoclosurePreflightSchema.parse({ ...base, strictness: "fatal" }).lookaside).toEqual([]);
  });

  it("keys a repo set the same whatever the order of arches, repos and checks", () => {
    const t = (over: Partial<RepoclosureTarget>): RepoclosureTarget => repoclosureTargetSchema.parse({ ...base, ...over });
    const a = t({ arches: ["x86_64", "aarch64"], repos: [base.repos[0] as RepoclosureTarget["repos"][0], { id: "extra", url: "file:///e" }] });
    const b = t({ arches: ["aarch64", "x86_64"], repos: [{ id: "extra", url: "file:///e" }, base.repos[0] as RepoclosureTarget["repos"][0]], check: ["extra", "f45-build"] });
    expect(repoSetKey(a)).toBe(repoSetKey(b));
    expect(repoSetKey(a)).not.toBe(repoSetKey(t({ ...a, check: ["extra"] })));
    expect(checkedRepoIds(t({ check: ["f45-build"] }))).toEqual(["f45-build"]);
  });

  it("puts the arch in Koji's and dnf's URL variables, and finds the Koji tag to blame", () => {
    expect(repoUrlForArch("https://k/repos/f45-build/latest/$arch/", "aarch64")).toBe("https://k/repos/f45-build/latest/aarch64/");
    expect(repoUrlForArch("https://m/$basearch/os/${arch}", "s390x")).toBe("https://m/s390x/os/s390x");
    expect(blameTagOf(repoclosureTargetSchema.parse(base))).toBe("f45-build");
    expect(blameTagOf(repoclosureTargetSchema.parse({ ...base, kojiTag: "f45" }))).toBe("f45");
    expect(blameTagOf(repoclosureTargetSchema.parse({ ...base, repos: [{ id: "m", url: "file:///srv/m" }] }))).toBeUndefined();
  });
});
