// Forge webhook deliveries as relengd reads them: which forge (by its headers), what its push or
// pull request says, repository URLs compared across their spellings, and the signature check.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { signForgeBody, verifyForgeSignature, verifyForgeToken } from "../../src/auth/forgeSignature.js";
import { forgeDeliveryHeaders, namesRepository, parseForgeEvent, repositoryKey } from "../../src/domain/forgeWebhook.js";

const FIXTURES = path.resolve(__dirname, "../fixtures/forge");
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")) as { headers: Record<string, string>; body: Record<string, unknown> };

describe("forge delivery headers", () => {
  it("tell Forgejo (which sends Gitea's headers too), Gitea and GitLab apart", () => {
    expect(forgeDeliveryHeaders({ ...fixture("forgejo-push").headers, "x-forgejo-signature": "ab", "x-gitea-signature": "cd" })).toEqual({
      ok: true,
      value: { forge: "forgejo", event: "push", deliveryId: "f6266f16-1bf3-46a5-9ea4-602e06ead473", proof: { kind: "signature", header: "x-forgejo-signature", value: "ab" } },
    });
    // A Forgejo that sends only the Gitea signature (older releases) is checked on it.
    expect(forgeDeliveryHeaders({ "x-forgejo-event": "push", "x-gitea-signature": "cd" })).toMatchObject({ ok: true, value: { forge: "forgejo", deliveryId: null, proof: { header: "x-gitea-signature", value: "cd" } } });
    expect(forgeDeliveryHeaders(fixture("gitea-pull_request").headers)).toMatchObject({ ok: true, value: { forge: "gitea", event: "pull_request", proof: { kind: "signature", value: undefined } } });
    expect(forgeDeliveryHeaders({ ...fixture("gitlab-push").headers, "x-gitlab-token": "s" })).toMatchObject({ ok: true, value: { forge: "gitlab", event: "Push Hook", deliveryId: "f5e5f430-f57b-4e6e-9fac-d9128cd7232f", proof: { kind: "token", value: "s" } } });
    expect(forgeDeliveryHeaders(fixture("gitlab-merge_request").headers)).toMatchObject({ ok: true, value: { deliveryId: "4e7c2c0e-1f6a-4d8e-8a43-1b0f0d2c9e55" } });
  });

  it("refuse what no forge sends, naming the header", () => {
    expect(forgeDeliveryHeaders({ "x-github-event": "push" })).toEqual({ ok: false, issues: [{ path: "/x-forgejo-event", message: expect.stringMatching(/X-Gitlab-Event/) }] });
    expect(forgeDeliveryHeaders({ "x-gitea-event": "push", "x-gitea-delivery": "x".repeat(201) })).toMatchObject({ ok: false, issues: [{ path: "/x-gitea-delivery" }] });
    expect(forgeDeliveryHeaders({ "x-gitea-event": "pu\u00e9sh" })).toMatchObject({ ok: false, issues: [{ path: "/x-gitea-event" }] });
  });
});

