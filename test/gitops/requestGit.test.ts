// Request branches read out of real git: what a branch changes against the target, who signed
// it (real SSH signatures checked against an allowed-signers file), and merges with two parents.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { commitTree, fetchBranches, localRequestRef, mergeTree, remoteHeads } from "../../src/gitops/requestGit.js";
import { authorOf, MAX_REQUEST_FILE_BYTES, readRevision } from "../../src/gitops/requestRevision.js";
import { Workspace } from "../../src/gitops/workspace.js";
import { git } from "../support/remote.js";
import { signCommitsWith, sshKey } from "../support/signing.js";

const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };
const branchDoc = (branch: string) => `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: nethack\n  branch: ${branch}\n  create_git_branch: true\n`;

let root: string;
let keys: { alice: string; mallory: string };
let allowedSigners: string;


/** A clone of `remote` where commits are made as `who`, signed with `key` when given. */
function clone(remote: string, name: string, opts: { key?: string; empty?: boolean } = {}): { dir: string; commit(file: string, text: string, message?: string): string; push(branch: string): void } {
  const dir = path.join(root, name);
  if (opts.empty) {
    mkdirSync(dir, { recursive: true });
    git(dir, "init", "--quiet", "--initial-branch=main");
    git(dir, "remote", "add", "origin", remote);
  } else git(root, "clone", "--quiet", remote, name);
  git(dir, "config", "user.name", "Alice Packager");
  git(dir, "config", "user.email", "alice@example.org");
  if (opts.key) {
    signCommitsWith(dir, opts.key);
  }
  return {
    dir,
    commit(file, text, message = `add ${file}`) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
      git(dir, "add", "--", file);
      git(dir, "commit", "--quiet", "-m", message);
      return git(dir, "rev-parse", "HEAD").trim();
    },
    push(branch) {
      git(dir, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
    },
  };
}

async function workspaceOf(remote: string, name: string): Promise<Workspace> {
  const ws = new Workspace(path.join(root, `${name}.ws.git`), remote, "main");
  await ws.open();
  await ws.fetch();
  return ws;
}

async function revisionOf(ws: Workspace, branch: string, signers: string | null = allowedSigners) {
  const heads = await remoteHeads(ws);
  await fetchBranches(ws, ["main", branch]);
  const tip = heads.get(branch) as string;
  return readRevision(ws, { repository: "gitops", branch, tip, targetHead: heads.get("main") ?? null, allowedSigners: signers, source: "git", seenAt: new Date(0) });
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-request-git-"));
  keys = { alice: sshKey(root, "alice"), mallory: sshKey(root, "mallory") };
  allowedSigners = path.join(root, "allowed_signers");
  // Only alice's key is listed: mallory is a stranger to the facts.
  writeFileSync(allowedSigners, `alice namespaces="git" ${readFileSync(`${keys.alice}.pub`, "utf8").trim()}\n`);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the GitOps repository relengd creates", () => {
  it("starts with a README commit on main, so a clone has a branch to start a request from", async () => {
    const remote = path.join(root, "fresh.git");
    expect(await ensureBareRepository(remote, { readme })).toBe(true);
    expect(git(remote, "log", "--format=%s", "main").trim()).toBe("GitOps repository: layout");
    expect(git(remote, "show", "main:README.md")).toContain("distgit/branches/<namespace>/<repo>/<branch>.yaml");
    // Started again: nothing is added.
    expect(await ensureBareRepository(remote, { readme })).toBe(false);
    expect(git(remote, "rev-list", "--count", "main").trim()).toBe("1");
  });

  it("gives a repository an older relengd created empty its README, but never a second root to one with history", async () => {
    const remote = path.join(root, "older.git");
    await ensureBareRepository(remote);
    expect(() => git(remote, "rev-parse", "--verify", "refs/heads/main")).toThrow();
    await ensureBareRepository(remote, { readme });
    expect(git(remote, "rev-list", "--count", "main").trim()).toBe("1");
  });
});

