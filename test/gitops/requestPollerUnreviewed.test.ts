// The request poller's look at the target branch: documents no relengd merge brought, witnessed by the store,
// asked about again when the writer records a merge after the poller saw it pushed.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestPoller } from "../../src/gitops/requestPoller.js";
import type { RequestRepository } from "../../src/store/requestRepository.js";
import { git } from "../support/remote.js";

const REQUEST_ID = "01JREQ0000000000000000000A";
const branchRequest = "apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: f44\n  create_git_branch: true\n";

describe("RequestPoller.unreviewed", () => {
  let dir: string;
  let remote: string;
  let merge: string;
  /** What the store answers: request id → the merge commit relengd recorded. */
  const recorded = new Map<string, string>();
  const asked: string[][] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-poller-"));
    remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    git(dir, "clone", "--quiet", remote, "work");
    const work = path.join(dir, "work");
    const commit = (...args: string[]) => git(work, "-c", "user.name=relengd", "-c", "user.email=relengd@localhost", ...args);
    writeFileSync(path.join(work, "README.md"), "GitOps repository\n");
    commit("add", ".");
    commit("commit", "--quiet", "-m", "layout");
    commit("checkout", "--quiet", "-b", "requests/nethack-f44");
    mkdirSync(path.join(work, "distgit/branches/rpms/nethack"), { recursive: true });
    writeFileSync(path.join(work, "distgit/branches/rpms/nethack/f44.yaml"), branchRequest);
    commit("add", ".");
    commit("commit", "--quiet", "-m", "nethack f44");
    commit("checkout", "--quiet", "main");
    // The writer's merge, pushed; whether the store has recorded it is up to the test.
    commit("merge", "--quiet", "--no-ff", "requests/nethack-f44", "-m", `Merge request ${REQUEST_ID}\n\nRelengd-Request-Id: ${REQUEST_ID}\nRelengd-Request-Kind: BranchRequest\nRelengd-Approved-By: policy/branch-by-maintainer`);
    merge = git(work, "rev-parse", "HEAD").trim();
    git(work, "push", "--quiet", "origin", "main");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Only the two reads the poller makes of the store (its branches, the merges it recorded): a stub is the clearest witness.
  const requests = {
    branches: () => Promise.resolve([]),
    latestOfBranches: () => Promise.resolve([]),
    saveUnreviewed: () => Promise.resolve(),
    mergeCommits: (ids: readonly string[]) => {
      asked.push([...ids]);
      return Promise.resolve(new Map([...recorded].filter(([id]) => ids.includes(id))));
    },
  } as unknown as RequestRepository;

  it("reports a merge pushed but not yet recorded, and clears it once the writer records it, though main did not move", async () => {
    const poller = new RequestPoller({
      requests,
      repository: () => ({ name: "gitops", url: remote, branch: "main", author: { name: "relengd", email: "relengd@localhost" } }),
      workspacesDir: path.join(dir, "workspaces"),
      allowedSigners: () => null,
      judge: () => Promise.reject(new Error("no request branch is judged here")),
      logger: pino({ level: "silent" }),
      now: () => new Date("2026-12-01T10:00:00Z"),
    });
    expect(poller.unreviewed()).toBeUndefined();

    await poller.pollOnce();
    expect(poller.unreviewed()).toEqual({
      repository: "gitops",
      branch: "main",
      head: merge,
      checkedAt: new Date("2026-12-01T10:00:00Z"),
      documents: [{ path: "distgit/branches/rpms/nethack/f44.yaml", commit: merge, subject: `Merge request ${REQUEST_ID}`, requestId: REQUEST_ID }],
    });

    recorded.set(REQUEST_ID, merge);
    await poller.pollOnce();
    expect(poller.unreviewed()).toMatchObject({ head: merge, documents: [] });

    // Nothing left to witness: later polls of an unmoved main ask the store nothing.
    const before = asked.length;
    await poller.pollOnce();
    expect(asked.length).toBe(before);
  });
});

describe("RequestPoller on a repository without the target branch yet", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-poller-empty-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("judges a request branch pushed to an empty repository, and reports no head, instead of failing every poll", async () => {
    const remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    mkdirSync(path.join(dir, "work"));
    const work = path.join(dir, "work");
    git(work, "init", "--quiet", "--initial-branch=requests/nethack-f44");
    mkdirSync(path.join(work, "distgit/branches/rpms/nethack"), { recursive: true });
    writeFileSync(path.join(work, "distgit/branches/rpms/nethack/f44.yaml"), branchRequest);
    git(work, "add", ".");
    git(work, "-c", "user.name=Jane Doe", "-c", "user.email=jdoe@fedoraproject.org", "commit", "--quiet", "-m", "nethack f44");
    git(work, "push", "--quiet", remote, "requests/nethack-f44");

    const judged: { branch: string; base: string | null; paths: string[] }[] = [];
    const poller = new RequestPoller({
      requests: {
        branches: () => Promise.resolve([]),
        latestOfBranches: () => Promise.resolve([]),
        saveUnreviewed: () => Promise.resolve(),
        mergeCommits: () => Promise.resolve(new Map()),
      } as unknown as RequestRepository,
      repository: () => ({ name: "gitops", url: remote, branch: "main", author: { name: "relengd", email: "relengd@localhost" } }),
      workspacesDir: path.join(dir, "workspaces"),
      allowedSigners: () => null,
      judge: (revision) => {
        judged.push({ branch: revision.branch, base: revision.base, paths: revision.files.map((f) => f.path) });
        // The poller only collects what judge answers; the record's shape is not looked at here.
        return Promise.resolve({} as never);
      },
      logger: pino({ level: "silent" }),
    });
    const result = await poller.pollOnce();
    expect(result.failed).toEqual([]);
    expect(judged).toEqual([{ branch: "requests/nethack-f44", base: null, paths: ["distgit/branches/rpms/nethack/f44.yaml"] }]);
    expect(poller.unreviewed()).toMatchObject({ head: null, documents: [] });
  });
});