describe("forge events", () => {
  it("read the documented push and pull/merge-request payloads", () => {
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, fixture("forgejo-push").body)).toEqual({
      ok: true,
      value: {
        kind: "change",
        change: {
          kind: "push",
          action: "push",
          repositoryName: "forgejo/webhooks",
          repositoryUrls: ["http://localhost:3000/forgejo/webhooks.git", "ssh://forgejo@localhost:2222/forgejo/webhooks.git", "http://localhost:3000/forgejo/webhooks"],
          branch: "develop",
          revision: "bffeb74224043ba2feb48d137756c8a9331c449a",
          account: "forgejo",
          setsHead: true,
          fromFork: false,
        },
      },
    });
    expect(parseForgeEvent({ forge: "gitea", event: "pull_request" }, fixture("gitea-pull_request").body)).toMatchObject({ ok: true, value: { change: { kind: "pull-request", action: "synchronized", branch: "requests/nethack-f44", account: "jdoe", setsHead: true, fromFork: false } } });
    expect(parseForgeEvent({ forge: "gitlab", event: "Push Hook" }, fixture("gitlab-push").body)).toMatchObject({ ok: true, value: { change: { branch: "master", revision: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", account: "jsmith", repositoryName: "mike/diaspora" } } });
    // The documented merge request's source and target project are both 14: not a fork.
    expect(parseForgeEvent({ forge: "gitlab", event: "Merge Request Hook" }, fixture("gitlab-merge_request").body)).toMatchObject({ ok: true, value: { change: { action: "open", branch: "ms-viewport", account: "root", setsHead: true, fromFork: false } } });
  });

  it("read a deleted branch as no revision, a tag as no branch, other events as ignored", () => {
    const deleted = { ...fixture("gitlab-push").body, after: "0".repeat(40), checkout_sha: null };
    expect(parseForgeEvent({ forge: "gitlab", event: "Push Hook" }, deleted)).toMatchObject({ ok: true, value: { change: { revision: null } } });
    expect(parseForgeEvent({ forge: "gitea", event: "push" }, { ...fixture("forgejo-push").body, ref: "refs/tags/v1" })).toEqual({ ok: true, value: { kind: "ignored", reason: "refs/tags/v1 is not a branch" } });
    expect(parseForgeEvent({ forge: "gitlab", event: "Tag Push Hook" }, fixture("gitlab-tag_push").body)).toMatchObject({ ok: true, value: { kind: "ignored" } });
    expect(parseForgeEvent({ forge: "gitea", event: "issues" }, {})).toMatchObject({ ok: true, value: { kind: "ignored" } });
  });

  it("name the field a push or pull request lacks or gets wrong", () => {
    const push = fixture("forgejo-push").body;
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, { ...push, after: "xyz" })).toMatchObject({ ok: false, issues: [{ path: "/after" }] });
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, { ...push, pusher: null, sender: null })).toMatchObject({ ok: false, issues: [{ path: "/pusher/login" }] });
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, { ...push, pusher: { login: "a b" } })).toMatchObject({ ok: false, issues: [{ path: "/pusher/login" }] });
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, [])).toMatchObject({ ok: false });
    expect(parseForgeEvent({ forge: "gitlab", event: "Merge Request Hook" }, { ...fixture("gitlab-merge_request").body, object_attributes: { source_branch: "x" } })).toMatchObject({ ok: false });
    expect(parseForgeEvent({ forge: "forgejo", event: "push" }, { ...push, ref: `refs/heads/requests/\ud800` })).toMatchObject({ ok: false, issues: [{ path: "/ref" }] });
  });

  it("tell a pull request from a fork, and one whose head did not change", () => {
    const pr = fixture("gitea-pull_request").body as { pull_request: { head: { repo: { full_name: string } | null } }; action: string };
    pr.pull_request.head.repo = { full_name: "mallory/webhooks" };
    expect(parseForgeEvent({ forge: "gitea", event: "pull_request" }, pr)).toMatchObject({ ok: true, value: { change: { fromFork: true } } });
    pr.pull_request.head.repo = null;
    expect(parseForgeEvent({ forge: "gitea", event: "pull_request" }, pr)).toMatchObject({ ok: true, value: { change: { fromFork: true } } });
    const labelled = { ...fixture("gitea-pull_request").body, action: "label_updated" };
    expect(parseForgeEvent({ forge: "gitea", event: "pull_request" }, labelled)).toMatchObject({ ok: true, value: { change: { setsHead: false } } });
  });
});

describe("repository URLs", () => {
  it("agree across a forge's spellings of one repository", () => {
    const key = repositoryKey("https://forge.fedoraproject.org/releng/gitops.git");
    for (const u of ["git@forge.fedoraproject.org:releng/gitops.git", "ssh://git@forge.fedoraproject.org:2222/releng/gitops.git", "https://forge.fedoraproject.org/releng/gitops", "https://forge.fedoraproject.org/releng/gitops/", "HTTPS://Forge.FedoraProject.org/Releng/GitOps.git"]) {
      expect(repositoryKey(u), u).toBe(key);
    }
    expect(repositoryKey("https://forge.fedoraproject.org/releng/gitops-shadow.git")).not.toBe(key);
    expect(repositoryKey("https://evil.example/releng/gitops.git")).not.toBe(key);
    expect(repositoryKey("/srv/git/gitops.git")).toBe("/srv/git/gitops");
    expect(namesRepository({ repositoryUrls: ["http://localhost:3000/a/b.git"] }, "git@localhost:a/b.git")).toBe(true);
    expect(namesRepository({ repositoryUrls: [] }, "git@localhost:a/b.git")).toBe(false);
  });
});

describe("the signature", () => {
  it("is the hex HMAC-SHA256 of the raw body (RFC 4231 test case 2), checked in any case of hex", () => {
    const body = Buffer.from("what do ya want for nothing?");
    expect(signForgeBody("Jefe", body)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(verifyForgeSignature("Jefe", body, "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843")).toBe(true);
    expect(verifyForgeSignature("Jefe", Buffer.from("what do ya want for nothing!"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")).toBe(false);
    expect(verifyForgeSignature("Jefe", body, "")).toBe(false);
    expect(verifyForgeSignature("Jefe", body, `sha256=${signForgeBody("Jefe", body)}`)).toBe(false);
    expect(verifyForgeToken("secret-token-0123", "secret-token-0123")).toBe(true);
    expect(verifyForgeToken("secret-token-0123", "secret-token-012")).toBe(false);
  });
});
