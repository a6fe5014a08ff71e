// What a merged request implies: the dist-git and Koji operations operationsOf lists for each kind.
import { describe, expect, it } from "vitest";
import { buildBranchRequest } from "../../../src/domain/requests/branchRequest.js";
import { parseProposedText, proposedDocumentPath } from "../../../src/domain/requests/index.js";
import { operationsOf, operationsOfFiles } from "../../../src/domain/requests/operations.js";
import { buildRepoRequest } from "../../../src/domain/requests/repoRequest.js";
import { buildSideTag } from "../../../src/domain/requests/sideTag.js";
import { stringify } from "yaml";
import { scmTickets } from "../../support/requestFixtures.js";

describe("operationsOf", () => {
  it("creates a dist-git branch, with its service levels and without a git branch when asked", () => {
    expect(operationsOf(buildBranchRequest({ namespace: "rpms", repo: "nethack", branch: "f44", create_git_branch: true }))).toEqual([{ kind: "create-branch", text: "create branch rpms/nethack f44" }]);
    expect(
      operationsOf(buildBranchRequest({ namespace: "modules", repo: "nethack", branch: "9", create_git_branch: false, sls: { security_fixes: "2030-12-01", bug_fixes: "2030-12-01" } })),
    ).toEqual([{ kind: "create-branch", text: "create branch modules/nethack 9 (no git branch, security_fixes until 2030-12-01, bug_fixes until 2030-12-01)" }]);
  });

  it("creates a dist-git repository, naming its branch, review bug and monitoring", () => {
    const spec = { namespace: "rpms", repo: "nethack", branch: "rawhide", bug_id: 1441813, summary: "s", description: "", upstreamurl: "", monitor: "monitoring", exception: false } as const;
    expect(operationsOf(buildRepoRequest(spec))).toEqual([{ kind: "create-repo", text: "create repo rpms/nethack (rawhide, bug 1441813, monitoring)" }]);
    expect(operationsOf(buildRepoRequest({ ...spec, bug_id: "", exception: true, monitor: "no-monitoring", initial_commit: true }))).toEqual([
      { kind: "create-repo", text: "create repo rpms/nethack (rawhide, exception, no review bug, no-monitoring, initial commit)" },
    ]);
    expect(operationsOf(buildRepoRequest({ ...spec, bug_id: "2361105" }))[0]?.text).toBe("create repo rpms/nethack (rawhide, bug 2361105, monitoring)");
  });

  it("adds a side tag the way the koji command line does, then the packages the owner adds to it", () => {
    const doc = buildSideTag({ base_tag: "f44-build", debuginfo: true, suffix: "kde", packages: ["qt6-qtbase", "qt6-qttools"] });
    expect(operationsOf(doc, { owner: "alice", label: "qt" })).toEqual([
      { kind: "add-sidetag", text: "koji add-sidetag f44-build --debuginfo --suffix kde (as alice)" },
      { kind: "add-packages", text: "koji add-pkg --owner alice f44-build-side-<id>-kde qt6-qtbase qt6-qttools" },
    ]);
    expect(operationsOf(buildSideTag({ base_tag: "f44-build", debuginfo: false, packages: ["bash"] })).map((o) => o.text)).toEqual([
      "koji add-sidetag f44-build",
      "koji add-pkg --owner <owner> f44-build-side-<id> bash",
    ]);
  });

  it("gives one operation for every real ticket, naming its repository", () => {
    for (const ticket of scmTickets()) {
      const kind = ticket.action === "new_branch" ? "BranchRequest" : "RepoRequest";
      const parsed = parseProposedText(stringify({ apiVersion: "relengd/v1", kind, spec: ticket.spec }));
      if (!parsed.ok) throw new Error(`${ticket.file}: ${JSON.stringify(parsed.issues)}`);
      const ops = operationsOf(parsed.value);
      expect(ops, ticket.file).toHaveLength(1);
      expect(ops[0]?.text, ticket.file).toMatch(new RegExp(`^create (branch|repo) ${String(ticket.spec.namespace)}/${String(ticket.spec.repo)}[ ]`));
      expect(proposedDocumentPath(parsed.value)).toContain(`/${String(ticket.spec.repo)}`);
    }
  });
});

describe("operationsOfFiles", () => {
  it("lists the operations of a branch's request files in path order, and names the broken ones with their line", () => {
    const files = new Map([
      ["koji/sidetags/alice/kde.yaml", "apiVersion: relengd/v1\nkind: SideTag\nspec:\n  base_tag: f43-build\n  packages: [qt6-qtbase]\n"],
      ["distgit/branches/rpms/nethack/f44.yaml", "apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: f44\n"],
      ["distgit/branches/rpms/sudoku/f44.yaml", "apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: f44\n"],
    ]);
    expect(operationsOfFiles(files)).toEqual({
      operations: [
        { path: "distgit/branches/rpms/nethack/f44.yaml", requestKind: "BranchRequest", kind: "create-branch", text: "create branch rpms/nethack f44" },
        { path: "koji/sidetags/alice/kde.yaml", requestKind: "SideTag", kind: "add-sidetag", text: "koji add-sidetag f43-build (as alice)" },
        { path: "koji/sidetags/alice/kde.yaml", requestKind: "SideTag", kind: "add-packages", text: "koji add-pkg --owner alice f43-build-side-<id> qt6-qtbase" },
      ],
      problems: ["distgit/branches/rpms/sudoku/f44.yaml:3: /spec a BranchRequest with this spec must live at distgit/branches/rpms/nethack/f44.yaml, not distgit/branches/rpms/sudoku/f44.yaml"],
    });
  });
});
