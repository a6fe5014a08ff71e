// `relengd plan`: a seeded GitOps repository against the tag state a running server observed from bus messages.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { buildKojiTag, renderKojiTag } from "../../src/domain/documents/kojiTag.js";
import { buildBranchRequest } from "../../src/domain/requests/branchRequest.js";
import { renderProposedDocument } from "../../src/domain/requests/index.js";
import { buildSideTag } from "../../src/domain/requests/sideTag.js";
import { scmTickets } from "../support/requestFixtures.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { repoRoot, runRelengd } from "../support/cliProcess.js";
import { git } from "../support/remote.js";
import { cleanEnv } from "../support/serverProcess.js";

/** A KojiTag document as the writer renders it. */
const kojiTag = (tag: string, pkg: string, nvr: string) => renderKojiTag(buildKojiTag({ tag, package: pkg, nvr }, {}));

describe("relengd plan against a seeded GitOps repository and the observed tag state", () => {
  let dir: string;
  let gitops: string;
  let server: RunningServer;
  let admin: string;
  let reader: string;
  let mainSha: string;
  let secret: string;
  const run = `${process.pid}`;

  const relengd = (args: string[]) => runRelengd(["plan", ...args], { ...cleanEnv(), RELENGD_URL: server.url, RELENGD_TOKEN: reader });

  /** What Koji did, told the way the bus tells it (through POST /api/v1/events). */
  const observe = async (action: "tag" | "untag", tag: string, nvr: [string, string, string], sentAt: string) => {
    const res = await fetch(`${server.url}/api/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({
        id: `${run}-${action}-${tag}-${nvr.join("-")}-${sentAt}`,
        topic: `org.fedoraproject.prod.buildsys.${action}`,
        headers: { "sent-at": sentAt },
        body: { tag, name: nvr[0], version: nvr[1], release: nvr[2], instance: "primary", user: "bodhi" },
      }),
    });
    expect(res.status, await res.text()).toBe(201);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-plan-"));
    // The GitOps repository as the writer (or people's merge requests) left it.
    gitops = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", gitops]);
    const work = path.join(dir, "work");
    git(dir, "clone", "--quiet", gitops, "work");
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
    };
    put("koji/tags/f45/bash.yaml", kojiTag("f45", "bash", "bash-5.2.37-1.fc45"));
    put("koji/tags/f45/zsh.yaml", kojiTag("f45", "zsh", "zsh-5.9-2.fc45"));
    put("koji/tags/f44-updates-candidate/vim.yaml", kojiTag("f44-updates-candidate", "vim", "vim-9.1-1.fc44"));
    put("koji/tags/f45/broken.yaml", "apiVersion: relengd/v1\nkind: KojiTag\nspec:\n  tag: f45\n");
    put("bodhi/F44/bash.yaml", "not a koji tag document, not read\n");
    const commit = (message: string) => git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "commit", "--quiet", "-m", message);
    git(work, "add", ".");
    commit("seed");
    git(work, "push", "--quiet", "origin", "main");
    mainSha = git(work, "rev-parse", "HEAD").trim();
    // A merge request that moves bash forward.
    git(work, "checkout", "--quiet", "-b", "mr/bash-5.2.38");
    put("koji/tags/f45/bash.yaml", kojiTag("f45", "bash", "bash-5.2.38-1.fc45"));
    git(work, "add", ".");
    commit("bash 5.2.38");
    git(work, "push", "--quiet", "origin", "mr/bash-5.2.38");

    secret = `plan-test-secret-${run}-0123456789abcdef`;
    const config = loadConfig({
      RELENGD_DATA_DIR: path.join(dir, "data"),
      RELENGD_DATABASE_URL: `file:${path.join(dir, "data", "relengd.db")}`,
      RELENGD_POLICIES_DIR: path.join(repoRoot, "policies"),
      RELENGD_GITOPS_REPO: gitops,
      RELENGD_PORT: "0",
      RELENGD_TOKEN_SECRET: secret,
    });
    server = await startServer(config, pino({ level: "silent" }));
    const tokens = new TokenService(secret);
    admin = (await tokens.issue({ subject: "bus", role: "admin", ttlSeconds: 600 })).token;
    reader = (await tokens.issue({ subject: "operator", role: "reader", ttlSeconds: 600 })).token;

    // f45: bash 5.2.36, then 5.2.37 (asked for), then 5.2.38 tagged after it; zsh as asked; python3 unmanaged.
    await observe("tag", "f45", ["bash", "5.2.36", "1.fc45"], "2026-11-20T09:00:00Z");
    await observe("tag", "f45", ["bash", "5.2.37", "1.fc45"], "2026-11-20T10:00:00Z");
    await observe("tag", "f45", ["bash", "5.2.38", "1.fc45"], "2026-11-20T11:00:00Z");
    await observe("tag", "f45", ["zsh", "5.9", "2.fc45"], "2026-11-20T09:30:00Z");
    await observe("tag", "f45", ["python3", "3.14.0", "1.fc45"], "2026-11-20T09:45:00Z");
    // f44-updates-candidate: an older vim than asked for.
    await observe("tag", "f44-updates-candidate", ["vim", "9.0", "1.fc44"], "2026-11-20T08:00:00Z");
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints the operations that would make Koji hold what every KojiTag environment's documents ask for, and exits 1", async () => {
    const res = await relengd([]);
    expect(res.code, res.stderr).toBe(1);
    const rows = res.stdout.trimEnd().split("\n").map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(["OP", "TAG", "PACKAGE", "NVR", "WHY"]);
    expect(rows.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ["tag", "f44-updates-candidate", "vim", "vim-9.1-1.fc44"],
      ["untag", "f45", "bash", "bash-5.2.38-1.fc45"],
    ]);
    expect(rows[1]?.[4]).toBe("koji/tags/f44-updates-candidate/vim.yaml asks for vim-9.1-1.fc44; f44-updates-candidate has vim-9.0-1.fc44 as the latest vim");
    // The broken document is named, with its line; the summary says what was compared with what.
    expect(res.stderr).toContain("problem: koji/tags/f45/broken.yaml:");
    expect(res.stderr).toContain(`2 operations, 1 in sync, 1 unmanaged (no document); rawhide (f45) at ${mainSha.slice(0, 7)} of ${gitops}#main`);
  });

  it("plans one environment as JSON", async () => {
    const res = await relengd(["--environment", "rawhide", "--output", "json"]);
    expect(res.code, res.stderr).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({
      environments: [{ name: "rawhide", tag: "f45", repository: gitops, branch: "main", commit: mainSha }],
      operations: [{ op: "untag", tag: "f45", package: "bash", nvr: "bash-5.2.38-1.fc45", reason: "tagged after bash-5.2.37-1.fc45, which koji/tags/f45/bash.yaml asks for" }],
      inSync: [{ tag: "f45", package: "zsh", nvr: "zsh-5.9-2.fc45" }],
      unmanaged: [{ tag: "f45", package: "python3", latest: "python3-3.14.0-1.fc45" }],
      problems: expect.arrayContaining([expect.stringMatching(/^koji\/tags\/f45\/broken\.yaml:\d+: \/spec\/package /)]),
      // The repository holds no request.
      requestOperations: [],
      unreviewed: [],
    });
  });

  it("previews a merge request's branch, and says in sync once Koji holds what is asked for", async () => {
    const preview = await relengd(["--environment", "rawhide", "--branch", "mr/bash-5.2.38"]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toBe("in sync: 2 packages in f45\n");

    await observe("untag", "f45", ["bash", "5.2.38", "1.fc45"], "2026-11-20T12:00:00Z");
    const after = await relengd(["--environment", "rawhide"]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe("in sync: 2 packages in f45\n");
  });

  /**
   * A second GitOps repository holding requests: two merged by relengd (a merge commit with its
   * trailers), a RepoRequest and a broken BranchRequest pushed straight to main; its branch
   * `drift` also asks Koji for a python3 it does not have.
   */
  function seedRequestsRepository(): { remote: string; merge: string; direct: string; broken: string } {
    const remote = path.join(dir, "requests.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    const work = path.join(dir, "requests-work");
    git(dir, "clone", "--quiet", remote, "requests-work");
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
    };
    const commit = (message: string) => {
      git(work, "add", ".");
      git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "commit", "--quiet", "-m", message);
      return git(work, "rev-parse", "HEAD").trim();
    };
    put("README.md", "GitOps repository: koji/, bodhi/, composes/, distgit/\n");
    put("koji/tags/f45/zsh.yaml", kojiTag("f45", "zsh", "zsh-5.9-2.fc45"));
    commit("layout");
    git(work, "checkout", "--quiet", "-b", "requests/nethack-f44");
    put("distgit/branches/rpms/nethack/f44.yaml", renderProposedDocument(buildBranchRequest({ namespace: "rpms", repo: "nethack", branch: "f44", create_git_branch: true })));
    put("koji/sidetags/alice/kde.yaml", renderProposedDocument(buildSideTag({ base_tag: "f43-build", debuginfo: true, packages: ["qt6-qtbase", "qt6-qttools"] })));
    commit("ask for nethack f44 and a side tag");
    git(work, "checkout", "--quiet", "main");
    git(work, "-c", "user.name=relengd", "-c", "user.email=relengd@example.org", "merge", "--quiet", "--no-ff", "requests/nethack-f44", "-m", "Merge request 01JREQ\n\nRelengd-Request-Id: 01JREQ\nRelengd-Request-Kind: BranchRequest\nRelengd-Approved-By: policy/branch-by-maintainer");
    const merge = git(work, "rev-parse", "HEAD").trim();
    const ticket = scmTickets().find((t) => t.file === "new_repo/000.json");
    put("distgit/repos/rpms/nethack.yaml", stringify({ apiVersion: "relengd/v1", kind: "RepoRequest", spec: ticket?.spec }));
    const direct = commit("new package nethack, pushed straight to main");
    put("distgit/branches/rpms/sudoku/epel9.yaml", "apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: sudoku\n  branch: epel9\n  create_git_branch: maybe\n");
    const broken = commit("sudoku epel9");
    git(work, "push", "--quiet", "origin", "main");
    git(work, "checkout", "--quiet", "-b", "drift");
    put("koji/tags/f45/python3.yaml", kojiTag("f45", "python3", "python3-3.15.0-1.fc45"));
    commit("python3 3.15");
    git(work, "push", "--quiet", "origin", "drift");
    return { remote, merge, direct, broken };
  }

  it("lists the operations merged requests imply and the requests that reached the branch unreviewed, without changing the exit code", async () => {
    const seeded = seedRequestsRepository();
    const inSync = await relengd(["--environment", "rawhide", "--repo", seeded.remote]);
    expect(inSync.code, inSync.stderr).toBe(0);
    const [kojiPart = "", requestsPart = "", unreviewedPart = ""] = inSync.stdout.split("\n\n");
    expect(kojiPart).toBe("in sync: 1 package in f45");
    expect(requestsPart.trimEnd().split("\n").map((l) => l.split(/\s{2,}/))).toEqual([
      ["Operations merged requests imply"],
      ["KIND", "PATH", "OPERATION"],
      ["BranchRequest", "distgit/branches/rpms/nethack/f44.yaml", "create branch rpms/nethack f44"],
      ["RepoRequest", "distgit/repos/rpms/nethack.yaml", "create repo rpms/nethack (master, bug 1441813, monitoring)"],
      ["SideTag", "koji/sidetags/alice/kde.yaml", "koji add-sidetag f43-build --debuginfo (as alice)"],
      ["SideTag", "koji/sidetags/alice/kde.yaml", "koji add-pkg --owner alice f43-build-side-<id> qt6-qtbase qt6-qttools"],
    ]);
    // The merge's trailers were typed by hand: no server recorded request 01JREQ, so its documents are unreviewed too.
    expect(unreviewedPart.trimEnd().split("\n").map((l) => l.split(/\s{2,}/))).toEqual([
      ["Unreviewed: requests that reached the branch without a relengd merge"],
      ["PATH", "COMMIT", "SUBJECT", "TRAILER NAMES"],
      ["distgit/branches/rpms/nethack/f44.yaml", seeded.merge.slice(0, 12), "Merge request 01JREQ", "request 01JREQ (not merged by relengd with this commit)"],
      ["distgit/branches/rpms/sudoku/epel9.yaml", seeded.broken.slice(0, 12), "sudoku epel9", "-"],
      ["distgit/repos/rpms/nethack.yaml", seeded.direct.slice(0, 12), "new package nethack, pushed straight to main", "-"],
      ["koji/sidetags/alice/kde.yaml", seeded.merge.slice(0, 12), "Merge request 01JREQ", "request 01JREQ (not merged by relengd with this commit)"],
    ]);
    expect(inSync.stderr).toContain("problem: distgit/branches/rpms/sudoku/epel9.yaml:7: /spec/create_git_branch must be true or false, not a string");
    expect(inSync.stderr).toContain("4 request operations, 4 unreviewed request documents (neither changes the exit code)");

    const drift = await relengd(["--environment", "rawhide", "--repo", seeded.remote, "--branch", "drift", "--output", "json"]);
    expect(drift.code, drift.stderr).toBe(1);
    const body = JSON.parse(drift.stdout) as Record<string, unknown>;
    expect(body.operations).toEqual([expect.objectContaining({ op: "tag", tag: "f45", package: "python3", nvr: "python3-3.15.0-1.fc45" })]);
    expect(body.requestOperations).toEqual([
      { repository: seeded.remote, branch: "drift", path: "distgit/branches/rpms/nethack/f44.yaml", requestKind: "BranchRequest", kind: "create-branch", text: "create branch rpms/nethack f44" },
      { repository: seeded.remote, branch: "drift", path: "distgit/repos/rpms/nethack.yaml", requestKind: "RepoRequest", kind: "create-repo", text: "create repo rpms/nethack (master, bug 1441813, monitoring)" },
      { repository: seeded.remote, branch: "drift", path: "koji/sidetags/alice/kde.yaml", requestKind: "SideTag", kind: "add-sidetag", text: "koji add-sidetag f43-build --debuginfo (as alice)" },
      { repository: seeded.remote, branch: "drift", path: "koji/sidetags/alice/kde.yaml", requestKind: "SideTag", kind: "add-packages", text: "koji add-pkg --owner alice f43-build-side-<id> qt6-qtbase qt6-qttools" },
    ]);
    expect(body.unreviewed).toEqual([
      { repository: seeded.remote, branch: "drift", path: "distgit/branches/rpms/nethack/f44.yaml", commit: seeded.merge, subject: "Merge request 01JREQ", requestId: "01JREQ" },
      { repository: seeded.remote, branch: "drift", path: "distgit/branches/rpms/sudoku/epel9.yaml", commit: seeded.broken, subject: "sudoku epel9" },
      { repository: seeded.remote, branch: "drift", path: "distgit/repos/rpms/nethack.yaml", commit: seeded.direct, subject: "new package nethack, pushed straight to main" },
      { repository: seeded.remote, branch: "drift", path: "koji/sidetags/alice/kde.yaml", commit: seeded.merge, subject: "Merge request 01JREQ", requestId: "01JREQ" },
    ]);
    expect(body.problems).toContain("distgit/branches/rpms/sudoku/epel9.yaml:7: /spec/create_git_branch must be true or false, not a string");
  });

  it("refuses an environment that is not a Koji tag, and one that does not exist", async () => {
    const compose = await relengd(["--environment", "rawhide-compose"]);
    expect(compose.code).toBe(2);
    expect(compose.stderr).toContain("environment rawhide-compose is a ComposeRequest environment; plan compares Koji tags only");
    const unknown = await relengd(["--environment", "nowhere"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no environment nowhere");
  });

  it("counts a document as reviewed only when the server merged its request with that very commit: a copied trailer pushed straight to main is unreviewed", async () => {
    // jdoe, a packager in the shipped facts, asks for a side tag through the API: approved by policy, merged by relengd.
    const jdoe = (await new TokenService(secret).issue({ subject: "jdoe", role: "ci", ttlSeconds: 600 })).token;
    const sideTag = renderProposedDocument(buildSideTag({ base_tag: "f43-build", debuginfo: false, packages: ["nethack"] }));
    const submitted = await fetch(`${server.url}/api/v1/requests`, { method: "POST", headers: { authorization: `Bearer ${jdoe}`, "content-type": "application/json" }, body: JSON.stringify({ document: sideTag }) });
    expect(submitted.status, await submitted.clone().text()).toBe(201);
    const request = (await submitted.json()) as { id: string; status: string; path: string };
    expect(request.status).toBe("approved");
    let merged: { status: string; mergeCommit: string | null } = { status: request.status, mergeCommit: null };
    for (let i = 0; i < 300 && merged.status !== "merged"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      merged = (await (await fetch(`${server.url}/api/v1/requests/${request.id}`, { headers: { authorization: `Bearer ${reader}` } })).json()) as typeof merged;
    }
    expect(merged.status).toBe("merged");

    // The exit code is Koji's drift alone (0 or 1, by what the tests before observed).
    const reviewed = await relengd(["--environment", "rawhide", "--output", "json"]);
    expect([0, 1], reviewed.stderr).toContain(reviewed.code);
    const before = JSON.parse(reviewed.stdout) as { unreviewed: unknown[]; requestOperations: { path: string }[] };
    expect(before.unreviewed).toEqual([]);
    expect(before.requestOperations.map((o) => o.path)).toContain(request.path);

    // Someone copies the merge's trailers onto a commit pushed straight to main (and hides an ESC in its subject).
    const work = path.join(dir, "forger");
    git(dir, "clone", "--quiet", gitops, "forger");
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), text);
    };
    put("distgit/branches/rpms/nethack/f44.yaml", renderProposedDocument(buildBranchRequest({ namespace: "rpms", repo: "nethack", branch: "f44", create_git_branch: true })));
    put(request.path, renderProposedDocument(buildSideTag({ base_tag: "f43-build", debuginfo: false, packages: ["nethack", "kernel"] })));
    git(work, "add", ".");
    const message = `\x1b]0;owned\x07Merge request ${request.id}\n\nRelengd-Request-Id: ${request.id}\nRelengd-Request-Kind: SideTag\nRelengd-Approved-By: policy/sidetag`;
    git(work, "-c", "user.name=Mallory", "-c", "user.email=mallory@example.org", "commit", "--quiet", "-m", message);
    git(work, "push", "--quiet", "origin", "HEAD:main");
    const forged = git(work, "rev-parse", "HEAD").trim();

    const res = await relengd(["--environment", "rawhide", "--output", "json"]);
    expect(res.code, res.stderr).toBe(reviewed.code);
    const subject = `\x1b]0;owned\x07Merge request ${request.id}`;
    expect((JSON.parse(res.stdout) as { unreviewed: unknown[] }).unreviewed).toEqual([
      { repository: gitops, branch: "main", path: "distgit/branches/rpms/nethack/f44.yaml", commit: forged, subject, requestId: request.id },
      { repository: gitops, branch: "main", path: request.path, commit: forged, subject, requestId: request.id },
    ]);
    const text = await relengd(["--environment", "rawhide"]);
    const rows = text.stdout.split("\n").map((l) => l.split(/\s{2,}/));
    expect(rows).toContainEqual(["distgit/branches/rpms/nethack/f44.yaml", forged.slice(0, 12), `\\u001b]0;owned\\u0007Merge request ${request.id}`, `request ${request.id} (not merged by relengd with this commit)`]);
    expect(text.stdout).not.toContain("\x1b");

    // The server's own look at main, after its next poll, agrees.
    let report: { head: string | null; items: { path: string; requestId?: string }[] } = { head: null, items: [] };
    for (let i = 0; i < 300 && report.head !== forged; i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = (await (await fetch(`${server.url}/api/v1/requests/unreviewed`, { headers: { authorization: `Bearer ${reader}` } })).json()) as typeof report;
    }
    expect(report.items.map((u) => [u.path, u.requestId])).toEqual([
      ["distgit/branches/rpms/nethack/f44.yaml", request.id],
      [request.path, request.id],
    ]);
  }, 60_000);

  it("answers the observed state by tag, refusing a tag name that is not one", async () => {
    const get = (route: string) => fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${reader}` } });
    const res = await get("/api/v1/koji-tags/f45/observed?package=bash");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { builds: { nvr: string; latest: boolean }[] }).builds.map((b) => [b.nvr, b.latest])).toEqual([
      ["bash-5.2.36-1.fc45", false],
      ["bash-5.2.37-1.fc45", true],
    ]);
    const bad = await get("/api/v1/koji-tags/..%2Fetc/observed");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ in: "params", path: "/tag" }] });
    const tags = (await (await get("/api/v1/koji-tags")).json()) as { items: { tag: string; packages: number }[] };
    expect(tags.items.map((t) => [t.tag, t.packages])).toEqual([
      ["f44-updates-candidate", 1],
      ["f45", 3],
    ]);
  });
});
