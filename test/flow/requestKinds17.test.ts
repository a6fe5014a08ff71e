// The issue 17 kinds end to end on both databases: submitted through the API (the branch and GET
// hold what was sent), judged by the shipped policies, and decided by reviewers: a large event
// merged at three distinct members of relenggroup (one vote each, a non-member refused naming the
// group, one denial denies), a mass branch at one member, a meeting approved for its calendar's editor.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GITOPS_README, GITOPS_ROOT_MESSAGE } from "../../src/domain/gitopsReadme.js";
import { renderProposedDocument } from "../../src/domain/requests/index.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import type { RequestRecord } from "../../src/store/requestRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";
import { event, massBranch, massRebuild, meeting, sig } from "../support/requestKinds17.js";

const POLICIES = path.resolve(__dirname, "../../policies");
const readme = { text: GITOPS_README, message: GITOPS_ROOT_MESSAGE, author: { name: "relengd", email: "relengd@localhost" } };

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "relengd-kinds17-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(testProviders)("issue 17 requests on %s", (provider) => {
  let t: TestApp;
  beforeAll(async () => {
    const policiesDir = mkdtempSync(path.join(root, "policies-"));
    cpSync(POLICIES, policiesDir, { recursive: true });
    // The writer merges only when told; the poller does not run on its own during a test.
    t = await startTestApp(provider, { policiesDir, requests: { pollMs: 3_600_000 } });
    await ensureBareRepository(t.remote, { readme });
    await t.application.requests?.facts.refresh();
  });
  afterAll(async () => t?.close());

  const as = async (subject: string, role: "ci" | "releaser" = "releaser") => ({ authorization: `Bearer ${(await t.tokens.issue({ subject, role, ttlSeconds: 600 })).token}` });
  const submit = async (subject: string, text: string, at?: string) => {
    const res = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: await as(subject, "ci"), payload: { document: text, ...(at ? { path: at } : {}) } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; status: string; reasons: string[] }>();
  };
  const decide = async (id: string, subject: string, approve: boolean, reason = "looked at it") =>
    t.app.inject({ method: "POST", url: `/api/v1/requests/${id}/${approve ? "approve" : "deny"}`, headers: await as(subject), payload: { reason } });
  const stored = async (id: string): Promise<RequestRecord> => {
    const r = await t.application.requests?.repository.get(id);
    if (!r) throw new Error(`no request ${id}`);
    return r;
  };

  it("round-trips every new kind through the API: what is submitted is what the branch and GET hold", async () => {
    const cases: [string, string, string, string | undefined][] = [
      ["MassBranch", renderProposedDocument(massBranch), "releases/f44/branching.yaml", undefined],
      ["MassRebuild", renderProposedDocument(massRebuild), "rebuilds/f39.yaml", undefined],
      ["SigRequest", renderProposedDocument(sig), "sigs/python-sig.yaml", undefined],
      ["EventRequest", renderProposedDocument({ ...event, spec: { ...event.spec, name: "Release party", size: "small" } }), "events/release-party.yaml", undefined],
      ["CalendarEntry", renderProposedDocument(meeting), "calendar/mindshare/2026-12-09-fesco-meeting.yaml", "calendar/mindshare/2026-12-09-fesco-meeting.yaml"],
    ];
    for (const [kind, text, file, given] of cases) {
      const created = await submit("kvaldez", text, given);
      const got = await t.app.inject({ method: "GET", url: `/api/v1/requests/${created.id}`, headers: await t.auth("reader") });
      const body = got.json<{ kind: string; revision: string; documents: { path: string; content: string }[] }>();
      expect(body.kind, kind).toBe(kind);
      expect(body.documents).toEqual([expect.objectContaining({ path: file, content: text })]);
      expect(git(t.remote, "show", `${body.revision}:${file}`)).toBe(text);
    }
  });

  it("asks a calendar entry's path, and refuses a path that is not the document's, as 422 problems", async () => {
    const noPath = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: await as("jdoe", "ci"), payload: { document: renderProposedDocument(meeting) } });
    expect(noPath.statusCode).toBe(422);
    expect(noPath.body).toContain("calendar/<calendar>/<meeting_date>-<slug>.yaml");
    for (const at of ["calendar/council/2026-12-10-fesco.yaml", "calendar/council/fesco.yaml", "sigs/python-sig.yaml"]) {
      const res = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: await as("jdoe", "ci"), payload: { document: renderProposedDocument(meeting), path: at } });
      expect(res.statusCode, at).toBe(422);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    }
    // A path out of the repository is refused before anything is judged: a 400 naming /path.
    for (const at of ["calendar/../etc/2026-12-09-x.yaml", "/etc/passwd", "calendar/council/2026-12-09-\ud800.yaml"]) {
      const res = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: await as("jdoe", "ci"), payload: { document: renderProposedDocument(meeting), path: at } });
      expect(res.statusCode, at).toBe(400);
      expect(res.json<{ errors: { path: string }[] }>().errors[0]?.path).toBe("/path");
    }
    const traversal = await t.app.inject({ method: "POST", url: "/api/v1/requests", headers: await as("jdoe", "ci"), payload: { document: renderProposedDocument({ ...sig, spec: { ...sig.spec, group: "../../etc" } }) } });
    expect(traversal.statusCode).toBe(422);
    expect(traversal.body).toContain("/spec/group");
  });

  it("approves and merges a meeting asked by an editor of its calendar", async () => {
    const at = "calendar/council/2026-12-16-fesco-meeting.yaml";
    const created = await submit("jdoe", renderProposedDocument({ ...meeting, spec: { ...meeting.spec, meeting_date: "2026-12-16" } }), at);
    expect(created.status, created.reasons.join("; ")).toBe("approved");
    await t.writer.idle();
    expect(await stored(created.id)).toMatchObject({ status: "merged", approvedBy: "policy/calendar-entry" });
    expect(git(t.remote, "ls-tree", "-r", "--name-only", "main")).toContain(at);
  });

  it("merges a large event once three distinct members of relenggroup approved it, one vote each, refusing a non-member", async () => {
    const created = await submit("jdoe", renderProposedDocument({ ...event, spec: { ...event.spec, name: "Flock 2027" } }));
    expect(created.status).toBe("needs-review");
    expect(created.reasons.join("\n")).toContain("3 distinct members of relenggroup approve");

    const outsider = await decide(created.id, "mlopez", true);
    expect(outsider.statusCode).toBe(403);
    expect(outsider.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(outsider.json<{ detail: string }>().detail).toContain("decided by members of relenggroup");
    expect(outsider.json<{ detail: string }>().detail).toContain("mlopez is not a member");

    const first = await decide(created.id, "tnguyen", true, "budget fits");
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json<{ status: string }>().status).toBe("needs-review");
    // The same reviewer again is still one reviewer.
    const again = await decide(created.id, "tnguyen", true, "really");
    expect(again.json<{ status: string; reasons: string[] }>()).toMatchObject({ status: "needs-review" });
    expect(again.json<{ reasons: string[] }>().reasons.at(-1)).toContain("1 of 3 approvals by relenggroup");

    // The policies judged again (a facts refresh): the vote and its line stay, nothing else changes.
    const requests = t.application.requests;
    if (!requests) throw new Error("requests are not wired");
    const before = await stored(created.id);
    requests.poller.policiesChanged();
    requests.poller.kick();
    await requests.poller.settled();
    const after = await stored(created.id);
    expect(after.status).toBe("needs-review");
    expect(after.reasons).toEqual(before.reasons);

    // Two reviewers at once: both count.
    const [second, third] = await Promise.all([decide(created.id, "asmith", true), decide(created.id, "plee", true)]);
    expect([second.statusCode, third.statusCode]).toEqual([200, 200]);
    const statuses = [second.json<{ status: string }>().status, third.json<{ status: string }>().status].sort();
    expect(statuses).toEqual(["approved", "needs-review"]);
    await t.writer.idle();
    const merged = await stored(created.id);
    expect(merged.status).toBe("merged");
    expect(merged.approvedBy).toMatch(/^user:(asmith|plee)$/);
    expect(merged.reasons.join("\n")).toContain("approved by user:asmith, user:plee, user:tnguyen");
    expect((await t.application.requests?.repository.reviews(created.id))?.map((v) => v.reviewer)).toEqual(["asmith", "plee", "tnguyen"]);

    // Decided: nothing more to approve.
    expect((await decide(created.id, "tnguyen", true)).statusCode).toBe(409);
  });

  it("denies a large event at one member's denial, whatever the approvals", async () => {
    const created = await submit("jdoe", renderProposedDocument({ ...event, spec: { ...event.spec, name: "Flock 2028" } }));
    expect((await decide(created.id, "tnguyen", true)).json<{ status: string }>().status).toBe("needs-review");
    expect((await decide(created.id, "asmith", true)).json<{ status: string }>().status).toBe("needs-review");
    const denied = await decide(created.id, "plee", false, "no budget left");
    expect(denied.json<{ status: string; decidedBy: string }>()).toMatchObject({ status: "denied" });
    expect(await stored(created.id)).toMatchObject({ status: "denied", decidedBy: "user:plee", decisionReason: "no budget left", approvedBy: null });
  });

  it("merges a mass branch at one member's approval; a releaser outside relenggroup may not decide it", async () => {
    const created = await submit("tnguyen", renderProposedDocument({ ...massBranch, spec: { ...massBranch.spec, version: 45, name: "F45", long_name: "Fedora 45", branch: "f45", dist_tag: "f45" } }));
    expect(created.status).toBe("needs-review");
    expect((await decide(created.id, "test-releaser", true)).statusCode).toBe(403);
    const approved = await decide(created.id, "asmith", true, "branching day");
    expect(approved.json<{ status: string }>().status).toBe("approved");
    await t.writer.idle();
    expect(await stored(created.id)).toMatchObject({ status: "merged", approvedBy: "user:asmith" });
  });

  it("keeps one releaser's approval where no review rule names reviewers (a small event)", async () => {
    const created = await submit("jdoe", renderProposedDocument({ ...event, spec: { ...event.spec, name: "Release party 45", size: "small" } }));
    expect(created.status).toBe("needs-review");
    const approved = await decide(created.id, "test-releaser", true, "fine");
    expect(approved.json<{ status: string }>().status).toBe("approved");
  });
});
