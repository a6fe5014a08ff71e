// POST /api/v1/forge/webhook with the forges' documented payloads (test/fixtures/forge, signed
// here as the forge signs them): a verified push on a request branch makes the request recorded
// at once with the forge account as its verified author; a bad signature, a replay and an unknown
// event have no effect. Real git remote, real stores.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { signForgeBody } from "../../src/auth/forgeSignature.js";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { ForgeDeliveryRepository } from "../../src/store/forgeDeliveryRepository.js";
import type { RequestRecord } from "../../src/store/requestRepository.js";
import { appDepsOf, startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const FIXTURES = path.resolve(__dirname, "../fixtures/forge");
const SECRET = "forge-webhook-secret-0123456789abcdef";
const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };
const ZERO = "0".repeat(40);

interface Recorded {
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** A recorded delivery of the forges' documentation (a fresh copy: tests change its values). */
function fixture(name: string): Recorded {
  const f = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")) as Recorded & { _source: string };
  return { headers: f.headers, body: f.body };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-forge-webhook-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const branchRequest = (repo: string, branch: string) => `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: ${repo}\n  branch: ${branch}\n  create_git_branch: true\n`;

let clones = 0;
/** Pushes an unsigned commit adding one document to `branch`; its sha. */
function pushRequest(t: TestApp, branch: string, file: string, text: string): string {
  const dir = path.join(root, `clone-${++clones}`);
  git(root, "clone", "--quiet", t.remote, dir);
  git(dir, "config", "user.name", "Jane Doe");
  git(dir, "config", "user.email", "jdoe@fedoraproject.org");
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
  git(dir, "add", "--", file);
  git(dir, "commit", "--quiet", "-m", `request ${file}`);
  git(dir, "push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`);
  return git(dir, "rev-parse", "HEAD").trim();
}

let deliveries = 0;
/** Sends a delivery as the forge would: the body's exact bytes, signed (Forgejo/Gitea) or with the token (GitLab). */
async function deliver(t: TestApp, recorded: Recorded, opts: { secret?: string; signature?: string | null; deliveryId?: string | null; raw?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(recorded.body);
  const headers: Record<string, string> = { ...recorded.headers };
  const secret = opts.secret ?? SECRET;
  if (opts.deliveryId !== undefined) {
    for (const h of ["x-forgejo-delivery", "x-gitea-delivery", "x-gitlab-event-uuid", "idempotency-key", "x-gitlab-webhook-uuid"]) {
      if (h in headers) {
        if (opts.deliveryId === null) delete headers[h];
        else headers[h] = opts.deliveryId;
      }
    }
  }
  if ("x-gitlab-event" in headers) {
    if (opts.signature !== null) headers["x-gitlab-token"] = opts.signature ?? secret;
  } else if (opts.signature !== null) {
    const signature = opts.signature ?? signForgeBody(secret, Buffer.from(raw, "utf8"));
    if ("x-forgejo-event" in headers) headers["x-forgejo-signature"] = signature;
    headers["x-gitea-signature"] = signature;
  }
  return t.app.inject({ method: "POST", url: "/api/v1/forge/webhook", headers, payload: raw });
}

/** A fresh delivery id, as a forge makes one per delivery. */
const newId = () => `00000000-0000-4000-8000-${String(++deliveries).padStart(12, "0")}`;

/** The Forgejo documentation's push, made a push of `sha` to `branch` of the test remote by `login`. */
function forgejoPush(t: TestApp, branch: string, sha: string, login = "jdoe"): Recorded {
  const f = fixture("forgejo-push");
  f.headers["x-forgejo-delivery"] = f.headers["x-gitea-delivery"] = newId();
  const repository = f.body.repository as Record<string, unknown>;
  repository.clone_url = t.remote;
  Object.assign(f.body, { ref: `refs/heads/${branch}`, before: ZERO, after: sha, pusher: { ...(f.body.pusher as object), login, username: login }, sender: { ...(f.body.sender as object), login, username: login } });
  return f;
}

/** The GitLab documentation's push, made a push of `sha` to `branch` of the test remote by `username`. */
function gitlabPush(t: TestApp, branch: string, sha: string, username = "jdoe"): Recorded {
  const f = fixture("gitlab-push");
  f.headers["x-gitlab-event-uuid"] = newId();
  f.headers["idempotency-key"] = newId();
  const project = f.body.project as Record<string, unknown>;
  project.git_http_url = t.remote;
  Object.assign(f.body, { ref: `refs/heads/${branch}`, after: sha, checkout_sha: sha, user_username: username });
  return f;
}

function withPolicies(): string {
  const dir = mkdtempSync(path.join(root, "policies-"));
  cpSync(POLICIES, dir, { recursive: true });
  return dir;
}

describe.each(testProviders)("forge webhooks on %s", (provider) => {
  let t: TestApp;
  let store: ForgeDeliveryRepository;

  beforeAll(async () => {
    // The poller never looks by itself here (a minute between looks, and tests start no timer): only a kick makes it look.
    t = await startTestApp(provider, { policiesDir: withPolicies(), requests: { pollMs: 60_000 }, forgeWebhookSecret: SECRET });
    await ensureBareRepository(t.remote, { readme });
    await t.application.requests?.facts.refresh();
    // New facts make the poller look once: that look is over before any test pushes.
    await t.application.requests?.poller.settled();
    store = new ForgeDeliveryRepository(t.database.db);
  });
  afterAll(async () => t.close());

  const parts = () => {
    const r = t.application.requests;
    if (!r) throw new Error("requests are not wired");
    return r;
  };
  const latest = async (branch: string): Promise<RequestRecord | undefined> => (await parts().repository.list({ branch, limit: 1 })).items[0];
  const settle = async () => {
    await parts().poller.settled();
    await t.writer.idle();
  };

  it("a signed Forgejo push makes the request recorded at once, the pusher its verified author", async () => {
    const branch = "requests/nethack-f44-forgejo";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f44.yaml", branchRequest("nethack", "f44"));
    await settle();
    expect(await latest(branch)).toBeUndefined();

    const res = await deliver(t, forgejoPush(t, branch, sha));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: "recorded", forge: "forgejo", event: "push", branch, revision: sha, account: "jdoe" });
    // The webhook made the poller look: no timer runs here.
    await settle();
    const r = await latest(branch);
    // Unsigned commits, but the forge says jdoe (who maintains nethack in the example facts) pushed this exact commit.
    expect(r).toMatchObject({ revision: sha, author: "jdoe", verified: true, approvedBy: "policy/branch-by-maintainer", status: "merged" });
  });

  it("without a webhook the same unsigned push waits for review: its author is not verified", async () => {
    const branch = "requests/nethack-f45-plain";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f45.yaml", branchRequest("nethack", "f45"));
    parts().poller.kick();
    await settle();
    expect(await latest(branch)).toMatchObject({ revision: sha, verified: false, status: "needs-review" });
  });

  it("a webhook that comes after the poller judged the revision makes its author verified, and the request is judged again", async () => {
    const branch = "requests/nethack-f43-late";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f43.yaml", branchRequest("nethack", "f43"));
    parts().poller.kick();
    await settle();
    expect(await latest(branch)).toMatchObject({ revision: sha, verified: false, status: "needs-review" });
    const res = await deliver(t, gitlabPush(t, branch, sha));
    expect(res.json()).toMatchObject({ outcome: "recorded", forge: "gitlab", account: "jdoe" });
    await vi.waitFor(async () => {
      await settle();
      expect(await latest(branch)).toMatchObject({ revision: sha, author: "jdoe", verified: true, status: "merged" });
    }, { timeout: 30_000, interval: 50 });
  });

  it("a GitLab push is verified by its token and recorded under its Idempotency-Key", async () => {
    const branch = "requests/nethack-epel10-gitlab";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/epel10.yaml", branchRequest("nethack", "epel10"));
    const push = gitlabPush(t, branch, sha, "mallory");
    const res = await deliver(t, push);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: "recorded", delivery: `gitlab:${push.headers["idempotency-key"]}`, account: "mallory", revision: sha });
    await settle();
    // mallory is verified (the forge says so) but maintains nothing: a person decides.
    expect(await latest(branch)).toMatchObject({ author: "mallory", verified: true, status: "needs-review" });
  });

  it("a Gitea pull request synchronized with a new head names its sender; a GitLab merge request from a fork is ignored", async () => {
    const branch = "requests/nethack-f42-pr";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f42.yaml", branchRequest("nethack", "f42"));
    const pr = fixture("gitea-pull_request");
    pr.headers["x-gitea-delivery"] = newId();
    const body = pr.body as { pull_request: { head: { ref: string; sha: string } }; repository: Record<string, unknown> };
    body.pull_request.head.ref = branch;
    body.pull_request.head.sha = sha;
    body.repository.clone_url = t.remote;
    const res = await deliver(t, pr);
    expect(res.json()).toMatchObject({ outcome: "recorded", forge: "gitea", event: "pull_request", branch, revision: sha, account: "jdoe" });
    await settle();
    expect(await latest(branch)).toMatchObject({ author: "jdoe", verified: true, status: "merged" });

    const mr = fixture("gitlab-merge_request");
    mr.headers["x-gitlab-event-uuid"] = newId();
    const attributes = mr.body.object_attributes as Record<string, unknown>;
    Object.assign(attributes, { source_branch: "requests/from-a-fork", source_project_id: 99, target_project_id: 14, last_commit: { id: sha } });
    (mr.body.project as Record<string, unknown>).git_http_url = t.remote;
    const fork = await deliver(t, mr);
    expect(fork.json()).toMatchObject({ outcome: "ignored", account: null });
    expect(fork.json().reason).toMatch(/another repository/);
  });

  it("a GitLab merge request opened in the repository counts; one only relabelled does not", async () => {
    const branch = "requests/nethack-f41-mr";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f41.yaml", branchRequest("nethack", "f41"));
    const mr = fixture("gitlab-merge_request");
    mr.headers["x-gitlab-event-uuid"] = newId();
    (mr.body.project as Record<string, unknown>).git_http_url = t.remote;
    const attributes = mr.body.object_attributes as Record<string, unknown>;
    Object.assign(attributes, { source_branch: branch, source_project_id: 14, target_project_id: 14, last_commit: { id: sha }, action: "update" });
    const relabelled = await deliver(t, mr);
    expect(relabelled.json()).toMatchObject({ outcome: "ignored", account: null });
    attributes.action = "open";
    mr.headers["x-gitlab-event-uuid"] = newId();
    const opened = await deliver(t, mr);
    expect(opened.json()).toMatchObject({ outcome: "recorded", account: "root", revision: sha });
  });

  it("refuses a bad or missing signature or token with 401 and records nothing", async () => {
    const branch = "requests/nethack-bad-signature";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f40.yaml", branchRequest("nethack", "f40"));
    const before = await store.count();
    const push = forgejoPush(t, branch, sha);
    const cases = [
      await deliver(t, push, { secret: "another-secret-0123456789abcdef" }),
      await deliver(t, push, { signature: null }),
      await deliver(t, push, { signature: "zz" }),
      // A signature of other bytes: the body a forge signed, then changed on the way.
      await deliver(t, push, { signature: signForgeBody(SECRET, Buffer.from(JSON.stringify(push.body))), raw: JSON.stringify({ ...push.body, after: "1".repeat(40) }) }),
      await deliver(t, gitlabPush(t, branch, sha), { signature: `${SECRET}x` }),
      await deliver(t, gitlabPush(t, branch, sha), { signature: null }),
    ];
    for (const res of cases) {
      expect(res.statusCode, res.body).toBe(401);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(res.json().detail).toMatch(/x-(forgejo-signature|gitea-signature|gitlab-token)/);
    }
    expect(await store.count()).toBe(before);
    await settle();
    expect(await latest(branch)).toBeUndefined();
  });

  it("answers a replayed delivery `duplicate` without a second effect, by its id or by its body", async () => {
    const branch = "requests/nethack-replay";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f39.yaml", branchRequest("nethack", "f39"));
    const push = forgejoPush(t, branch, sha);
    const first = await deliver(t, push);
    expect(first.json().outcome).toBe("recorded");
    await settle();
    const recorded = await latest(branch);
    const count = await store.count();
    const again = await deliver(t, push);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: "duplicate", delivery: first.json().delivery, account: "jdoe" });
    // The delivery id header is not signed: the same signed body under a new id is a replay too.
    const renamed = await deliver(t, push, { deliveryId: newId() });
    expect(renamed.json()).toMatchObject({ outcome: "duplicate", delivery: first.json().delivery });
    // A delivery without any id is known by its body.
    const anonymous = await deliver(t, gitlabPush(t, branch, sha), { deliveryId: null });
    expect(anonymous.json().delivery).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await store.count()).toBe(count + 1);
    await settle();
    expect((await parts().repository.list({ branch, limit: 10 })).items.map((r) => r.id)).toEqual([recorded?.id]);
  });

  it("answers an unknown event `ignored` and keeps only the delivery", async () => {
    const before = await store.count();
    const tag = await deliver(t, fixture("gitlab-tag_push"));
    expect(tag.statusCode).toBe(200);
    expect(tag.json()).toMatchObject({ outcome: "ignored", forge: "gitlab", event: "Tag Push Hook", branch: null, account: null });
    const issues = fixture("forgejo-push");
    issues.headers["x-forgejo-event"] = issues.headers["x-gitea-event"] = "issues";
    issues.headers["x-forgejo-delivery"] = newId();
    issues.body = { action: "opened", number: 1, issue: { id: 1, title: "x" }, repository: issues.body.repository, sender: issues.body.sender };
    const res = await deliver(t, issues);
    expect(res.json()).toMatchObject({ outcome: "ignored", event: "issues" });
    expect(res.json().reason).toMatch(/not one relengd reads/);
    // A push to another repository, a tag, a branch that is not a request: stored, nothing else.
    const elsewhere = fixture("forgejo-push");
    const other = await deliver(t, elsewhere);
    expect(other.json()).toMatchObject({ outcome: "ignored" });
    expect(other.json().reason).toMatch(/forgejo\/webhooks is not the requests repository gitops/);
    const notRequest = forgejoPush(t, "main", "2".repeat(40));
    expect((await deliver(t, notRequest)).json().reason).toMatch(/main is not a request branch/);
    expect(await store.count()).toBe(before + 4);
  });

  it("records a deleted request branch without an author, and the poller withdraws its request", async () => {
    const branch = "requests/nethack-deleted";
    const sha = pushRequest(t, branch, "distgit/branches/rpms/nethack/f38.yaml", branchRequest("nethack", "f38"));
    await deliver(t, forgejoPush(t, branch, sha, "mallory"));
    await settle();
    expect((await latest(branch))?.status).toBe("needs-review");
    git(t.remote, "update-ref", "-d", `refs/heads/${branch}`);
    const res = await deliver(t, { ...forgejoPush(t, branch, ZERO, "mallory") });
    expect(res.json()).toMatchObject({ outcome: "recorded", revision: null, account: null });
    await settle();
    expect((await latest(branch))?.status).toBe("withdrawn");
  });

  it("refuses what is not a forge's delivery, field by field", async () => {
    const noEvent = await t.app.inject({ method: "POST", url: "/api/v1/forge/webhook", headers: { "content-type": "application/json" }, payload: "{}" });
    expect(noEvent.statusCode).toBe(400);
    expect(noEvent.json().errors[0]).toMatchObject({ path: "/x-forgejo-event", in: "header" });
    // Signed, but not JSON / too deep / a lone surrogate: 400 after the signature, nothing stored.
    const before = await store.count();
    for (const raw of ["not json", `${"[".repeat(200)}${"]".repeat(200)}`, '{"ref":"refs/heads/requests/x\\ud800"}']) {
      const res = await deliver(t, fixture("forgejo-push"), { raw });
      expect(res.statusCode, raw.slice(0, 20)).toBe(400);
    }
    // A push without its commit id: the field is named.
    const push = fixture("forgejo-push");
    delete push.body.after;
    const missing = await deliver(t, push);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0]).toMatchObject({ path: "/after", in: "body" });
    // A pusher name that is no user name (path traversal, spaces).
    const odd = fixture("forgejo-push");
    odd.body.pusher = { login: "../../etc" };
    expect((await deliver(t, odd)).statusCode).toBe(400);
    // Larger than any delivery a forge sends: refused before it is read.
    const huge = fixture("forgejo-push");
    huge.body.commits = [{ message: "x".repeat(3 * 1024 * 1024) }];
    expect((await deliver(t, huge)).statusCode).toBe(413);
    expect(await store.count()).toBe(before);
  });

  it("answers 404 when webhooks are off", async () => {
    const app = await buildApp({ ...appDepsOf(t), checkResponses: true });
    try {
      const res = await app.inject({ method: "POST", url: "/api/v1/forge/webhook", headers: { "content-type": "application/json", "x-gitea-event": "push" }, payload: "{}" });
      expect(res.statusCode).toBe(404);
      expect(res.json().detail).toMatch(/RELENGD_FORGE_WEBHOOK_SECRET/);
    } finally {
      await app.close();
    }
  });
});
