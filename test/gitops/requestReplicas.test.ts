// Two replicas on one PostgreSQL and one GitOps remote, both with requests on: the one holding the
// branch's lease polls and merges, each request is recorded once and merged once (never two
// pushes racing), and a request submitted through the other replica is merged all the same.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeApplication, type Application } from "../../src/application.js";
import { TokenService } from "../../src/auth/tokens.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { PolicyHolder } from "../../src/policy/loader.js";
import { branchLeaseFor, type BranchLease } from "../../src/store/branchLease.js";
import { migrate } from "../../src/store/migrator.js";
import { openStore, type Store } from "../../src/store/store.js";
import { freshDatabaseUrl, postgresUrl } from "../support/database.js";
import { git } from "../support/remote.js";
import { signCommitsWith, sshKey } from "../support/signing.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };
const branchRequest = (repo: string, branch: string) => `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: ${branch}\n  create_git_branch: true\n`;

interface Replica {
  application: Application;
  store: Store;
  lease: BranchLease;
}

describe.skipIf(!postgresUrl)("requests with two replicas on one PostgreSQL", () => {
  let root: string;
  let remote: string;
  let key: string;
  let drop: () => Promise<void>;
  const replicas: Replica[] = [];
  const secret = randomBytes(32).toString("hex");

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "relengd-request-replicas-"));
    remote = path.join(root, "gitops.git");
    await ensureBareRepository(remote, { readme });
    key = sshKey(root, "jdoe");
    const policies = path.join(root, "policies");
    cpSync(POLICIES, policies, { recursive: true });
    const keysFile = path.join(policies, "facts", "signing-keys.json");
    const signingKeys = JSON.parse(readFileSync(keysFile, "utf8")) as Record<string, string[]>;
    signingKeys.jdoe = [readFileSync(`${key}.pub`, "utf8").trim()];
    writeFileSync(keysFile, JSON.stringify(signingKeys));
    const database = freshDatabaseUrl("postgresql");
    drop = database.drop;
    await migrate(database.url);
    for (const name of ["a", "b"]) {
      const store = await openStore(database.url);
      const lease = branchLeaseFor(store.target);
      const application = await composeApplication({
        store,
        policies: new PolicyHolder(policies, remote),
        rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
        tokens: new TokenService(secret),
        logger: pino({ level: "silent" }),
        httpLogger: false,
        workspacesDir: path.join(root, name, "workspaces"),
        writer: { pollMs: 200 },
        lease,
        readyRemoteBoundMs: 300_000,
        requests: { repository: "gitops", pollMs: 200, factsDir: policies },
      });
      await application.writer.start();
      await application.requests?.start();
      await application.requests?.ready();
      replicas.push({ application, store, lease });
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) {
      await r.application.close();
      await r.lease.close();
      await r.store.close();
    }
    await drop?.();
    rmSync(root, { recursive: true, force: true });
  });

  it("records each pushed request once and merges it once, whichever replica holds the lease", async () => {
    const work = path.join(root, "work");
    git(root, "clone", "--quiet", remote, work);
    git(work, "config", "user.name", "Jane Doe");
    git(work, "config", "user.email", "jdoe@fedoraproject.org");
    signCommitsWith(work, key);
    const branches = ["f44", "f43", "f42", "rawhide"].map((b) => {
      git(work, "checkout", "--quiet", "-B", `requests/nethack-${b}`, "origin/main");
      const file = `distgit/branches/rpms/nethack/${b}.yaml`;
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), branchRequest("nethack", b));
      git(work, "add", file);
      git(work, "commit", "--quiet", "-m", `nethack ${b}`);
      return `requests/nethack-${b}`;
    });
    git(work, "push", "--quiet", "origin", ...branches.map((b) => `${b}:refs/heads/${b}`));

    // A request submitted through each replica (the API is stateless: either may answer).
    const issued = await new TokenService(secret).issue({ subject: "jdoe", role: "ci", ttlSeconds: 600 });
    for (const [i, r] of replicas.entries()) {
      const res = await r.application.app.inject({ method: "POST", url: "/api/v1/requests", headers: { authorization: `Bearer ${issued.token}` }, payload: { document: branchRequest("nethack", ["epel9", "epel10"][i] as string) } });
      expect(res.statusCode, res.body).toBe(201);
    }

    const requests = replicas[0]?.application.requests?.repository;
    if (!requests) throw new Error("requests are not wired");
    // Both replicas poll every 200 ms and their writers every 200 ms: wait until all six are merged.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const merged = (await requests.list({ status: "merged", limit: 100 })).items;
      if (merged.length >= 6 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const all = (await requests.list({ limit: 100 })).items;
    expect(all.map((r) => r.status).sort()).toEqual(new Array(6).fill("merged"));
    // One request per branch: the other replica never recorded a branch a second time.
    expect(new Set(all.map((r) => r.branch)).size).toBe(6);
    for (const r of all) {
      const merges = git(remote, "log", "--first-parent", "--format=%H", "--fixed-strings", `--grep=Relengd-Request-Id: ${r.id}`, "main").trim().split("\n").filter(Boolean);
      expect(merges, `merges of ${r.id}`).toEqual([r.mergeCommit]);
    }
    // Every merge on top of the one before: one line, none lost to a racing push.
    expect(git(remote, "rev-list", "--first-parent", "--merges", "--count", "main").trim()).toBe("6");
    // One replica holds the lease of the branch, and only it.
    const holders = replicas.filter((r) => r.lease.held().length > 0);
    expect(holders).toHaveLength(1);

    // The unreviewed report, made by the polling replica, is what both answer (main's head, nothing unreviewed).
    const head = git(remote, "rev-parse", "main").trim();
    const reader = await new TokenService(secret).issue({ subject: "reader", role: "reader", ttlSeconds: 600 });
    const reportDeadline = Date.now() + 30_000;
    for (const r of replicas) {
      let report: { head: string | null; items: unknown[] } | undefined;
      for (;;) {
        const res = await r.application.app.inject({ method: "GET", url: "/api/v1/requests/unreviewed", headers: { authorization: `Bearer ${reader.token}` } });
        expect(res.statusCode, res.body).toBe(200);
        report = res.json<{ head: string | null; items: unknown[] }>();
        if (report.head === head || Date.now() > reportDeadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(report).toMatchObject({ head, items: [] });
    }
  }, 90_000);
});
