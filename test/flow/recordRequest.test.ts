// What the judge makes of a revision's files before any policy: documents, lint problems, and the
// changes a person must look at.
import { describe, expect, it } from "vitest";
import type { RequestRevision, RevisionFile } from "../../src/domain/requests/revision.js";
import { classifyFiles } from "../../src/flow/recordRequest.js";

const text = (s: string) => new TextEncoder().encode(s);
const doc = "apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: f44\n  create_git_branch: true\n";
const file = (path: string, fields: Partial<RevisionFile> = {}): RevisionFile => ({ path, change: "added", blob: "a".repeat(40), bytes: text(doc), ...fields });

function revision(files: RevisionFile[], truncated = false): RequestRevision {
  return { repository: "gitops", branch: "requests/x", revision: "b".repeat(40), base: null, files, truncated, author: { name: "jdoe", email: null, verified: true }, source: "git", seenAt: new Date(0), targetPaths: new Set() };
}

describe("classifyFiles", () => {
  it("parses a proposed document at its path", () => {
    const c = classifyFiles(revision([file("distgit/branches/rpms/nethack/f44.yaml")]));
    expect(c.problems).toEqual([]);
    expect(c.documents.map((d) => [d.path, d.document.kind])).toEqual([["distgit/branches/rpms/nethack/f44.yaml", "BranchRequest"]]);
  });

  it("refuses what cannot be a document: too large, not UTF-8, a link, at another path than its spec names", () => {
    const c = classifyFiles(
      revision([
        file("distgit/branches/rpms/nethack/f43.yaml", { bytes: null }),
        file("distgit/branches/rpms/nethack/f42.yaml", { bytes: new Uint8Array([0x61, 0xff, 0xfe]) }),
        file("distgit/branches/rpms/nethack/f41.yaml", { special: true }),
        file("distgit/branches/rpms/sudoku/f44.yaml"),
      ]),
    );
    expect(c.documents).toEqual([]);
    expect(c.problems.map((p) => [p.path, p.message])).toEqual([
      ["distgit/branches/rpms/nethack/f43.yaml", "too large to be a request document"],
      ["distgit/branches/rpms/nethack/f42.yaml", "not UTF-8 text"],
      ["distgit/branches/rpms/nethack/f41.yaml", "not a regular file (a symbolic link or a submodule): documents are regular files"],
      ["distgit/branches/rpms/sudoku/f44.yaml", expect.stringContaining("must live at distgit/branches/rpms/nethack/f44.yaml")],
    ]);
  });

  it("leaves deletions and files outside the request folders to a person", () => {
    const c = classifyFiles(revision([file("README.md", { change: "modified" }), file("koji/tags/f45/bash.yaml"), file("distgit/repos/rpms/htop.yaml", { change: "deleted", blob: null, bytes: null })]));
    expect(c.problems).toEqual([]);
    expect(c.otherChanges).toEqual([
      { path: "README.md", change: "modified" },
      { path: "koji/tags/f45/bash.yaml", change: "added" },
      { path: "distgit/repos/rpms/htop.yaml", change: "deleted" },
    ]);
  });

  it("refuses a branch that changes nothing, and one that changes more than is read", () => {
    expect(classifyFiles(revision([])).problems.map((p) => p.message)).toEqual(["the branch changes nothing that is not already on the target branch"]);
    expect(classifyFiles(revision([file("distgit/branches/rpms/nethack/f44.yaml")], true)).problems[0]?.message).toMatch(/changes more than 1 files/);
  });
});
