// Proposed documents of a real branch: which are present, and which reached it without a relengd merge.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProposedDocumentPaths, readProposedHistory, readUnreviewedDocuments, witnessUnreviewed } from "../../src/gitops/proposedHistory.js";
import { git } from "../support/remote.js";

describe("proposed documents in a branch's history", () => {
  let dir: string;
  let work: string;
  let head: string;
  let direct: string;
  let handMerge: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-proposed-"));
    work = path.join(dir, "work");
    git(dir, "init", "--quiet", "--initial-branch=main", work);
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
    };
    const commit = (message: string) => git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "commit", "--quiet", "-m", message);
    put("README.md", "the GitOps repository\n");
    put("koji/tags/f45/bash.yaml", "not a proposed document\n");
    git(work, "add", ".");
    commit("layout");
    // A request merged by relengd: a merge commit with its trailers.
    git(work, "checkout", "--quiet", "-b", "requests/nethack-f44");
    put("distgit/branches/rpms/nethack/f44.yaml", "branch\n");
    git(work, "add", ".");
    commit("ask for f44");
    git(work, "checkout", "--quiet", "main");
    git(work, "-c", "user.name=relengd", "-c", "user.email=relengd@example.org", "merge", "--quiet", "--no-ff", "requests/nethack-f44", "-m", "Merge request 01REQA\n\nRelengd-Request-Id: 01REQA\nRelengd-Request-Kind: BranchRequest");
    // A merge made by hand, without relengd's trailers.
    git(work, "checkout", "--quiet", "-b", "requests/sudoku");
    put("distgit/branches/rpms/sudoku/epel9.yaml", "branch\n");
    git(work, "add", ".");
    commit("ask for epel9");
    git(work, "checkout", "--quiet", "main");
    git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "merge", "--quiet", "--no-ff", "requests/sudoku", "-m", "Merge branch 'requests/sudoku'");
    handMerge = git(work, "rev-parse", "HEAD").trim();
    // Pushed straight to the branch, with a file name that needs quoting and a forged-looking message.
    put("koji/sidetags/alice/kde 6.yaml", "side tag\n");
    put("distgit/repos/rpms/notes.txt", "not YAML: not a document\n");
    git(work, "add", ".");
    commit("straight to main\n\nRelengd-Request-Id: 01FORGED\n\nreally");
    direct = git(work, "rev-parse", "HEAD").trim();
    // Release documents changed later never count.
    put("koji/tags/f45/bash.yaml", "changed\n");
    git(work, "add", ".");
    commit("koji tag");
    head = git(work, "rev-parse", "HEAD").trim();
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists the YAML files under distgit/ and koji/sidetags/ only", async () => {
    expect(await listProposedDocumentPaths(work, head)).toEqual(["distgit/branches/rpms/nethack/f44.yaml", "distgit/branches/rpms/sudoku/epel9.yaml", "koji/sidetags/alice/kde 6.yaml"]);
  });

  it("names the documents that reached the branch without a relengd merge, with the commit that brought them", async () => {
    expect(await readUnreviewedDocuments(work, head)).toEqual([
      { path: "distgit/branches/rpms/sudoku/epel9.yaml", commit: handMerge, subject: "Merge branch 'requests/sudoku'" },
      { path: "koji/sidetags/alice/kde 6.yaml", commit: direct, subject: "straight to main" },
    ]);
  });
});

describe("the history read again as a branch moves", () => {
  it("finds the same unreviewed documents reading only the commits since the last head as reading all of them", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-proposed-moving-"));
    try {
      const work = path.join(dir, "work");
      git(dir, "init", "--quiet", "--initial-branch=main", work);
      const step = (file: string, text: string, message: string) => {
        mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        writeFileSync(path.join(work, file), text);
        git(work, "add", ".");
        git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "commit", "--quiet", "-m", message);
        return git(work, "rev-parse", "HEAD").trim();
      };
      const witness = () => Promise.resolve(new Map<string, string>());
      let previous = await readProposedHistory(work, step("README.md", "layout\n", "layout"));
      const steps: [string, string, string][] = [
        ["distgit/branches/rpms/nethack/f44.yaml", "a\n", "straight to main"],
        ["distgit/branches/rpms/sudoku/f44.yaml", "a\n", "another"],
        ["distgit/branches/rpms/nethack/f44.yaml", "b\n", "changed again\n\nRelengd-Request-Id: 01JZZZZZZZZZZZZZZZZZZZZZZZ"],
        ["koji/tags/f45/bash.yaml", "x\n", "a release"],
        ["koji/sidetags/jdoe/kde.yaml", "a\n", "a side tag"],
      ];
      for (const [file, text, message] of steps) {
        const head = step(file, text, message);
        const incremental = await readProposedHistory(work, head, undefined, previous);
        const full = await readProposedHistory(work, head);
        expect(await witnessUnreviewed(incremental, witness)).toEqual(await witnessUnreviewed(full, witness));
        // Only the last change of each document is kept: bounded by the documents, not the history.
        expect(incremental.changes.length).toBeLessThanOrEqual(incremental.paths.length + 1);
        previous = incremental;
      }
      // A head that is not a descendant (a force push) is read in full.
      git(work, "reset", "--quiet", "--hard", "HEAD~2");
      const rewound = step("distgit/repos/rpms/htop.yaml", "a\n", "rewritten");
      expect(await witnessUnreviewed(await readProposedHistory(work, rewound, undefined, previous), witness)).toEqual(await witnessUnreviewed(await readProposedHistory(work, rewound), witness));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
