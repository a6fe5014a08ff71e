// Which proposed documents reached a branch without a relengd merge, from first-parent git log output.
import { describe, expect, it } from "vitest";
import { isRequestMerge, parseFirstParentChanges, requestIdsToWitness, unreviewedDocuments, type FirstParentChange } from "../../../src/domain/requests/unreviewed.js";

const sha = (n: number) => n.toString(16).padStart(40, "0");
/** One commit as `git log -z --format=%x1e%H%x00%B --name-status` prints it. */
const record = (commit: string, message: string, files: [string, string][]) => `\x1e${commit}\0${message}\0` + (files.length > 0 ? "\n" + files.map(([s, p]) => `${s}\0${p}\0`).join("") : "");

const merge = (id: string) => `Merge request ${id}: create branch rpms/nethack f44\n\nRelengd-Request-Id: ${id}\nRelengd-Request-Kind: BranchRequest\nRelengd-Approved-By: policy/branch-by-maintainer\n`;

describe("parseFirstParentChanges", () => {
  it("reads commits, messages and status/path pairs, newest first", () => {
    const out = record(sha(3), merge("01REQ"), [["A", "distgit/branches/rpms/nethack/f44.yaml"]]) + record(sha(2), "direct push\n", [["M", "distgit/repos/rpms/nethack.yaml"], ["D", "koji/sidetags/alice/old.yaml"]]);
    expect(parseFirstParentChanges(out)).toEqual([
      { commit: sha(3), message: merge("01REQ"), files: [{ status: "A", path: "distgit/branches/rpms/nethack/f44.yaml" }] },
      {
        commit: sha(2),
        message: "direct push\n",
        files: [
          { status: "M", path: "distgit/repos/rpms/nethack.yaml" },
          { status: "D", path: "koji/sidetags/alice/old.yaml" },
        ],
      },
    ]);
  });

  it("never reads a record out of a message or a path", () => {
    const forged = `innocent\n\x1e${sha(9)}\nRelengd-Request-Id: forged`;
    const out = record(sha(5), forged, [["A", `distgit/repos/rpms/\x1e${sha(8)}.yaml`]]);
    expect(parseFirstParentChanges(out)).toEqual([{ commit: sha(5), message: forged, files: [{ status: "A", path: `distgit/repos/rpms/\x1e${sha(8)}.yaml` }] }]);
  });

  it("reads an empty history as no commits", () => {
    expect(parseFirstParentChanges("")).toEqual([]);
  });
});

describe("unreviewedDocuments", () => {
  const changes: FirstParentChange[] = [
    { commit: sha(4), message: "fix a typo by hand\n", files: [{ status: "M", path: "distgit/repos/rpms/nethack.yaml" }] },
    { commit: sha(3), message: merge("01B"), files: [{ status: "A", path: "distgit/repos/rpms/nethack.yaml" }] },
    { commit: sha(2), message: merge("01A"), files: [{ status: "A", path: "distgit/branches/rpms/nethack/f44.yaml" }] },
    { commit: sha(1), message: "Merge branch 'requests/sudoku'\n", files: [{ status: "A", path: "distgit/branches/rpms/sudoku/epel9.yaml" }] },
  ];

  it("lists documents whose last change is not a relengd merge, and not those merged by relengd", () => {
    const present = ["distgit/branches/rpms/nethack/f44.yaml", "distgit/repos/rpms/nethack.yaml", "distgit/branches/rpms/sudoku/epel9.yaml", "koji/sidetags/alice/kde.yaml"];
    expect(unreviewedDocuments(changes, present)).toEqual([
      { path: "distgit/branches/rpms/sudoku/epel9.yaml", commit: sha(1), subject: "Merge branch 'requests/sudoku'" },
      { path: "distgit/repos/rpms/nethack.yaml", commit: sha(4), subject: "fix a typo by hand" },
      // Not in the history given (a shallow clone): not known to be reviewed.
      { path: "koji/sidetags/alice/kde.yaml", commit: null, subject: null },
    ]);
  });

  it("asks a witness only about the ids of the documents' last changes", () => {
    const present = ["distgit/branches/rpms/nethack/f44.yaml", "distgit/repos/rpms/nethack.yaml", "distgit/branches/rpms/sudoku/epel9.yaml"];
    // 01B's merge was changed since by hand: whether relengd merged it says nothing of the document now.
    expect(requestIdsToWitness(changes, present)).toEqual(["01A"]);
    expect(requestIdsToWitness(changes, [])).toEqual([]);
  });

  it("ignores documents no longer on the branch", () => {
    expect(unreviewedDocuments(changes, ["distgit/branches/rpms/nethack/f44.yaml"])).toEqual([]);
  });

  it("takes a request id trailer only from the trailer paragraph, and not an empty one", () => {
    expect(isRequestMerge(merge("01A"))).toBe(true);
    expect(isRequestMerge("Relengd-Request-Id: 01A\n")).toBe(false);
    expect(isRequestMerge("subject\n\nRelengd-Request-Id: \n")).toBe(false);
    expect(isRequestMerge("subject\n\nRelengd-Request-Id: 01A\n\nSigned-off-by: Eve <eve@example.org>\n")).toBe(false);
  });
});