describe("reading a request branch", () => {
  let remote: string;
  beforeAll(async () => {
    remote = path.join(root, "reading.git");
    await ensureBareRepository(remote, { readme });
  });

  it("finds what a signed branch adds, with its signer as the verified author", async () => {
    const alice = clone(remote, "alice", { key: keys.alice });
    alice.commit("distgit/branches/rpms/nethack/f44.yaml", branchDoc("f44"));
    alice.push("requests/nethack-f44");
    const ws = await workspaceOf(remote, "reading-signed");
    const rev = await revisionOf(ws, "requests/nethack-f44");
    expect(rev.files.map((f) => [f.path, f.change])).toEqual([["distgit/branches/rpms/nethack/f44.yaml", "added"]]);
    expect(Buffer.from(rev.files[0]?.bytes ?? []).toString()).toBe(branchDoc("f44"));
    expect(rev.author).toEqual({ name: "alice", email: "alice@example.org", verified: true });
  });

  it("does not trust a commit signed by a key the facts do not list, whatever name it claims", async () => {
    const mallory = clone(remote, "mallory", { key: keys.mallory });
    mallory.commit("distgit/branches/rpms/nethack/f43.yaml", branchDoc("f43"));
    mallory.push("requests/forged");
    const rev = await revisionOf(await workspaceOf(remote, "reading-forged"), "requests/forged");
    expect(rev.author.verified).toBe(false);
    // The commit claims to be Alice: kept as a claim, not as a verified name.
    expect(rev.author.name).toBe("Alice Packager");
    expect(rev.author.note).toMatch(/not signed by a key the facts list/);
  });

  it("does not trust an unsigned commit on top of a signed one", async () => {
    const alice = clone(remote, "alice-mixed", { key: keys.alice });
    alice.commit("distgit/branches/rpms/nethack/f42.yaml", branchDoc("f42"));
    git(alice.dir, "config", "commit.gpgsign", "false");
    alice.commit("distgit/branches/rpms/nethack/f42.yaml", branchDoc("f42").replace("true", "false"), "unsigned change");
    alice.push("requests/mixed");
    const rev = await revisionOf(await workspaceOf(remote, "reading-mixed"), "requests/mixed");
    expect(rev.author).toMatchObject({ verified: false, note: expect.stringMatching(/is not signed/) });
  });

  it("trusts nobody when the facts list no key", async () => {
    const rev = await revisionOf(await workspaceOf(remote, "reading-nokeys"), "requests/nethack-f44", null);
    expect(rev.author.verified).toBe(false);
  });

  it("reads a branch with history unrelated to main, leaving out what main already has", async () => {
    const fresh = clone(remote, "fresh-clone", { empty: true });
    fresh.commit("README.md", GITOPS_README);
    fresh.commit("distgit/repos/rpms/sudoku.yaml", "apiVersion: relengd/v1\nkind: RepoRequest\nspec: {}\n");
    fresh.push("requests/unrelated");
    const rev = await revisionOf(await workspaceOf(remote, "reading-unrelated"), "requests/unrelated");
    expect(rev.files.map((f) => f.path)).toEqual(["distgit/repos/rpms/sudoku.yaml"]);
  });

  it("does not read a file larger than a request document may be (only its id)", async () => {
    const big = clone(remote, "big");
    big.commit("distgit/branches/rpms/nethack/rawhide.yaml", "x".repeat(MAX_REQUEST_FILE_BYTES + 1));
    big.push("requests/big");
    const rev = await revisionOf(await workspaceOf(remote, "reading-big"), "requests/big");
    expect(rev.files).toEqual([{ path: "distgit/branches/rpms/nethack/rawhide.yaml", change: "added", blob: expect.stringMatching(/^[0-9a-f]{40}$/), bytes: null }]);
  });

  it("names deletions and files that are not regular files", async () => {
    const bob = clone(remote, "bob");
    git(bob.dir, "rm", "--quiet", "README.md");
    symlinkSync("/etc/passwd", path.join(bob.dir, "distgit-link.yaml"));
    mkdirSync(path.join(bob.dir, "distgit"), { recursive: true });
    symlinkSync("/etc/passwd", path.join(bob.dir, "distgit", "evil.yaml"));
    git(bob.dir, "add", "-A");
    git(bob.dir, "commit", "--quiet", "-m", "odd files");
    bob.push("requests/odd");
    const rev = await revisionOf(await workspaceOf(remote, "reading-odd"), "requests/odd");
    const byPath = new Map(rev.files.map((f) => [f.path, f]));
    expect(byPath.get("README.md")?.change).toBe("deleted");
    expect(byPath.get("distgit/evil.yaml")?.special).toBe(true);
  });
});

