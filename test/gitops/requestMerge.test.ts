// The writer's merges of approved requests: exactly once across a crash between the push and its
// record, never of a revision other than the one approved, a conflict handed to a person, and
// serialized with releases on the same branch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRequestMergeMessage } from "../../src/domain/commitMessages/requestMerge.js";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import type { NewRequest, RequestRecord } from "../../src/store/requestRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { git } from "../support/remote.js";

const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };
const doc = (repo: string, branch: string, create = true) => `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: ${branch}\n  create_git_branch: ${create}\n`;

let root: string;
let t: TestApp;
let n = 0;

/** Pushes a branch with one document off main (or unrelated), returns its tip. */
function pushBranch(branch: string, file: string, text: string): string {
  const dir = path.join(root, `w${++n}`);
  git(root, "clone", "--quiet", t.remote, dir);
  git(dir, "config", "user.name", "Jane Doe");
  git(dir, "config", "user.email", "jdoe@fedoraproject.org");
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
  git(dir, "add", "--", file);
  git(dir, "commit", "--quiet", "-m", `request ${file}`);
  git(dir, "push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`);
  return git(dir, "rev-parse", "HEAD").trim();
}

/** An approved request as the judge would record it (the policies are not what is tested here). */
async function approved(branch: string, revision: string, file: string, text: string): Promise<RequestRecord> {
  const repo = t.application.requests?.repository;
  if (!repo) throw new Error("requests are not wired");
  const request: NewRequest = {
    repository: "gitops",
    branch,
    revision,
    base: null,
    status: "approved",
    documents: [{ path: file, kind: "BranchRequest", blob: git(t.remote, "rev-parse", `${revision}:${file}`).trim(), content: text }],
    author: "jdoe",
    authorEmail: null,
    verified: true,
    source: "git",
    reasons: ["test: approved"],
    approvedBy: "policy/branch-by-maintainer",
    decisions: [],
    seenAt: new Date(),
  };
  return (await repo.record(request)).record;
}

const mainHead = () => git(t.remote, "rev-parse", "main").trim();
const mergesOf = (id: string) => git(t.remote, "log", "--first-parent", "--format=%H", "--fixed-strings", `--grep=Relengd-Request-Id: ${id}`, "main").trim().split("\n").filter(Boolean);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-request-merge-"));
  t = await startTestApp("sqlite", { requests: {} });
  await ensureBareRepository(t.remote, { readme });
});
afterAll(async () => {
  await t.close();
  rmSync(root, { recursive: true, force: true });
});

describe("the writer merging approved requests", () => {
  it("records a merge a crashed run pushed but never recorded, without merging again", async () => {
    const file = "distgit/branches/rpms/nethack/f44.yaml";
    const tip = pushBranch("requests/crashed", file, doc("nethack", "f44"));
    const r = await approved("requests/crashed", tip, file, doc("nethack", "f44"));
    // What the crashed run pushed: its merge commit, with the request's trailers.
    const head = mainHead();
    const tree = git(t.remote, "merge-tree", "--write-tree", head, tip).trim();
    const message = renderRequestMergeMessage({ requestId: r.id, branch: r.branch, kinds: ["BranchRequest"], approvedBy: "policy/branch-by-maintainer", path: file, more: 0 });
    const merge = git(t.remote, "commit-tree", tree, "-p", head, "-p", tip, "-m", message.trimEnd()).trim();
    git(t.remote, "update-ref", "refs/heads/main", merge, head);

    t.writer.notify("gitops");
    await t.writer.idle();
    expect(await t.application.requests?.repository.get(r.id)).toMatchObject({ status: "merged", mergeCommit: merge });
    expect(mergesOf(r.id)).toEqual([merge]);
  });

  it("does not merge a branch that moved since its revision was approved", async () => {
    const file = "distgit/branches/rpms/sudoku/f44.yaml";
    const tip = pushBranch("requests/moving", file, doc("sudoku", "f44"));
    // Moved before the writer got to it (recorded after the move, so that the writer's own poll cannot merge first).
    pushBranch("requests/moving", file, doc("sudoku", "f44", false));
    const before = mainHead();
    const r = await approved("requests/moving", tip, file, doc("sudoku", "f44"));
    t.writer.notify("gitops");
    await t.writer.idle();
    expect(mainHead()).toBe(before);
    expect((await t.application.requests?.repository.get(r.id))?.status).toBe("approved");
  });

  it("hands a request whose document conflicts with main to a person, naming the path", async () => {
    const file = "distgit/branches/rpms/htop/f44.yaml";
    const tip = pushBranch("requests/clash", file, doc("htop", "f44"));
    // Someone else's version of the same file reaches main first.
    pushBranch("main", file, doc("htop", "f44", false));
    const r = await approved("requests/clash", tip, file, doc("htop", "f44"));
    t.writer.notify("gitops");
    await t.writer.idle();
    const after = await t.application.requests?.repository.get(r.id);
    expect(after?.status).toBe("needs-review");
    expect(after?.reasons.join("\n")).toContain(`conflicts in ${file}`);
    expect(mergesOf(r.id)).toEqual([]);
    // New facts do not make a conflict go away: it is not judged again by the policies.
    expect((await t.application.requests?.repository.waitingForPolicies("gitops"))?.map((w) => w.id)).not.toContain(r.id);
  });

  it("merges several approved requests and releases on one branch one after another, each push a fast-forward", async () => {
    const before = mainHead();
    const records: RequestRecord[] = [];
    for (const pkg of ["bash", "git", "vim"]) {
      const file = `distgit/branches/rpms/${pkg}/f44.yaml`;
      const tip = pushBranch(`requests/${pkg}`, file, doc(pkg, "f44"));
      records.push(await approved(`requests/${pkg}`, tip, file, doc(pkg, "f44")));
    }
    // A Rawhide build released by policy at the same time: the same writer, the same branch.
    const artifact = sampleArtifact({ package: "nethack", release: "rawhide", source: { ...sampleArtifact().source, branch: "rawhide" } });
    const pushed = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: await t.auth("ci") });
    expect(pushed.statusCode, pushed.body).toBe(201);
    t.writer.notify("gitops");
    await t.writer.idle();
    for (const r of records) expect((await t.application.requests?.repository.get(r.id))?.status).toBe("merged");
    // One line on main, each commit on top of the one before: none lost, none forced.
    const line = git(t.remote, "rev-list", "--first-parent", `${before}..main`).trim().split("\n");
    const parents = line.map((sha) => git(t.remote, "rev-list", "--parents", "-n", "1", sha).trim().split(" ").length - 1);
    expect(parents.filter((p) => p === 2)).toHaveLength(3);
    expect(parents.filter((p) => p === 1)).toHaveLength(1);
    expect(git(t.remote, "log", "--format=%B", "-n", "20", "main")).toContain(`Relengd-Artifact-Id: ${artifact.id}`);
  });
});
