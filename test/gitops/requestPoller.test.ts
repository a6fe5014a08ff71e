// The request poller against a real remote and store: what a poll reads when nothing changed, a
// branch deleted while relengd was down, and a branch that cannot be judged tried again.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import type { ResolvedRepository } from "../../src/domain/environmentSet.js";
import type { RequestRevision } from "../../src/domain/requests/revision.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { RequestPoller } from "../../src/gitops/requestPoller.js";
import { RequestRepository, type RequestRecord } from "../../src/store/requestRepository.js";
import { observeStatements } from "../../src/store/store.js";
import { freshDatabase, type TestDatabase } from "../support/database.js";
import { git } from "../support/remote.js";

const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };

let root: string;
let remote: string;
let db: TestDatabase;
let requests: RequestRepository;
let work: string;
const repo = (): ResolvedRepository => ({ name: "gitops", url: remote, branch: "main", author: { name: "relengd", email: "relengd@localhost" } }) as ResolvedRepository;

function push(branch: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
  writeFileSync(path.join(work, file), text);
  git(work, "add", "--", file);
  git(work, "commit", "--quiet", "-m", `change ${file}`);
  git(work, "push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`);
}

/** A judge that records what it is given as needs-review (the policies are not what is tested). */
function poller(judged: RequestRevision[], fail?: (branch: string) => boolean): RequestPoller {
  return new RequestPoller({
    requests,
    repository: repo,
    workspacesDir: path.join(root, "workspaces"),
    allowedSigners: () => null,
    judge: async (revision): Promise<RequestRecord> => {
      if (fail?.(revision.branch)) throw new Error("judge failed");
      judged.push(revision);
      const { record } = await requests.record({
        repository: revision.repository,
        branch: revision.branch,
        revision: revision.revision,
        base: revision.base,
        status: "needs-review",
        documents: [],
        author: revision.author.name,
        authorEmail: revision.author.email,
        verified: false,
        source: "git",
        reasons: [],
        approvedBy: null,
        decisions: [],
        seenAt: revision.seenAt,
      });
      return record;
    },
    logger: pino({ level: "silent" }),
  });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-request-poller-"));
  remote = path.join(root, "gitops.git");
  await ensureBareRepository(remote, { readme });
  git(root, "clone", "--quiet", remote, "work");
  work = path.join(root, "work");
  git(work, "config", "user.name", "Jane Doe");
  git(work, "config", "user.email", "jdoe@fedoraproject.org");
  db = await freshDatabase("sqlite");
  requests = new RequestRepository(db.db);
});
afterAll(async () => {
  await db.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe("the request poller", () => {
  it("reads no request rows when nothing changed since the last poll", async () => {
    for (let i = 0; i < 12; i++) push(`requests/quiet-${i}`, `distgit/branches/rpms/pkg${i}/f44.yaml`, `n: ${i}\n`);
    const judged: RequestRevision[] = [];
    const p = poller(judged);
    await p.pollOnce();
    expect(judged).toHaveLength(12);
    const statements: string[] = [];
    const stop = observeStatements((sql) => statements.push(sql));
    try {
      const again = await p.pollOnce();
      expect(again.judged).toEqual([]);
    } finally {
      stop();
    }
    expect(statements.filter((sql) => /"Request/.test(sql))).toEqual([]);
  });

  it("after a restart, withdraws what was deleted while it was down and judges what moved", async () => {
    const judged: RequestRevision[] = [];
    await poller(judged).pollOnce();
    git(work, "push", "--quiet", "origin", ":refs/heads/requests/quiet-0");
    push("requests/quiet-1", "distgit/branches/rpms/pkg1/f44.yaml", "n: moved\n");
    const restarted = poller(judged);
    const result = await restarted.pollOnce();
    const withdrawn = (await requests.list({ branch: "requests/quiet-0", limit: 1 })).items[0];
    expect(withdrawn?.status).toBe("withdrawn");
    expect(result.withdrawn).toEqual([withdrawn?.id]);
    expect(result.judged.map((r) => r.branch)).toEqual(["requests/quiet-1"]);
  });

  it("tries a branch it could not judge again at the next poll, and only that one", async () => {
    push("requests/flaky", "distgit/branches/rpms/flaky/f44.yaml", "n: 1\n");
    let failing = true;
    const judged: RequestRevision[] = [];
    const p = poller(judged, (branch) => failing && branch === "requests/flaky");
    const first = await p.pollOnce();
    expect(first.failed.map((f) => f.branch)).toEqual(["requests/flaky"]);
    failing = false;
    const second = await p.pollOnce();
    expect(second.judged.map((r) => r.branch)).toEqual(["requests/flaky"]);
    expect((await p.pollOnce()).judged).toEqual([]);
  });

  it("withdraws a branch deleted between two polls", async () => {
    const judged: RequestRevision[] = [];
    const p = poller(judged);
    await p.pollOnce();
    git(work, "push", "--quiet", "origin", ":refs/heads/requests/quiet-2");
    const result = await p.pollOnce();
    expect(result.withdrawn).toHaveLength(1);
    expect((await requests.list({ branch: "requests/quiet-2", limit: 1 })).items[0]?.status).toBe("withdrawn");
  });
});
