import { describe, expect, it } from "vitest";
import { isInSync, planKojiTags, type DesiredTagBuild, type ObservedTagBuild } from "../../src/domain/plan.js";

const want = (tag: string, nvr: string): DesiredTagBuild => {
  const pkg = nvr.split("-").slice(0, -2).join("-");
  return { tag, package: pkg, nvr, path: `koji/tags/${tag}/${pkg}.yaml` };
};

let minute = 0;
/** Observed builds, each tagged a minute after the one before. */
const held = (tag: string, ...nvrs: string[]): ObservedTagBuild[] =>
  nvrs.map((nvr, i) => ({
    tag,
    package: nvr.split("-").slice(0, -2).join("-"),
    nvr,
    buildId: null,
    taggedAt: new Date(Date.UTC(2026, 10, 1, 0, ++minute)).toISOString(),
    messageId: `m-${minute}`,
    latest: i === nvrs.length - 1,
  }));

describe("planKojiTags: from what Koji holds to what the documents ask for", () => {
  it("has nothing to do when each document's build is its package's latest in the tag", () => {
    const plan = planKojiTags([want("f45", "bash-5.2.37-1.fc45")], held("f45", "bash-5.2.36-1.fc45", "bash-5.2.37-1.fc45"));
    expect(plan).toEqual({ operations: [], inSync: [{ tag: "f45", package: "bash", nvr: "bash-5.2.37-1.fc45" }], unmanaged: [] });
    expect(isInSync(plan)).toBe(true);
  });

  it("tags a build the tag does not hold, saying what it holds instead", () => {
    const plan = planKojiTags([want("f45", "bash-5.2.38-1.fc45"), want("f45", "zsh-5.9-1.fc45")], held("f45", "bash-5.2.37-1.fc45"));
    expect(plan.operations).toEqual([
      { op: "tag", tag: "f45", package: "bash", nvr: "bash-5.2.38-1.fc45", reason: "koji/tags/f45/bash.yaml asks for bash-5.2.38-1.fc45; f45 has bash-5.2.37-1.fc45 as the latest bash" },
      { op: "tag", tag: "f45", package: "zsh", nvr: "zsh-5.9-1.fc45", reason: "koji/tags/f45/zsh.yaml asks for zsh-5.9-1.fc45; no build of zsh is observed in f45" },
    ]);
    expect(isInSync(plan)).toBe(false);
  });

  it("untags the builds tagged after the one asked for, newest first (a rollback), and leaves older ones", () => {
    const plan = planKojiTags([want("f45", "bash-5.2.36-1.fc45")], held("f45", "bash-5.2.35-1.fc45", "bash-5.2.36-1.fc45", "bash-5.2.37-1.fc45", "bash-5.2.38-1.fc45"));
    expect(plan.operations.map((o) => `${o.op} ${o.nvr}`)).toEqual(["untag bash-5.2.38-1.fc45", "untag bash-5.2.37-1.fc45"]);
    expect(plan.operations[0]?.reason).toBe("tagged after bash-5.2.36-1.fc45, which koji/tags/f45/bash.yaml asks for");
  });

  it("goes by tagging order, not by version: an older build tagged last is the latest", () => {
    const observed = held("f45", "bash-5.2.38-1.fc45", "bash-5.2.37-1.fc45");
    expect(planKojiTags([want("f45", "bash-5.2.37-1.fc45")], observed).operations).toEqual([]);
    expect(planKojiTags([want("f45", "bash-5.2.38-1.fc45")], observed).operations.map((o) => `${o.op} ${o.nvr}`)).toEqual(["untag bash-5.2.37-1.fc45"]);
    // The observed list's order does not matter, only the times.
    expect(planKojiTags([want("f45", "bash-5.2.37-1.fc45")], [...observed].reverse()).operations).toEqual([]);
  });

  it("compares builds without their epoch, which Koji's tag messages never carry", () => {
    const withEpoch = { tag: "f45", package: "bash", nvr: "1:bash-5.2.37-1.fc45", path: "koji/tags/f45/bash.yaml" };
    expect(planKojiTags([withEpoch], held("f45", "bash-5.2.37-1.fc45")).operations).toEqual([]);
    expect(planKojiTags([withEpoch], held("f45", "bash-5.2.38-1.fc45")).operations).toHaveLength(1);
  });

  it("plans each tag on its own and lists the packages of planned tags that no document names", () => {
    const observed = [...held("f45", "bash-5.2.37-1.fc45", "vim-9.1-1.fc45"), ...held("f44-updates-candidate", "vim-9.0-1.fc44"), ...held("f43", "git-2.40-1.fc43")];
    const plan = planKojiTags([want("f45", "bash-5.2.37-1.fc45"), want("f44-updates-candidate", "vim-9.1-1.fc44")], observed, ["f44-updates-candidate", "f45", "f46"]);
    expect(plan.operations.map((o) => `${o.op} ${o.tag} ${o.nvr}`)).toEqual(["tag f44-updates-candidate vim-9.1-1.fc44"]);
    expect(plan.inSync).toEqual([{ tag: "f45", package: "bash", nvr: "bash-5.2.37-1.fc45" }]);
    // f43 is not planned: its packages are none of this plan's business.
    expect(plan.unmanaged).toEqual([{ tag: "f45", package: "vim", latest: "vim-9.1-1.fc45" }]);
  });

  it("orders operations by tag and package whatever order the documents come in", () => {
    const plan = planKojiTags([want("f45", "zsh-5.9-1.fc45"), want("f44", "bash-5.2-1.fc44"), want("f45", "bash-5.2-1.fc45")], []);
    expect(plan.operations.map((o) => `${o.tag} ${o.package}`)).toEqual(["f44 bash", "f45 bash", "f45 zsh"]);
  });
});
