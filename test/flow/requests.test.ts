// Requests end to end: a packager's branch (plain git, signed) or `request submit` (the API), judged
// by the shipped approval policies with facts, merged by the writer with a two-parent merge commit —
// or held for review, denied, superseded, withdrawn. Real git remotes, real stores.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRequestMergeMessage } from "../../src/domain/commitMessages/requestMerge.js";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import type { RequestRecord } from "../../src/store/requestRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";
import { signCommitsWith, sshKey } from "../support/signing.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };

const branchRequest = (repo: string, branch: string, extra = "") =>
  `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: ${branch}\n  create_git_branch: true\n${extra}`;
const repoRequest = (repo: string) =>
  `apiVersion: relengd/v1\nkind: RepoRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: rawhide\n  bug_id: 2301234\n  summary: A puzzle game\n  description: ""\n  upstreamurl: https://example.org/${repo}\n  monitor: monitoring\n  exception: false\n`;

let root: string;
/** jdoe maintains nethack (the example facts); mallory is nobody the facts know. */
let keys: { jdoe: string; mallory: string };


/** The shipped policies with the example facts, plus jdoe's real key as a signing key. */
function policiesWithKeys(): string {
  const dir = mkdtempSync(path.join(root, "policies-"));
  cpSync(POLICIES, dir, { recursive: true });
  const signingKeys = JSON.parse(readFileSync(path.join(dir, "facts", "signing-keys.json"), "utf8")) as Record<string, string[]>;
  signingKeys.jdoe = [readFileSync(`${keys.jdoe}.pub`, "utf8").trim()];
  writeFileSync(path.join(dir, "facts", "signing-keys.json"), JSON.stringify(signingKeys, null, 2));
  return dir;
}

let counter = 0;
/** A clone of the test's remote committing as `who` (signed with `key` when given). */
function packager(t: TestApp, opts: { key?: string; name?: string; empty?: boolean } = {}) {
  const dir = path.join(root, `clone-${++counter}`);
  if (opts.empty) {
    mkdirSync(dir);
    git(dir, "init", "--quiet", "--initial-branch=main");
    git(dir, "remote", "add", "origin", t.remote);
  } else git(root, "clone", "--quiet", t.remote, dir);
  git(dir, "config", "user.name", opts.name ?? "Jane Doe");
  git(dir, "config", "user.email", "jdoe@fedoraproject.org");
  if (opts.key) {
    signCommitsWith(dir, opts.key);
  }
  return {
    dir,
    write(file: string, text: string, message = `request ${file}`) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
      git(dir, "add", "--", file);
      git(dir, "commit", "--quiet", "-m", message);
    },
    push(branch: string) {
      git(dir, "push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`);
    },
    deleteRemote(branch: string) {
      git(dir, "push", "--quiet", "origin", `:refs/heads/${branch}`);
    },
  };
}

/** One look for request branches, then the writer's merges. */
async function settle(t: TestApp): Promise<void> {
  const requests = t.application.requests;
  if (!requests) throw new Error("requests are not wired");
  requests.poller.kick();
  await requests.poller.settled();
  await t.writer.idle();
}

async function latest(t: TestApp, branch: string): Promise<RequestRecord> {
  const page = await t.application.requests?.repository.list({ branch, limit: 1 });
  const r = page?.items[0];
  if (!r) throw new Error(`no request recorded for ${branch}`);
  return r;
}

