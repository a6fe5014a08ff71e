// Issue 18's "done when", against a real `relengd serve` wired by main.ts: a fatal compose request
// over a repo with a broken dependency is blocked with the package named, the report is served
// as JSON and HTML (linked from the dashboard), and a report policy's mail arrives at a real SMTP
// server in spam-o-matic form.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { repoRoot, runRelengd, serverEnvironment } from "../support/cliProcess.js";
import { sampleArtifact } from "../support/artifacts.js";
import { designedRepos, haveRpmTools } from "../support/rpmRepo.js";
import { startServerProcess, type ServerProcess } from "../support/serverProcess.js";
import { startSmtpSink, type SmtpSink } from "../support/smtpSink.js";

const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;
const PUBLIC_URL = "https://relengd.example.org";

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

maybe("a real server: the repoclosure gate, the report's pages and its mail", () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let smtp: SmtpSink;
  let releaser: string;
  let ci: string;
  let repos: ReturnType<typeof designedRepos>;

  const api = (pathname: string, init: { method?: string; token?: string | null; body?: unknown; accept?: string } = {}) =>
    fetch(`${server?.url}${pathname}`, {
      method: init.method ?? "GET",
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? releaser}` }),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.accept ? { accept: init.accept } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-gate-server-"));
    repos = designedRepos(dir);
    smtp = await startSmtpSink();
    const remote = path.join(dir, "gitops.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    const target = { arches: ["x86_64", "aarch64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [{ id: "lookaside", url: repos.lookaside.url }] };
    const environments = parse(readFileSync(path.join(repoRoot, "policies/environments.yaml"), "utf8")) as { environments: Record<string, unknown>[] };
    environments.environments.push({
      name: "rawhide-compose-fatal",
      repository: "gitops",
      kind: "ComposeRequest",
      compose: { release: "rawhide", type: "nightly" },
      preflight: { repoclosure: { strictness: "fatal", ...target } },
    });
    const policiesDir = path.join(dir, "policies");
    mkdirSync(policiesDir);
    writeFileSync(path.join(policiesDir, "environments.yaml"), stringify(environments));
    // Every minute: the test waits for the next one (at most a minute; no other way starts a slot).
    writeFileSync(
      path.join(policiesDir, "broken-deps-e2e.yaml"),
      stringify({ apiVersion: "relengd/v1", kind: "Policy", metadata: { name: "broken-deps-e2e" }, spec: { on: ["schedule"], schedule: { cron: "* * * * *" }, report: { tree: "e2e", ...target } } }),
    );
    const owners = path.join(dir, "owners.json");
    writeFileSync(owners, JSON.stringify({ rpms: { alpha: ["jdoe"], beta: ["asmith"], kappa: ["kvaldez"] } }));
    const env = await serverEnvironment(dir, {
      RELENGD_POLICIES_DIR: policiesDir,
      RELENGD_GITOPS_REPO: remote,
      RELENGD_REQUESTS_REPOSITORY: "none",
      RELENGD_PUBLIC_URL: PUBLIC_URL,
      RELENGD_SMTP_URL: smtp.url,
      RELENGD_MAIL_FROM: "relengd@fedoraproject.org",
      RELENGD_MAIL_LIST: "devel@lists.fedoraproject.org",
      RELENGD_OWNER_ALIASES: owners,
      RELENGD_MAIL_OWNER_ADDRESS: "{package}-maintainers@example.org",
    });
    server = await startServerProcess(env);
    const issue = async (subject: string, role: string) => {
      const run = await runRelengd(["token", "issue", "--subject", subject, "--role", role], env);
      expect(run.code, run.stderr).toBe(0);
      return run.stdout.trim();
    };
    [releaser, ci] = await Promise.all([issue("alice", "releaser"), issue("fedora-ci", "ci")]);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await smtp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let reportId = "";

  it("blocks a fatal compose request over a broken repo, naming the package and the dependency", async () => {
    const artifact = sampleArtifact({ package: "fedora-compose", release: "rawhide", items: [{ kind: "compose", composeId: "Fedora-Rawhide-20310506.n.0", status: "FINISHED" }] });
    expect((await api("/api/v1/artifacts", { method: "POST", token: ci, body: artifact })).status).toBe(201);
    const asked = await api("/api/v1/releases", { method: "POST", body: { artifactId: artifact.id, environment: "rawhide-compose-fatal" } });
    expect(asked.status).toBe(202);
    const release = (await asked.json()) as { id: string; status: string };
    expect(release.status).toBe("checking");
    const blocked = await until(
      "the gate's verdict",
      async () => {
        const r = (await (await api(`/api/v1/releases/${release.id}`)).json()) as { status: string; reason: string | null; repoclosureReportId?: string | null };
        return r.status === "checking" ? undefined : r;
      },
      60_000,
    );
    expect(blocked.status).toBe("blocked");
    expect(blocked.reason).toMatch(/alpha-1\.0-1\.fc45\.noarch requires [^;]*libbeta >= 2/);
    expect(blocked.reason).toContain(`${PUBLIC_URL}/reports/broken-deps/`);
    reportId = blocked.repoclosureReportId ?? "";
    expect(reportId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const metrics = await (await api("/metrics", { token: null })).text();
    expect(metrics).toMatch(/^relengd_repoclosure_checks_total\{origin="gate",status="broken"\} 1$/m);
    expect(metrics).toMatch(/^relengd_repoclosure_seconds_count\{origin="gate"\} 1$/m);
    expect(metrics).toMatch(/^relengd_releases_checking 0$/m);
  }, 90_000);

  it("serves the report as JSON and as HTML, and the dashboard links to it", async () => {
    const json = (await (await api(`/api/v1/reports/broken-deps/${reportId}`)).json()) as { arches: Record<string, { source: string; nevra: string; unresolved: string[] }[]> };
    const shape = Object.fromEntries(Object.entries(json.arches).map(([arch, rows]) => [arch, rows.map((r) => ({ source: r.source, nevra: r.nevra, unresolved: [...r.unresolved].sort() }))]));
    const expected = Object.fromEntries(Object.entries(repos.expected).map(([arch, rows]) => [arch, rows.map((r) => ({ ...r, unresolved: [...r.unresolved].sort() }))]));
    expect(shape).toEqual(expected);

    const html = await api(`/reports/broken-deps/${reportId}`, { accept: "text/html" });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await html.text();
    expect(page).toContain("alpha-1.0-1.fc45.noarch");
    expect(page).toContain("libbeta &gt;= 2");
    // A browser following a mailed link has no token: the page asks again with the dashboard's.
    const bare = await api(`/reports/broken-deps/${reportId}`, { token: null, accept: "text/html" });
    expect(bare.status).toBe(401);
    expect(await bare.text()).toContain("/assets/signedPage.js");
    expect(await (await api("/", { token: null })).text()).toContain('href="/reports/broken-deps"');
  }, 60_000);

  it("mails the report policy's news to the owners in spam-o-matic form, and a summary to the list", async () => {
    const mail = await until("the report's mail", () => Promise.resolve(smtp.received.find((m) => m.headers.get("subject") === "Broken dependencies: alpha")), 90_000);
    expect(mail.headers.get("to")).toContain("alpha-maintainers@example.org");
    expect(mail.recipients).toContain("alpha-maintainers@example.org");
    expect(mail.headers.get("from")).toContain("relengd@fedoraproject.org");
    expect(mail.body).toContain("[alpha]");
    expect(mail.body).toContain("\talpha-1.0-1.fc45.noarch requires libbeta >= 2");
    expect(mail.body).toContain(`${PUBLIC_URL}/reports/broken-deps/`);
    // And one summary to the list, sent after the packages' messages.
    const summary = await until("the list's summary", () => Promise.resolve(smtp.received.find((m) => m.recipients.includes("devel@lists.fedoraproject.org"))), 30_000);
    expect(summary.body).toContain("alpha");
  }, 120_000);
});
