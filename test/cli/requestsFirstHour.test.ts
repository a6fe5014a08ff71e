// A new user's first hour with requests, with real processes only: `relengd serve` as the README's quick
// start runs it, a `git clone` of its GitOps repository, a request branch pushed with plain git, the
// `relengd request` verbs, a releaser's approval, the merge pulled back, and `request submit --wait`.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runRelengd, serveRelengd, serverEnvironment, type CliRun, type RelengdServe } from "../support/cliProcess.js";
import { git } from "../support/remote.js";

/** The README's BranchRequest, for a release branch nethack does not have yet. */
const NETHACK_F44 = `apiVersion: relengd/v1
kind: BranchRequest
spec:
  namespace: rpms
  repo: nethack
  branch: f44
  create_git_branch: true
`;

/** A side tag as the README shows one; the shipped facts allow f43-build and list jdoe as a packager. */
const SIDE_TAG = `apiVersion: relengd/v1
kind: SideTag
spec:
  base_tag: f43-build
  debuginfo: true
  packages:
    - nethack
`;

interface RequestJson {
  id: string;
  status: string;
  kind: string;
  path: string | null;
  author: string | null;
  verified: boolean;
  reasons: string[];
  approvedBy: string | null;
  decidedBy: string | null;
  mergeCommit: string | null;
  branch: string;
  source: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("requests: a new user's first hour, with real processes", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: RelengdServe;
  let releaser: string;
  let packager: string;
  let clone: string;

  /** `relengd ARGS` as a person runs it: the server's URL and their token. */
  const relengd = (args: string[], token = releaser): Promise<CliRun> => runRelengd(args, { ...env, RELENGD_URL: server.url, RELENGD_TOKEN: token });
  const json = async <T>(args: string[], token?: string): Promise<T> => {
    const res = await relengd([...args, "--output", "json"], token);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as T;
  };
  /** Asks `relengd request show` until `done` holds (the poller and the writer work in the background). */
  const showUntil = async (id: string, done: (r: RequestJson) => boolean): Promise<RequestJson> => {
    let r = await json<RequestJson>(["request", "show", id]);
    for (let i = 0; i < 150 && !done(r); i++) {
      await sleep(200);
      r = await json<RequestJson>(["request", "show", id]);
    }
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-first-hour-"));
    // The quick start's server: its own data dir, the shipped policies and facts, nothing else but a quick poll.
    env = await serverEnvironment(path.join(dir, "data"), { RELENGD_REQUEST_POLL_MS: "200" });
    server = await serveRelengd(env);
    // Tokens are issued on the server's host, from its data dir.
    const [r, p] = await Promise.all([
      runRelengd(["token", "issue", "--subject", "tnguyen", "--role", "releaser", "--ttl", "1h"], env),
      runRelengd(["token", "issue", "--subject", "jdoe", "--role", "ci", "--ttl", "1h"], env),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(p.code, p.stderr).toBe(0);
    releaser = r.stdout.trim();
    packager = p.stdout.trim();
  }, 60_000);

  afterAll(async () => {
    if (server && !server.hasExited()) {
      server.kill("SIGTERM");
      await server.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let requestId: string;

  it("clones the GitOps repository (a README to branch from) and pushes a request branch with one YAML file", () => {
    // README: git clone data/gitops.git ../gitops (from the server's checkout, whose data dir this is).
    git(dir, "clone", "--quiet", "data/gitops.git", "gitops");
    clone = path.join(dir, "gitops");
    expect(git(clone, "ls-files").split("\n")).toContain("README.md");
    git(clone, "config", "user.name", "Jane Doe");
    git(clone, "config", "user.email", "jdoe@fedoraproject.org");
    git(clone, "switch", "--quiet", "-c", "requests/nethack-f44");
    mkdirSync(path.join(clone, "distgit/branches/rpms/nethack"), { recursive: true });
    writeFileSync(path.join(clone, "distgit/branches/rpms/nethack/f44.yaml"), NETHACK_F44);
    git(clone, "add", "distgit");
    git(clone, "commit", "--quiet", "-m", "nethack: branch f44");
    git(clone, "push", "--quiet", "origin", "requests/nethack-f44");
  });

  it("lists it within seconds: needs review, the author unverified (the commit is not signed), the rule named", async () => {
    let items: RequestJson[] = [];
    for (let i = 0; i < 100 && items.length === 0; i++) {
      items = (await json<{ items: RequestJson[] }>(["request", "list", "--status", "needs-review"])).items;
      if (items.length === 0) await sleep(100);
    }
    expect(items).toHaveLength(1);
    const r = items[0] as RequestJson;
    requestId = r.id;
    expect(r).toMatchObject({ kind: "BranchRequest", path: "distgit/branches/rpms/nethack/f44.yaml", branch: "requests/nethack-f44", author: "Jane Doe", verified: false, source: "git", mergeCommit: null });
    expect(r.reasons.join("\n")).toMatch(/branch-by-maintainer/);
    expect(r.reasons.join("\n")).toMatch(/not verified/);

    const table = await relengd(["request", "list"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${r.id}\\s+needs-review\\s+BranchRequest\\s+distgit/branches/rpms/nethack/f44\\.yaml\\s+Jane Doe\\s+no\\s`, "m"));
  });

  it("shows it with its document, and explains each policy condition by condition", async () => {
    const show = await relengd(["request", "show", requestId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("needs-review");
    expect(show.stdout).toContain("--- distgit/branches/rpms/nethack/f44.yaml (BranchRequest)");
    expect(show.stdout).toContain("  branch: f44");
    expect(show.stdout).toMatch(/author Jane Doe is not verified: commit [0-9a-f]{12} is not signed/);

    const explain = await relengd(["request", "explain", requestId]);
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stdout).toMatch(/^branch-by-maintainer on distgit\/branches\/rpms\/nethack\/f44\.yaml: unmet /m);
    expect(explain.stdout).toMatch(/^ {2}false\s+verifiedAuthor: /m);
    expect(explain.stdout).toMatch(/^ {2}true\s+releaseBranch: f44 is a release branch$/m);
  });

  it("is approved by a releaser from the CLI and merged: the clone pulls a merge commit with two parents and the trailers", async () => {
    const approve = await relengd(["request", "approve", requestId, "--reason", "jdoe maintains nethack; unsigned by mistake"]);
    expect(approve.code, approve.stderr).toBe(0);
    const merged = await showUntil(requestId, (r) => r.status === "merged");
    expect(merged).toMatchObject({ status: "merged", approvedBy: "user:tnguyen", decidedBy: "user:tnguyen" });

    git(clone, "switch", "--quiet", "main");
    git(clone, "pull", "--quiet");
    const [sha = "", parents = "", body = ""] = git(clone, "log", "-1", "--format=%H%x1f%P%x1f%B").split("\x1f");
    expect(sha).toBe(merged.mergeCommit);
    expect(parents.trim().split(" ")).toHaveLength(2);
    expect(parents.trim().split(" ")[1]).toBe(git(clone, "rev-parse", "requests/nethack-f44").trim());
    expect(body).toContain(`Relengd-Request-Id: ${requestId}`);
    expect(body).toContain("Relengd-Request-Kind: BranchRequest");
    expect(body).toContain("Relengd-Approved-By: user:tnguyen");
    expect(git(clone, "show", "HEAD:distgit/branches/rpms/nethack/f44.yaml")).toBe(NETHACK_F44);

    // relengd merged it: nothing on main is unreviewed, once the poller has looked at the merge.
    let report = { head: null as string | null, items: [] as unknown[] };
    for (let i = 0; i < 100 && report.head !== sha; i++) {
      await sleep(100);
      report = (await (await fetch(`${server.url}/api/v1/requests/unreviewed`, { headers: { authorization: `Bearer ${releaser}` } })).json()) as typeof report;
    }
    expect(report).toMatchObject({ repository: "gitops", branch: "main", head: sha, items: [] });
  });

  it("submits a side tag as the token's subject and waits: approved by the shipped policy, merged, exit 0", async () => {
    const file = path.join(clone, "kde.yaml");
    writeFileSync(file, SIDE_TAG);
    const submit = await relengd(["request", "submit", file, "--wait", "--timeout", "60s"], packager);
    expect(submit.code, submit.stdout + submit.stderr).toBe(0);
    const mine = (await json<{ items: RequestJson[] }>(["request", "list", "--author", "jdoe"])).items;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: "SideTag", status: "merged", verified: true, source: "api", approvedBy: "policy/sidetag" });
    // Under the token's subject, named after the base tag and the first package (as the README says).
    expect(mine[0]?.path).toBe("koji/sidetags/jdoe/f43-build-nethack.yaml");
    git(clone, "pull", "--quiet");
    expect(git(clone, "show", `HEAD:${mine[0]?.path ?? ""}`)).toBe(SIDE_TAG);
  });

  it("plans what the merged requests imply; a document pushed straight to main is unreviewed, in plan and in the API", async () => {
    const plan = await relengd(["plan"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("Operations merged requests imply");
    expect(plan.stdout).toMatch(/^BranchRequest\s+distgit\/branches\/rpms\/nethack\/f44\.yaml\s+create branch rpms\/nethack f44$/m);
    expect(plan.stdout).toMatch(/^SideTag\s+koji\/sidetags\/jdoe\/\S+\.yaml\s+koji add-sidetag f43-build --debuginfo \(as jdoe\)$/m);
    expect(plan.stdout).not.toContain("Unreviewed");

    mkdirSync(path.join(clone, "distgit/branches/rpms/nethack"), { recursive: true });
    writeFileSync(path.join(clone, "distgit/branches/rpms/nethack/f43.yaml"), NETHACK_F44.replace("branch: f44", "branch: f43"));
    git(clone, "add", "distgit/branches/rpms/nethack/f43.yaml");
    git(clone, "commit", "--quiet", "-m", "nethack: f43 too, straight to main");
    git(clone, "push", "--quiet", "origin", "main");
    const direct = git(clone, "rev-parse", "HEAD").trim();

    const after = await relengd(["plan", "--output", "json"]);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { unreviewed: { path: string; commit: string }[] }).unreviewed).toEqual([
      expect.objectContaining({ path: "distgit/branches/rpms/nethack/f43.yaml", commit: direct, subject: "nethack: f43 too, straight to main" }),
    ]);
    let report = { head: null as string | null, items: [] as { path: string; commit: string | null }[] };
    for (let i = 0; i < 100 && report.head !== direct; i++) {
      await sleep(100);
      report = (await (await fetch(`${server.url}/api/v1/requests/unreviewed`, { headers: { authorization: `Bearer ${packager}` } })).json()) as typeof report;
    }
    expect(report.items).toEqual([{ path: "distgit/branches/rpms/nethack/f43.yaml", commit: direct, subject: "nethack: f43 too, straight to main" }]);
  });
});

describe("requests: a packager's signed push, merged by policy with nothing but git", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: RelengdServe;
  let reader: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-signed-"));
    // jdoe's own SSH key, listed for jdoe in the facts (policies/facts/signing-keys.json) before the server starts.
    const key = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "jdoe@fedoraproject.org", "-f", key]);
    const policies = path.join(dir, "policies");
    cpSync(path.join(repoRoot, "policies"), policies, { recursive: true });
    const keysFile = path.join(policies, "facts", "signing-keys.json");
    const keys = JSON.parse(readFileSync(keysFile, "utf8")) as Record<string, string[]>;
    keys.jdoe = [readFileSync(`${key}.pub`, "utf8").trim()];
    writeFileSync(keysFile, JSON.stringify(keys, null, 2));

    env = await serverEnvironment(path.join(dir, "data"), { RELENGD_POLICIES_DIR: policies, RELENGD_REQUEST_POLL_MS: "200" });
    server = await serveRelengd(env);
    const issued = await runRelengd(["token", "issue", "--subject", "jdoe", "--role", "reader", "--ttl", "1h"], env);
    expect(issued.code, issued.stderr).toBe(0);
    reader = issued.stdout.trim();

    git(dir, "clone", "--quiet", "data/gitops.git", "gitops");
    const clone = path.join(dir, "gitops");
    for (const [k, v] of [["user.name", "Jane Doe"], ["user.email", "jdoe@fedoraproject.org"], ["gpg.format", "ssh"], ["user.signingkey", key], ["commit.gpgsign", "true"]]) git(clone, "config", k as string, v as string);
    git(clone, "switch", "--quiet", "-c", "requests/nethack-f44");
    mkdirSync(path.join(clone, "distgit/branches/rpms/nethack"), { recursive: true });
    writeFileSync(path.join(clone, "distgit/branches/rpms/nethack/f44.yaml"), NETHACK_F44);
    git(clone, "add", "distgit");
    git(clone, "commit", "--quiet", "-m", "nethack: branch f44");
    git(clone, "push", "--quiet", "origin", "requests/nethack-f44");
  }, 60_000);

  afterAll(async () => {
    if (server && !server.hasExited()) {
      server.kill("SIGTERM");
      await server.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is judged with jdoe as its verified author (the signer), approved by branch-by-maintainer and merged", async () => {
    const list = async () => {
      const res = await runRelengd(["request", "list", "--output", "json"], { ...env, RELENGD_URL: server.url, RELENGD_TOKEN: reader });
      expect(res.code, res.stderr).toBe(0);
      return (JSON.parse(res.stdout) as { items: RequestJson[] }).items;
    };
    let items = await list();
    for (let i = 0; i < 150 && items[0]?.status !== "merged"; i++) {
      await sleep(200);
      items = await list();
    }
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: "merged", author: "jdoe", verified: true, source: "git", approvedBy: "policy/branch-by-maintainer" });
    const clone = path.join(dir, "gitops");
    git(clone, "switch", "--quiet", "main");
    git(clone, "pull", "--quiet");
    expect(git(clone, "log", "-1", "--format=%B")).toContain("Relengd-Approved-By: policy/branch-by-maintainer");
  });
});