function mainLog(t: TestApp): { sha: string; parents: string[]; message: string }[] {
  return git(t.remote, "log", "--first-parent", "--format=%H%x1f%P%x1f%B%x1e", "main")
    .split("\x1e")
    .map((r) => r.replace(/^\n/, ""))
    .filter(Boolean)
    .map((r) => {
      const [sha = "", parents = "", message = ""] = r.split("\x1f");
      return { sha, parents: parents.split(" ").filter(Boolean), message };
    });
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-requests-"));
  keys = { jdoe: sshKey(root, "jdoe"), mallory: sshKey(root, "mallory") };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(testProviders)("requests on %s", (provider) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(provider, { policiesDir: policiesWithKeys(), requests: { pollMs: 60_000 } });
    await ensureBareRepository(t.remote, { readme });
    await t.application.requests?.facts.refresh();
  });
  afterAll(async () => t.close());

  it("merges a maintainer's signed branch with one YAML file: a merge commit with two parents and the trailers", async () => {
    const jdoe = packager(t, { key: keys.jdoe });
    jdoe.write("distgit/branches/rpms/nethack/f44.yaml", branchRequest("nethack", "f44"));
    jdoe.push("requests/nethack-f44");
    await settle(t);
    const r = await latest(t, "requests/nethack-f44");
    expect(r).toMatchObject({ status: "merged", author: "jdoe", verified: true, kind: "BranchRequest", path: "distgit/branches/rpms/nethack/f44.yaml", approvedBy: "policy/branch-by-maintainer" });
    const merge = mainLog(t)[0];
    expect(merge?.sha).toBe(r.mergeCommit);
    // Two parents even though main had not moved: a fast-forward was possible.
    expect(merge?.parents).toHaveLength(2);
    expect(merge?.parents[1]).toBe(r.revision);
    expect(parseRequestMergeMessage(merge?.message ?? "")).toEqual({ requestId: r.id, kinds: ["BranchRequest"], approvedBy: "policy/branch-by-maintainer" });
    expect(git(t.remote, "show", "main:distgit/branches/rpms/nethack/f44.yaml")).toBe(branchRequest("nethack", "f44"));
  });

  it("holds a branch that claims to be a maintainer's but is not signed by their key: needs review, never merged", async () => {
    const forger = packager(t, { key: keys.mallory, name: "jdoe" });
    forger.write("distgit/branches/rpms/nethack/epel10.yaml", branchRequest("nethack", "epel10"));
    forger.push("requests/forged");
    const unsigned = packager(t, { name: "jdoe" });
    unsigned.write("distgit/branches/rpms/nethack/f42.yaml", branchRequest("nethack", "f42"));
    unsigned.push("requests/unsigned");
    await settle(t);
    for (const branch of ["requests/forged", "requests/unsigned"]) {
      const r = await latest(t, branch);
      expect(r).toMatchObject({ status: "needs-review", verified: false, mergeCommit: null });
      expect(r.reasons.join("\n")).toMatch(/not verified/);
    }
  });

  it("denies a document that fails lint, with file:line: /field message", async () => {
    const jdoe = packager(t, { key: keys.jdoe });
    jdoe.write("distgit/branches/rpms/nethack/f41.yaml", branchRequest("nethack", "f41", "  colour: blue\n"));
    jdoe.push("requests/broken");
    await settle(t);
    const r = await latest(t, "requests/broken");
    expect(r.status).toBe("denied");
    expect(r.reasons.join("\n")).toMatch(/^distgit\/branches\/rpms\/nethack\/f41\.yaml:8: \/spec\/colour /m);
  });

  it("leaves a new package for review naming the rule, and merges it once a releaser approves", async () => {
    const jdoe = packager(t, { key: keys.jdoe });
    jdoe.write("distgit/repos/rpms/gnome-sudoku.yaml", repoRequest("gnome-sudoku"));
    jdoe.push("requests/new-package");
    await settle(t);
    const held = await latest(t, "requests/new-package");
    expect(held.status).toBe("needs-review");
    expect(held.reasons.join("\n")).toMatch(/package review/);
    const decisions = await t.app.inject({ method: "GET", url: `/api/v1/requests/${held.id}/decisions`, headers: await t.auth("reader") });
    expect(decisions.statusCode).toBe(200);
    expect(JSON.stringify(decisions.json())).toContain("repo-review");

    // A token scoped to other packages may not decide it; a releaser may.
    const scoped = await t.app.inject({ method: "POST", url: `/api/v1/requests/${held.id}/approve`, headers: await t.auth("releaser", { packages: ["python-*"] }), payload: { reason: "reviewed" } });
    expect(scoped.statusCode).toBe(403);
    const approved = await t.app.inject({ method: "POST", url: `/api/v1/requests/${held.id}/approve`, headers: await t.auth("releaser"), payload: { reason: "package review bug 2301234 approved" } });
    expect(approved.statusCode).toBe(200);
    await t.writer.idle();
    const merged = await latest(t, "requests/new-package");
    expect(merged).toMatchObject({ status: "merged", approvedBy: "user:test-releaser" });
    expect(parseRequestMergeMessage(mainLog(t)[0]?.message ?? "")?.approvedBy).toBe("user:test-releaser");
  });

  it("marks a later request for the same path with other content as conflicting with the earlier one", async () => {
    const first = packager(t, { name: "jdoe" });
    first.write("distgit/branches/rpms/sudoku/f44.yaml", branchRequest("sudoku", "f44"));
    first.push("requests/sudoku-a");
    await settle(t);
    const second = packager(t, { name: "jdoe" });
    second.write("distgit/branches/rpms/sudoku/f44.yaml", branchRequest("sudoku", "f44").replace("create_git_branch: true", "create_git_branch: false"));
    second.push("requests/sudoku-b");
    await settle(t);
    const a = await latest(t, "requests/sudoku-a");
    const b = await latest(t, "requests/sudoku-b");
    expect(b.status).toBe("needs-review");
    expect(b.reasons.join("\n")).toContain(`conflicts with request ${a.id}`);
  });

  it("supersedes a request whose branch moved and judges the new revision; withdraws one whose branch was deleted", async () => {
    const p = packager(t, { name: "jdoe" });
    p.write("distgit/branches/rpms/htop/f44.yaml", branchRequest("htop", "f44"));
    p.push("requests/htop");
    await settle(t);
    const first = await latest(t, "requests/htop");
    p.write("distgit/branches/rpms/htop/f44.yaml", branchRequest("htop", "f44").replace("true", "false"), "no git branch after all");
    p.push("requests/htop");
    await settle(t);
    const second = await latest(t, "requests/htop");
    expect(second.id).not.toBe(first.id);
    expect(await t.application.requests?.repository.get(first.id)).toMatchObject({ status: "superseded", supersededBy: second.id });
    p.deleteRemote("requests/htop");
    await settle(t);
    expect(await t.application.requests?.repository.get(second.id)).toMatchObject({ status: "withdrawn" });
  });

  it("merges a branch made from an empty clone (unrelated history)", async () => {
    const fresh = packager(t, { key: keys.jdoe, empty: true });
    fresh.write("distgit/branches/rpms/nethack/f43.yaml", branchRequest("nethack", "f43"));
    fresh.push("requests/from-scratch");
    await settle(t);
    const r = await latest(t, "requests/from-scratch");
    expect(r.status).toBe("merged");
    expect(git(t.remote, "ls-tree", "--name-only", "main").split("\n")).toContain("README.md");
  });

  it("submits through the API as the token's subject (verified), and merges it", async () => {
    const issued = await t.tokens.issue({ subject: "jdoe", role: "ci", ttlSeconds: 600 });
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/requests",
      headers: { authorization: `Bearer ${issued.token}` },
      payload: { document: branchRequest("nethack", "epel9") },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ id: string; status: string; author: string; verified: boolean; branch: string }>();
    expect(body).toMatchObject({ author: "jdoe", verified: true });
    await settle(t);
    const r = await t.application.requests?.repository.get(body.id);
    expect(r?.status, r?.reasons.join("; ")).toBe("merged");
    // The poller saw the branch the API made and did not take it for an unverified push.
    expect((await t.application.requests?.repository.list({ branch: body.branch, limit: 10 }))?.items).toHaveLength(1);
  });

  it("round-trips every kind through the API: what is submitted is what the branch and GET hold", async () => {
    const issued = await t.tokens.issue({ subject: "kvaldez", role: "ci", ttlSeconds: 600 });
    const headers = { authorization: `Bearer ${issued.token}` };
    const sideTag = "apiVersion: relengd/v1\nkind: SideTag\nspec:\n  base_tag: f43-build\n  debuginfo: false\n  packages:\n    - python-requests\n    - python-urllib3\n";
    for (const [kind, text, file] of [
      ["BranchRequest", branchRequest("python-requests", "f44"), "distgit/branches/rpms/python-requests/f44.yaml"],
      ["RepoRequest", repoRequest("python-niquests"), "distgit/repos/rpms/python-niquests.yaml"],
      ["SideTag", sideTag, undefined],
    ] as const) {
      const res = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers, payload: { document: text } });
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json<{ id: string }>().id;
      const got = await t.app.inject({ method: "GET", url: `/api/v1/requests/${id}`, headers: await t.auth("reader") });
      const body = got.json<{ kind: string; branch: string; revision: string; documents: { path: string; kind: string; content: string }[] }>();
      expect(body.kind).toBe(kind);
      expect(body.documents).toHaveLength(1);
      expect(body.documents[0]?.content).toBe(text);
      if (file) expect(body.documents[0]?.path).toBe(file);
      else expect(body.documents[0]?.path).toMatch(/^koji\/sidetags\/kvaldez\/[A-Za-z0-9._-]+\.yaml$/);
      expect(git(t.remote, "show", `${body.revision}:${body.documents[0]?.path ?? ""}`)).toBe(text);
    }
  });

  it("refuses a submission that fails lint with a problem naming the field", async () => {
    const issued = await t.tokens.issue({ subject: "jdoe", role: "ci", ttlSeconds: 600 });
    const res = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: { authorization: `Bearer ${issued.token}` }, payload: { document: branchRequest("../etc", "f44") } });
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(res.body).toContain("/spec/repo");
  });
});