describe("merging a request", () => {
  it("makes a commit with two parents even where a fast-forward would do, and with unrelated history", async () => {
    const remote = path.join(root, "merging.git");
    await ensureBareRepository(remote, { readme });
    const alice = clone(remote, "merge-alice");
    alice.commit("distgit/branches/rpms/nethack/f44.yaml", branchDoc("f44"));
    alice.push("requests/ff");
    const fresh = clone(remote, "merge-fresh", { empty: true });
    fresh.commit("koji/sidetags/alice/kde.yaml", "apiVersion: relengd/v1\nkind: SideTag\nspec: {}\n");
    fresh.push("requests/unrelated");
    const ws = await workspaceOf(remote, "merging");
    await fetchBranches(ws, ["requests/ff", "requests/unrelated"]);
    const author = { name: "relengd", email: "relengd@localhost" };
    let head = (await ws.head()) as string;
    for (const branch of ["requests/ff", "requests/unrelated"]) {
      const tip = (await ws.run(["rev-parse", localRequestRef(branch)])).stdout.toString().trim();
      const merged = await mergeTree(ws, head, tip);
      if (!merged.ok) throw new Error(`conflicts: ${merged.conflicts.join(", ")}`);
      head = await commitTree(ws, merged.tree, [head, tip], `merge ${branch}\n`, author, new Date(0));
      expect(git(ws.dir, "rev-list", "--parents", "-n", "1", head).trim().split(" ")).toHaveLength(3);
    }
    expect(git(ws.dir, "ls-tree", "-r", "--name-only", head).trim().split("\n").sort()).toEqual(["README.md", "distgit/branches/rpms/nethack/f44.yaml", "koji/sidetags/alice/kde.yaml"]);
  });

  it("reports the paths that conflict", async () => {
    const remote = path.join(root, "conflicting.git");
    await ensureBareRepository(remote, { readme });
    const a = clone(remote, "conflict-a");
    a.commit("distgit/branches/rpms/nethack/f44.yaml", branchDoc("f44"));
    a.push("main");
    const fresh = clone(remote, "conflict-b", { empty: true });
    fresh.commit("distgit/branches/rpms/nethack/f44.yaml", branchDoc("f44").replace("true", "false"));
    fresh.push("requests/clash");
    const ws = await workspaceOf(remote, "conflicting");
    await fetchBranches(ws, ["requests/clash"]);
    const tip = (await ws.run(["rev-parse", localRequestRef("requests/clash")])).stdout.toString().trim();
    expect(await mergeTree(ws, (await ws.head()) as string, tip)).toEqual({ ok: false, conflicts: ["distgit/branches/rpms/nethack/f44.yaml"] });
  });
});

describe("who a branch's author is", () => {
  const sig = (status: string, signer: string, sha = "a".repeat(40)) => ({ sha, status, signer, authorName: "Alice", authorEmail: "alice@example.org" });
  it("is the one signer of every commit", () => {
    expect(authorOf([sig("G", "alice"), sig("G", "alice")])).toEqual({ name: "alice", email: "alice@example.org", verified: true });
  });
  it("is nobody verified when two people signed", () => {
    expect(authorOf([sig("G", "alice"), sig("G", "bob")])).toMatchObject({ verified: false, note: expect.stringMatching(/several people \(alice, bob\)/) });
  });
  it("is nobody when the branch adds no commit", () => {
    expect(authorOf([])).toMatchObject({ name: null, verified: false });
  });
});
