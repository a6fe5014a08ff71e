// Releasing from the command line: a real `relengd serve`, a real bare GitOps remote, the CLI as child processes.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { repoRoot, runRelengd, serverEnvironment, type CliRun } from "../support/cliProcess.js";
import { cloneRemote } from "../support/remote.js";
import { startServerProcess, type ServerProcess } from "../support/serverProcess.js";

const SHA = "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901";
const RELEASE_ID = "[0-9A-HJKMNP-TV-Z]{26}";
const CLOCK = "[0-2][0-9]:[0-5][0-9]:[0-5][0-9]";

/** The release id from the first line `release` or `rollback` prints: "<status> <id>: …". */
function releaseIdOf(run: CliRun): string {
  const m = new RegExp(`^queued (${RELEASE_ID}): `).exec(run.stdout);
  expect(m, run.stdout + run.stderr).not.toBeNull();
  return m?.[1] ?? "";
}

describe("relengd release, rollback, hold and track against a running server", () => {
  let dir: string;
  let remote: string;
  let serverEnv: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;
  let url: string;
  let ciToken: string;
  let releaserToken: string;
  const tag = `p${process.pid}`;
  // Three builds of one package for release and rollback; one more package for the unreachable remote;
  // one artifact without a koji build.
  const requests = [1, 2, 3].map((n) => ({ id: `${tag}-requests-${n}`, nvr: `python-requests-2.32.${n}-1.fc45` }));
  const idna = { id: `${tag}-idna`, nvr: "python-idna-3.10-1.fc45" };
  const noBuild = `${tag}-chardet`;

  const relengd = (args: string[], token = releaserToken): Promise<CliRun> =>
    runRelengd(args, { ...serverEnv, RELENGD_URL: url, RELENGD_TOKEN: token });

  /** Through the CLI, as a pipeline does it: create, add the build, push. */
  const pushArtifactWithCli = async (id: string, pkg: string, nvr: string) => {
    const file = path.join(dir, `${id}.json`);
    const created = await relengd([
      "artifact", "create", "--file", file, "--id", id, "--package", pkg, "--release", "rawhide",
      "--source-repo", `https://src.fedoraproject.org/rpms/${pkg}.git`, "--sha", SHA, "--branch", "rawhide",
    ], ciToken);
    expect(created.code, created.stderr).toBe(0);
    const added = await relengd(["artifact", "add", "--file", file, "--koji-build", nvr], ciToken);
    expect(added.code, added.stderr).toBe(0);
    const pushed = await relengd(["artifact", "push", "--file", file], ciToken);
    expect(pushed.code, pushed.stderr).toBe(0);
  };

  /** Straight to the API: each CLI process costs most of a second, and these are only fixtures. */
  const pushArtifact = async (id: string, pkg: string, nvr?: string) => {
    const res = await fetch(`${url}/api/v1/artifacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${ciToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        id,
        package: pkg,
        release: "rawhide",
        source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: SHA, branch: "rawhide", event: "push" },
        items: nvr ? [{ kind: "koji-build", nvr }] : [],
        context: {},
      }),
    });
    expect(res.status, await res.text()).toBe(201);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-release-cli-"));
    remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    // The shipped environments, plus one whose repository cannot be reached: a release there stays
    // queued (each write attempt fails), which makes a timeout and a write-time block deterministic.
    const environments = parse(readFileSync(path.join(repoRoot, "policies/environments.yaml"), "utf8")) as { repositories: unknown[]; environments: unknown[] };
    environments.repositories.push({ name: "unreachable", url: path.join(dir, "no-such-remote.git"), branch: "main" });
    environments.environments.push({ name: "rawhide-unreachable", repository: "unreachable", kind: "KojiTag", kojiTag: { tag: "f45-side" } });
    const policiesDir = path.join(dir, "policies");
    mkdirSync(policiesDir);
    writeFileSync(path.join(policiesDir, "environments.yaml"), stringify(environments));

    serverEnv = await serverEnvironment(dir, { RELENGD_POLICIES_DIR: policiesDir, RELENGD_GITOPS_REPO: remote });
    server = await startServerProcess(serverEnv);
    url = server.url;

    const [ci, releaser] = await Promise.all([
      relengd(["token", "issue", "--subject", "fedora-ci", "--role", "ci", "--packages", "python-*"], ""),
      relengd(["token", "issue", "--subject", "alice", "--role", "releaser"], ""),
    ]);
    expect(ci.code, ci.stderr).toBe(0);
    expect(releaser.code, releaser.stderr).toBe(0);
    ciToken = ci.stdout.trim();
    releaserToken = releaser.stdout.trim();
    const [first, ...others] = requests;
    if (!first) throw new Error("no artifact");
    await Promise.all([
      pushArtifactWithCli(first.id, "python-requests", first.nvr),
      ...others.map((a) => pushArtifact(a.id, "python-requests", a.nvr)),
      pushArtifact(idna.id, "python-idna", idna.nvr),
      pushArtifact(noBuild, "python-chardet"),
    ]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("releases with --wait until pushed, and the document is in a fresh clone of the remote", async () => {
    const [first] = requests;
    if (!first) throw new Error("no artifact");
    const run = await relengd(["release", "--artifact-id", first.id, "--environment", "rawhide", "--wait"]);
    expect(run.code, run.stderr).toBe(0);
    const id = releaseIdOf(run);
    expect(run.stdout.split("\n")[0]).toBe(`queued ${id}: artifact ${first.id} to rawhide`);
    const pushedLine = new RegExp(`^${CLOCK} pushed ([0-9a-f]{7})$`, "m").exec(run.stdout);
    expect(pushedLine, run.stdout).not.toBeNull();
    expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^${CLOCK} pushed `));

    const clone = cloneRemote(remote);
    try {
      const document = parse(clone.read(`koji/tags/f45/python-requests.yaml`) ?? "") as { kind: string; spec: unknown; metadata: unknown };
      expect(document.kind).toBe("KojiTag");
      expect(document.spec).toEqual({ tag: "f45", package: "python-requests", nvr: first.nvr });
      expect(document.metadata).toMatchObject({ artifactId: first.id, releaseId: id, environment: "rawhide" });
      const head = clone.log()[0];
      expect(head?.sha.slice(0, 7)).toBe(pushedLine?.[1]);
      expect(head?.release).toMatchObject({ releaseId: id, artifactId: first.id, environment: "rawhide", trigger: "user:alice" });
    } finally {
      clone.dispose();
    }

    const [json, table, shown, tracked] = await Promise.all([
      relengd(["release", "list", "--environment", "rawhide", "--output", "json"]),
      relengd(["release", "list", "--artifact-id", first.id]),
      relengd(["release", "show", id]),
      relengd(["release", "track", id]),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const page = JSON.parse(json.stdout) as { items: { id: string; status: string; artifactId: string; commitSha: string }[]; nextCursor: string | null };
    expect(page.items).toEqual([expect.objectContaining({ id, status: "pushed", artifactId: first.id, commitSha: expect.stringMatching(new RegExp(`^${pushedLine?.[1]}`)) })]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+ENVIRONMENT\s+PACKAGE\s+ARTIFACT\s+COMMIT/);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+pushed\\s+rawhide\\s+python-requests\\s+${first.id}\\s+${pushedLine?.[1]}`, "m"));
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: "pushed", environment: "rawhide", package: "python-requests", createdBy: "alice" });
    // Without --wait, track prints the state once.
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(tracked.stdout).toMatch(new RegExp(`^${CLOCK} pushed ${pushedLine?.[1]}\\n$`));
  });

  it("prints one JSON document with --output json: the queued release, and the tracked one as --wait leaves it", async () => {
    const queued = await relengd(["release", "--artifact-id", idna.id, "--environment", "rawhide", "--output", "json"]);
    expect(queued.code, queued.stderr).toBe(0);
    const answer = JSON.parse(queued.stdout) as { id: string; status: string };
    expect(answer).toMatchObject({ id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/), status: "queued" });
    const tracked = await relengd(["release", "track", answer.id, "--wait", "--output", "json"]);
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(JSON.parse(tracked.stdout)).toMatchObject({ id: answer.id, status: "pushed", package: "python-idna", environment: "rawhide", commitSha: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const [shown, held] = await Promise.all([
      relengd(["release", "show", answer.id, "--output", "json"]),
      relengd(["hold", "list", "--package", "python-idna", "--output", "json"]),
    ]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: answer.id, status: "pushed" });
    expect(held.code, held.stderr).toBe(0);
    expect(JSON.parse(held.stdout)).toEqual({ items: [] });
  });

  it("rolls back to the previous artifact and holds the package until the hold is removed", async () => {
    const [first, second, third] = requests;
    if (!first || !second || !third) throw new Error("no artifacts");
    const newer = await relengd(["release", "--artifact-id", second.id, "--environment", "rawhide", "--wait"]);
    expect(newer.code, newer.stderr).toBe(0);

    const rolled = await relengd(["rollback", "--environment", "rawhide", "--package", "python-requests", "--reason", "breaks the compose", "--wait"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    const rollbackId = releaseIdOf(rolled);
    expect(rolled.stdout).toContain(`queued ${rollbackId}: rollback of python-requests in rawhide to artifact ${first.id}\n`);
    const held = new RegExp(`^held rawhide/python-requests \\(hold (${RELEASE_ID})\\): rollback of python-requests in rawhide to ${first.id} by alice: breaks the compose$`, "m").exec(rolled.stdout);
    expect(held, rolled.stdout).not.toBeNull();
    const holdId = held?.[1] ?? "";
    expect(rolled.stdout).toMatch(new RegExp(`^${CLOCK} pushed [0-9a-f]{7}$`, "m"));
    const clone = cloneRemote(remote);
    try {
      expect(parse(clone.read("koji/tags/f45/python-requests.yaml") ?? "")).toMatchObject({ spec: { nvr: first.nvr } });
      expect(clone.log()[0]?.release).toMatchObject({ releaseId: rollbackId, trigger: "rollback" });
    } finally {
      clone.dispose();
    }

    const [listed, table, refused] = await Promise.all([
      relengd(["hold", "list", "--environment", "rawhide", "--output", "json"]),
      relengd(["hold", "list"]),
      relengd(["release", "--artifact-id", third.id, "--environment", "rawhide"]),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ id: holdId, environment: "rawhide", package: "python-requests", createdBy: "alice", releaseId: rollbackId }),
    ]);
    expect(table.stdout).toMatch(new RegExp(`^${holdId}\\s+rawhide\\s+python-requests\\s+alice\\s+`, "m"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/409/);
    expect(refused.stderr).toContain("rawhide/python-requests is held: rollback of python-requests");
    expect(refused.stdout).toBe("");

    const removed = await relengd(["hold", "remove", holdId]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`lifted hold ${holdId} on rawhide/python-requests\n`);
    const released = await relengd(["release", "--artifact-id", third.id, "--environment", "rawhide", "--wait"]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toMatch(new RegExp(`^${CLOCK} pushed [0-9a-f]{7}$`, "m"));
  });

  it.concurrent("exits 1 when track --wait sees the release blocked at write time, with the reason", async ({ expect }) => {
    // The remote cannot be reached, so the release is still queued when the hold is placed: the
    // writer re-checks holds before its next attempt (or its first) and blocks it.
    const queued = await relengd(["release", "--artifact-id", requests[0]?.id ?? "", "--environment", "rawhide-unreachable"]);
    expect(queued.code, queued.stderr).toBe(0);
    const id = releaseIdOf(queued);
    const hold = await relengd(["hold", "add", "--environment", "rawhide-unreachable", "--package", "python-requests", "--reason", "mass rebuild in progress"]);
    expect(hold.code, hold.stderr).toBe(0);
    expect(hold.stdout).toMatch(new RegExp(`^held rawhide-unreachable/python-requests \\(hold ${RELEASE_ID}\\): mass rebuild in progress\\n$`));

    const tracked = await relengd(["release", "track", id, "--wait", "--timeout", "20s"]);
    expect(tracked.code).toBe(1);
    // Whether it was caught before its first write attempt or after one failed, it ends the same.
    expect(tracked.stdout).toMatch(new RegExp(`^${CLOCK} (queued|blocked)`));
    expect(tracked.stdout).toMatch(new RegExp(`^${CLOCK} blocked: rawhide-unreachable/python-requests is held: mass rebuild in progress\\n$`, "m"));
    expect(tracked.stderr).toContain(`release ${id} was not pushed: it is blocked`);
  });

  it.concurrent("exits 5 when --wait runs out before the release is final", async ({ expect }) => {
    const run = await relengd(["release", "--artifact-id", idna.id, "--environment", "rawhide-unreachable", "--wait", "--timeout", "1s"]);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stdout).toMatch(new RegExp(`^${CLOCK} queued`, "m"));
    expect(run.stderr).toMatch(new RegExp(`gave up waiting for release ${RELEASE_ID} after 1s: it is still queued`));
  });

  it.concurrent("exits 1 with the reason when the artifact lacks what the environment needs", async ({ expect }) => {
    const run = await relengd(["release", "--artifact-id", noBuild, "--environment", "rawhide", "--wait"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/422/);
    expect(run.stderr).toContain(`artifact ${noBuild} has no koji-build of package python-chardet`);
    expect(run.stdout).toBe("");
  });

  it.concurrent("refuses usage mistakes before asking the server", async ({ expect }) => {
    const [noReason, misplaced, typo] = await Promise.all([
      relengd(["release", "--artifact-id", idna.id, "--environment", "rawhide", "--force"]),
      relengd(["release", "--environment", "rawhide", "list"]),
      relengd(["release", "lsit"]),
    ]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("--force needs --reason");
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain("--environment must come after `release list`");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown subcommand "release lsit"');
  });

  it("leaves a remote that `relengd lint` passes, with a document of each kind", async () => {
    const [first] = requests;
    if (!first) throw new Error("no artifact");
    const runs = await Promise.all(["f44-updates-testing", "rawhide-compose"].map((env) => relengd(["release", "--artifact-id", first.id, "--environment", env, "--wait"])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const clone = cloneRemote(remote);
    try {
      expect(clone.read("bodhi/F44/python-requests.yaml")).toContain("kind: BodhiUpdate");
      const lint = await relengd(["lint", clone.dir]);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
      // python-requests and python-idna tagged into f45, one Bodhi update, one compose.
      expect(lint.stdout).toMatch(/^4 documents, 0 problems\n$/);
    } finally {
      clone.dispose();
    }
  });
});