describe("requests waiting for the facts", () => {
  let t: TestApp;
  let policiesDir: string;
  beforeAll(async () => {
    // The shipped facts, but jdoe's key not listed yet: a signed push of theirs is not verified.
    policiesDir = mkdtempSync(path.join(root, "policies-nokey-"));
    cpSync(POLICIES, policiesDir, { recursive: true });
    t = await startTestApp("sqlite", { policiesDir, requests: { pollMs: 60_000 } });
    await ensureBareRepository(t.remote, { readme });
    await t.application.requests?.facts.refresh();
  });
  afterAll(async () => t.close());

  it("judges a request again when the facts change, and merges it once they say yes", async () => {
    const jdoe = packager(t, { key: keys.jdoe });
    jdoe.write("distgit/branches/rpms/nethack/f44.yaml", branchRequest("nethack", "f44"));
    jdoe.push("requests/waits-for-key");
    await settle(t);
    const held = await latest(t, "requests/waits-for-key");
    expect(held).toMatchObject({ status: "needs-review", verified: false });

    // The key is listed now; the next refresh of the facts re-judges what waits for them.
    const signingKeys = JSON.parse(readFileSync(path.join(policiesDir, "facts", "signing-keys.json"), "utf8")) as Record<string, string[]>;
    signingKeys.jdoe = [readFileSync(`${keys.jdoe}.pub`, "utf8").trim()];
    writeFileSync(path.join(policiesDir, "facts", "signing-keys.json"), JSON.stringify(signingKeys, null, 2));
    await t.application.requests?.facts.refresh();
    await settle(t);
    const after = await t.application.requests?.repository.get(held.id);
    expect(after).toMatchObject({ id: held.id, status: "merged", approvedBy: "policy/branch-by-maintainer" });
    const decisions = await t.application.requests?.repository.decisions(held.id);
    expect(decisions?.find((d) => d.policy === "branch-by-maintainer")?.outcome).toBe("approve");
  });

  it("leaves alone what a person decided (a conflict with main: test/gitops/requestMerge.test.ts)", async () => {
    const p = packager(t, { name: "jdoe" });
    p.write("distgit/branches/rpms/sudoku/f44.yaml", branchRequest("sudoku", "f44"));
    p.push("requests/denied-by-person");
    await settle(t);
    const held = await latest(t, "requests/denied-by-person");
    const denied = await t.app.inject({ method: "POST", url: `/api/v1/requests/${held.id}/deny`, headers: await t.auth("releaser"), payload: { reason: "not now" } });
    expect(denied.statusCode).toBe(200);
    t.application.requests?.poller.policiesChanged();
    await settle(t);
    expect((await t.application.requests?.repository.get(held.id))?.status).toBe("denied");
    expect(await t.application.requests?.repository.waitingForPolicies("gitops")).not.toContainEqual(expect.objectContaining({ id: held.id }));
  });
});

