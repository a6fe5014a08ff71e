// End to end: a real `relengd serve` process, driven by the `relengd` CLI the way a CI pipeline runs it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelengd, serveRelengd, serverEnvironment, type CliRun, type RelengdServe } from "../support/cliProcess.js";
import { freePort } from "../support/serverProcess.js";

describe("relengd serve and the relengd CLI, as separate processes", () => {
  let dir: string;
  let file: string;
  let kernelFile: string;
  const nvr = "python-requests-2.32.3-1.fc41";
  const artifactId = `gitlab-pipeline-${process.pid}`;
  const sha = "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901";

  let serverEnv: NodeJS.ProcessEnv;
  let server: RelengdServe;
  let url: string;
  let token: string;
  let jti: string;

  /** One CLI invocation: the server's environment plus RELENGD_URL/RELENGD_TOKEN, as a pipeline job has them. */
  const relengd = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
    runRelengd(args, { ...serverEnv, RELENGD_URL: url, RELENGD_TOKEN: token, ...env });

  const create = (target: string, id: string, pkg: string) =>
    relengd([
      "artifact", "create", "--file", target, "--id", id, "--package", pkg, "--release", "f41",
      "--source-repo", `https://src.fedoraproject.org/rpms/${pkg}.git`, "--sha", sha, "--branch", "f41", "--event", "build",
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-e2e-"));
    file = path.join(dir, "artifact.json");
    kernelFile = path.join(dir, "kernel.json");
    serverEnv = await serverEnvironment(dir, { RELENGD_POLICIES_DIR: dir, RELENGD_REVOCATION_REFRESH_MS: "200" });
    server = await serveRelengd(serverEnv);
    url = server.url;

    // The token is issued from the server's data dir (it reads the secret the server generated);
    // the artifact files need no server, so they are written meanwhile.
    const [issued, created, kernel] = await Promise.all([
      relengd(["token", "issue", "--subject", "ci", "--role", "ci", "--packages", "python-*"]),
      create(file, artifactId, "python-requests"),
      create(kernelFile, `${artifactId}-kernel`, "kernel"),
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    token = issued.stdout.trim();
    const m = /^token ([A-Za-z0-9-]+) for ci \(ci\), expires /m.exec(issued.stderr);
    expect(m, issued.stderr).not.toBeNull();
    jti = m?.[1] ?? "";
    expect(created.code, created.stderr).toBe(0);
    expect(kernel.code, kernel.stderr).toBe(0);
  }, 40_000);

  afterAll(async () => {
    if (server && !server.hasExited()) {
      server.kill("SIGKILL");
      await server.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("builds an artifact file, pushes it once, and finds it by NVR and by id", async () => {
    const build = await relengd(["artifact", "add", "--file", file, "--koji-build", nvr]);
    expect(build.code, build.stderr).toBe(0);
    const result = await relengd([
      "artifact", "add", "--file", file,
      "--ci-result", "fedora-ci.koji-build.tier0.functional=PASSED", "--ref-url", "https://artifacts.dev.testing-farm.io/1234",
      "--submitted-at", "2026-11-25T10:05:00Z", "--context", "CI_JOB_ID=1",
    ]);
    expect(result.code, result.stderr).toBe(0);
    // A retried job records its own id over the first one's.
    const retried = await relengd(["artifact", "add", "--file", file, "--context", "CI_JOB_ID=2"]);
    expect(retried.code, retried.stderr).toBe(0);

    const pushed = await relengd(["artifact", "push", "--file", file]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(new RegExp(`^created ${artifactId} sha256:[0-9a-f]{64}\\n$`));
    const again = await relengd(["artifact", "push", "--file", file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(pushed.stdout.replace(/^created/, "unchanged"));

    const [listed, shown] = await Promise.all([
      relengd(["artifact", "list", "--nvr", nvr, "--output", "json"]),
      relengd(["artifact", "show", artifactId]),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout) as { items: { id: string }[]; nextCursor: string | null };
    expect(page.items.map((a) => a.id)).toEqual([artifactId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: artifactId,
      package: "python-requests",
      release: "f41",
      source: { sha, branch: "f41", event: "build" },
      items: [
        { kind: "koji-build", nvr },
        { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/1234", submittedAt: "2026-11-25T10:05:00Z" },
      ],
      context: { CI_JOB_ID: "2" },
      results: [],
    });
  });

  it.concurrent("exits 1 with the 403 when the token's package scope does not cover the package", async ({ expect }) => {
    const res = await relengd(["artifact", "push", "--file", kernelFile]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/403/);
    expect(res.stderr).toMatch(/scoped to packages python-\*.*kernel/);
    expect(res.stdout).toBe("");
  });

  it.concurrent("exits 4 saying it cannot reach the server when nothing listens at RELENGD_URL", async ({ expect }) => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await relengd(["artifact", "push", "--file", file], { RELENGD_URL: closed });
    expect(res.code).toBe(4);
    expect(res.stderr).toContain(`cannot reach relengd at ${closed}`);
    expect(res.stderr).toContain("ECONNREFUSED");
  });

  it.concurrent("rejects an unknown --output format before asking the server", async ({ expect }) => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await relengd(["artifact", "list", "--output", "yaml"], { RELENGD_URL: closed });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--output must be table or json");
  });

  it.concurrent("exits 1 pointing at RELENGD_TOKEN when no token is set", async ({ expect }) => {
    const res = await relengd(["artifact", "push", "--file", file], { RELENGD_TOKEN: "" });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/401/);
    expect(res.stderr).toContain("RELENGD_TOKEN");
  });

  it.concurrent("refuses to add an invalid NVR and leaves the file as it was", async ({ expect }) => {
    const before = readFileSync(file, "utf8");
    // The package name where the NVR belongs: a pipeline's likeliest slip.
    const res = await relengd(["artifact", "add", "--file", file, "--koji-build", "python-requests"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^relengd: .*not a valid artifact/);
    expect(res.stderr).toContain('NVR "python-requests" is not name-version-release');
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it.concurrent("prints help for artifact push and exits 0", async ({ expect }) => {
    const res = await relengd(["artifact", "push", "--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("--file <path>");
    expect(res.stdout).toContain("RELENGD_TOKEN");
  });

  it.concurrent("refuses to issue a token for an empty --packages instead of one for every package", async ({ expect }) => {
    const res = await relengd(["token", "issue", "--subject", "ci", "--role", "ci", "--packages", ""]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--packages: give at least one glob");
    expect(res.stdout).toBe("");
  });

  it("stops accepting a token within moments of `token revoke`", async () => {
    const revoked = await relengd(["token", "revoke", jti]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked ${jti}\n`);

    // The server reloads revocations every RELENGD_REVOCATION_REFRESH_MS (200 ms here).
    const deadline = Date.now() + 5_000;
    let res = await relengd(["artifact", "show", artifactId]);
    while (res.code === 0 && Date.now() < deadline) res = await relengd(["artifact", "show", artifactId]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/401/);
    expect(res.stderr).toContain("revoked");
  });

  it("shuts down cleanly with exit 0 on SIGTERM", async () => {
    server.kill("SIGTERM");
    const { code, stdout } = await server.exited;
    expect(code).toBe(0);
    expect(stdout).toContain("shutting down");
  });
});