describe("requests starting while a facts URL does not answer", () => {
  it("does not keep the server from starting: the poller starts once the facts are in", async () => {
    const { createServer } = await import("node:http");
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const groups = readFileSync(path.join(POLICIES, "facts", "groups.json"), "utf8");
    const server = createServer((_req, res) => {
      void held.then(() => res.writeHead(200, { "content-type": "application/json" }).end(groups));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const policiesDir = mkdtempSync(path.join(root, "policies-url-"));
    cpSync(POLICIES, policiesDir, { recursive: true });
    const factsFile = path.join(policiesDir, "facts.yaml");
    writeFileSync(factsFile, readFileSync(factsFile, "utf8").replace("groups: facts/groups.json", `groups: http://127.0.0.1:${port}/groups.json`));
    const t = await startTestApp("sqlite", { policiesDir, requests: { pollMs: 60_000 } });
    try {
      const parts = t.application.requests;
      if (!parts) throw new Error("requests are not wired");
      let ready = false;
      await parts.start();
      void parts.ready().then(() => (ready = true));
      // start() answered while the URL still holds its answer back.
      await new Promise((r) => setImmediate(r));
      expect(ready).toBe(false);
      expect(parts.facts.get().values.groups).toBeUndefined();
      release();
      await parts.ready();
      expect(parts.facts.get().values.groups).toBeDefined();
    } finally {
      release();
      await t.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
