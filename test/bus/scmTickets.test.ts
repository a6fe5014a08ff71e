// releng/fedora-scm-requests tickets: bus messages through the real ingest into the store, the
// shadow writer into a real bare remote, on both databases; relengd's agreement with the bot.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Envelope } from "../../src/domain/envelope.js";
import { ingestBusMessage, type BusDeps, type BusIngestResult } from "../../src/flow/ingestBusMessage.js";
import { ShadowWriter } from "../../src/gitops/shadowWriter.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { git } from "../support/remote.js";
import { fileAt, remoteBranches as branches, shadowCommitsOf as commitsOf } from "../support/shadowRemote.js";
import { pagureMessage, scmTicketFixtures, scmTicketMessage, shippedApproval, type TicketState } from "../support/scmTickets.js";

const quiet = pino({ level: "silent" });
let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;
const approval = shippedApproval();

const isAncestor = (remote: string, a: string, b: string): boolean => {
  try {
    execFileSync("git", ["-C", remote, "merge-base", "--is-ancestor", a, b]);
    return true;
  } catch {
    return false;
  }
};
const treeOf = (remote: string, ref: string) => git(remote, "ls-tree", "-r", "--name-only", ref).trim().split("\n").filter(Boolean);

/** A bot comment and a closing, as the request processor does it. */
const botProcessed = (t: Omit<TicketState, "id">, id: string): Envelope =>
  scmTicketMessage({ ...t, id, topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot", comments: [{ id: 9001, user: "releng-bot", comment: "The branch was created in PDC and git" }] });
const denied = (t: Omit<TicketState, "id">, id: string, by = "releng-bot", reason = "The Bugzilla bug provided is not approved\r\nPlease fix it and reopen."): Envelope =>
  // The fedmsg-era shape: the close status is the status.
  scmTicketMessage({ ...t, id, topic: "pagure.issue.comment.added", status: "Denied", agent: by, comments: [{ id: 9002, user: by, comment: reason }] });

describe.each(testProviders)("scm tickets in the shadow repository on %s", (provider) => {
  let database: TestDatabase;
  let events: BusEventRepository;
  let deps: BusDeps;
  let dir: string;
  let remote: string;
  let writer: ShadowWriter;

  const newRemote = (name: string) => {
    const at = path.join(dir, name);
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", at]);
    return at;
  };
  const shadowWriter = (url: string, workspace = "ws.git") =>
    new ShadowWriter({ changes: events.shadow, url, workspaceDir: path.join(dir, workspace), logger: quiet }, { pollMs: 3_600_000, retryDelayMs: () => 30 });
  const send = (envelope: Envelope, d: BusDeps = deps): Promise<BusIngestResult> => ingestBusMessage(d, { ok: true, envelope });
  const expectOutcome = async (envelope: Envelope, outcome: string, d: BusDeps = deps) => {
    const result = await send(envelope, d);
    expect(result.outcome, result.reason).toBe(outcome);
    return result;
  };
  const written = async (w: ShadowWriter = writer) => {
    w.notify();
    await w.idle();
  };

  beforeAll(async () => {
    database = await freshDatabase(provider);
    events = new BusEventRepository(database.db);
    deps = {
      artifacts: new ArtifactRepository(database.db),
      events,
      mapping: { rawhideVersion: 45 },
      approval: () => ({ policies: approval.set.approvalPolicies, facts: approval.facts }),
    };
    dir = mkdtempSync(path.join(tmpdir(), "relengd-scm-"));
    remote = newRemote("shadow.git");
    writer = shadowWriter(remote);
  });
  afterAll(async () => {
    await writer?.stop();
    await database?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives EVERY fixture ticket its mr/scm-<id> branch: Processed merged into main, Denied closed with the reason, open left open", async () => {
    const fixtures = scmTicketFixtures();
    expect(fixtures.length).toBeGreaterThan(0);
    const plan = fixtures.map((f, i) => ({ f, processed: 1000 + i * 10, denied: 1001 + i * 10, open: 1002 + i * 10 }));
    const sent = new Map<number, { filed: Envelope; closed?: Envelope }>();
    for (const { f, processed, denied: deniedId, open } of plan) {
      for (const ticketId of [processed, deniedId, open]) {
        const t = { ticketId, title: f.title, content: f.content, author: "jdoe" };
        const filed = scmTicketMessage({ ...t, id: uniq("new") });
        const result = await expectOutcome(filed, "accepted");
        expect(result.reason).toContain(`ticket ${ticketId} filed`);
        let closed: Envelope | undefined;
        if (ticketId === processed) closed = botProcessed(t, uniq("processed"));
        if (ticketId === deniedId) closed = denied(t, uniq("denied"));
        if (closed) await expectOutcome(closed, "accepted");
        else {
          // A comment that changes nothing: no commit, and the event says why.
          const comment = scmTicketMessage({ ...t, id: uniq("comment"), topic: "pagure.issue.comment.added", comments: [{ id: 1, user: "asmith", comment: "+1" }] });
          const r = await expectOutcome(comment, "ignored");
          expect(r.reason).toMatch(/unchanged .*no commit/);
        }
        sent.set(ticketId, { filed, ...(closed ? { closed } : {}) });
      }
    }
    await written();

    const heads = new Set(branches(remote));
    for (const { f, processed, denied: deniedId, open } of plan) {
      const { action: _action, ...spec } = f.body;
      for (const ticketId of [processed, deniedId, open]) {
        const branch = `mr/scm-${ticketId}`;
        expect(heads.has(branch), `${f.file}: ${branch}`).toBe(true);
        const stored = await events.scmTickets.ticket(ticketId);
        expect(stored, f.file).not.toBeNull();
        const docPath = stored?.path as string;
        expect(docPath, f.file).toMatch(f.action === "new_branch" ? /^distgit\/branches\// : /^distgit\/repos\//);
        const doc = parse(fileAt(remote, branch, docPath) ?? "") as { kind: string; spec: Record<string, unknown> };
        expect(doc.kind, f.file).toBe(f.action === "new_branch" ? "BranchRequest" : "RepoRequest");
        // The ticket's own values, as it gives them (the mess included).
        expect(doc.spec, f.file).toMatchObject(spec);
        const own = commitsOf(remote, branch).filter((c) => c.info?.scmTicket === String(ticketId));
        const [head] = own;
        expect(own.length, f.file).toBeGreaterThan(0);
        // Every misfit in a trailer, the same list the store keeps.
        for (const c of own) expect(c.info?.problems, f.file).toEqual(stored?.problems);
        const { filed, closed } = sent.get(ticketId) ?? {};
        expect(own.at(-1)?.info?.messageId).toBe(filed?.id);
        if (ticketId === processed) {
          expect(stored?.state).toBe("merged");
          const merge = commitsOf(remote, "main", true).find((c) => c.info?.merge === branch);
          expect(merge?.parents, f.file).toHaveLength(2);
          expect(merge?.info?.messageId).toBe(closed?.id);
          expect(isAncestor(remote, `refs/heads/${branch}`, "main"), f.file).toBe(true);
        } else if (ticketId === deniedId) {
          expect(stored?.state).toBe("closed");
          expect(head?.info?.closed, f.file).toBe("Denied: The Bugzilla bug provided is not approved Please fix it and reopen.");
          expect(head?.info?.messageId).toBe(closed?.id);
          expect(isAncestor(remote, `refs/heads/${branch}`, "main"), f.file).toBe(false);
        } else {
          expect(stored?.state).toBe("open");
          expect(stored?.agreement).toBeNull();
          expect(own).toHaveLength(1);
        }
        if (ticketId !== open) {
          // relengd's verdict against the bot: consistent with the rules, both sides stored.
          const a = stored?.agreement;
          expect(a, f.file).not.toBeNull();
          const v = stored?.verdict;
          const expected =
            v?.status === "approved"
              ? ticketId === processed ? "agreed" : "disagreed"
              : v?.status === "denied"
                ? ticketId === processed ? "disagreed" : "agreed"
                : v?.review === "facts" || v?.status === "none"
                  ? "undecidable"
                  : // Closed by the bot itself: relengd would have asked a person.
                    "disagreed";
          expect(a?.outcome, `${f.file}: ${JSON.stringify(v)}`).toBe(expected);
          expect(a?.bot).toContain(ticketId === processed ? "Processed by releng-bot" : "Denied by releng-bot");
          expect(a?.relengd).toContain(v?.status);
        }
      }
    }
    // The mess of the fixtures named where it is.
    const byFile = new Map(plan.map((p) => [p.f.file, p.processed]));
    for (const { f } of plan) {
      const problems = (await events.scmTickets.ticket(byFile.get(f.file) as number))?.problems ?? [];
      if (f.body.branch === "master") expect(problems.join("\n"), f.file).toMatch(/\/spec\/branch master/);
      if (f.body.branch === "9") expect(problems.join("\n"), f.file).toMatch(/\/spec\/branch 9 is not a Fedora release branch/);
      if (f.body.namespace === "modules") expect(problems.join("\n"), f.file).toMatch(/\/spec\/namespace modules/);
      if (f.body.bug_id === "") expect(problems.join("\n"), f.file).toMatch(/\/spec\/bug_id ""/);
      for (const p of problems) expect(p).toMatch(/^\/spec/);
    }
    // Everything written; nothing outside the shadow repository's folders.
    expect((await events.shadow.changes()).every((c) => c.status === "written")).toBe(true);
    for (const file of treeOf(remote, "main")) expect(file).toMatch(/^(README\.md|distgit\/(branches|repos)\/[^.][^/]*\/.+\.yaml)$/);
  });

  it("compares relengd's verdict with the bot's outcome: agreed, disagreed with both reasons, undecidable", async () => {
    const branchTicket = (ticketId: number, branch: string, author = "jdoe") => ({
      ticketId,
      title: `New Branch "${branch}" for "rpms/nethack"`,
      content: "```\n" + JSON.stringify({ action: "new_branch", branch, namespace: "rpms", repo: "nethack", create_git_branch: true }, null, 1) + "\n```",
      author,
    });
    const repoTicket = (ticketId: number, repo: string, bug: number | "") => ({
      ticketId,
      title: `New Repo for "rpms/${repo}"`,
      content:
        "```\n" +
        JSON.stringify({ action: "new_repo", branch: "rawhide", bug_id: bug, description: "", exception: bug === "", monitor: "monitoring", namespace: "rpms", repo, summary: "A package", upstreamurl: "" }, null, 1) +
        "\n```",
      author: "jdoe",
    });
    // A maintainer's release branch: relengd approves (shipped policy branch-by-maintainer).
    const approvedTicket = branchTicket(2001, "f44");
    await expectOutcome(scmTicketMessage({ ...approvedTicket, id: uniq("new") }), "accepted");
    expect((await events.scmTickets.ticket(2001))?.verdict.status).toBe("approved");
    await expectOutcome(botProcessed(approvedTicket, uniq("processed")), "accepted");
    expect((await events.scmTickets.ticket(2001))?.agreement).toMatchObject({ outcome: "agreed" });

    // The same request denied by the bot: disagreed, both reasons kept.
    const approvedDenied = branchTicket(2002, "f43");
    await expectOutcome(scmTicketMessage({ ...approvedDenied, id: uniq("new") }), "accepted");
    const r = await expectOutcome(denied(approvedDenied, uniq("denied"), "releng-bot", "Sorry, f43 is frozen"), "accepted");
    expect(r.reason).toContain("disagreed");
    const disagreed = (await events.scmTickets.ticket(2002))?.agreement;
    expect(disagreed?.outcome).toBe("disagreed");
    expect(disagreed?.relengd).toMatch(/^approved: .*branch-by-maintainer/);
    expect(disagreed?.bot).toBe("Denied by releng-bot: Sorry, f43 is frozen");

    // A repository that exists: relengd denies, the bot said Invalid: agreed.
    const exists = repoTicket(2003, "nethack", 1441813);
    await expectOutcome(scmTicketMessage({ ...exists, id: uniq("new") }), "accepted");
    expect((await events.scmTickets.ticket(2003))?.verdict.status).toBe("denied");
    await expectOutcome(scmTicketMessage({ ...exists, id: uniq("invalid"), topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Invalid", closedBy: "kevin", comments: [{ id: 1, user: "kevin", comment: "exists already" }] }), "accepted");
    expect((await events.scmTickets.ticket(2003))?.agreement?.outcome).toBe("agreed");

    // A new package: relengd asks a person (rule repo-review). A person processing it agrees; the bot alone does not.
    const byPerson = repoTicket(2004, "python-brandnew", 2200001);
    await expectOutcome(scmTicketMessage({ ...byPerson, id: uniq("new") }), "accepted");
    expect((await events.scmTickets.ticket(2004))?.verdict).toMatchObject({ status: "needs-review", review: "rule" });
    await expectOutcome(scmTicketMessage({ ...byPerson, id: uniq("done"), topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "kevin" }), "accepted");
    expect((await events.scmTickets.ticket(2004))?.agreement?.outcome).toBe("agreed");
    const byBot = repoTicket(2005, "python-brandnew2", 2200002);
    await expectOutcome(scmTicketMessage({ ...byBot, id: uniq("new") }), "accepted");
    await expectOutcome(botProcessed(byBot, uniq("processed")), "accepted");
    expect((await events.scmTickets.ticket(2005))?.agreement?.outcome).toBe("disagreed");

    // Facts missing: undecidable.
    const noFacts: BusDeps = { ...deps, approval: () => ({ policies: approval.set.approvalPolicies, facts: { values: {}, status: [] } }) };
    const unknown = branchTicket(2006, "f44");
    await expectOutcome(scmTicketMessage({ ...unknown, id: uniq("new") }), "accepted", noFacts);
    expect((await events.scmTickets.ticket(2006))?.verdict).toMatchObject({ status: "needs-review", review: "facts" });
    await expectOutcome(botProcessed(unknown, uniq("processed")), "accepted", noFacts);
    expect((await events.scmTickets.ticket(2006))?.agreement?.outcome).toBe("undecidable");

    // Each revision's verdict is kept.
    expect((await events.scmTickets.verdicts(2001)).map((v) => [v.revision, v.verdict.status])).toEqual([[1, "approved"]]);
    const counts = await events.scmTickets.agreementCounts();
    for (const outcome of ["agreed", "disagreed", "undecidable"]) expect(counts.some((c) => c.outcome === outcome)).toBe(true);
    // since: the closing message's sent-at decides.
    expect(await events.scmTickets.agreementCounts(new Date("2030-01-01T00:00:00Z"))).toEqual([]);
  });

  it("judges a ticket with what merged tickets put on the shadow main: a second request for a repository processed before is denied", async () => {
    const repo = `relengd-new-${process.pid}`;
    const ticket = (ticketId: number) => ({
      ticketId,
      title: `New Repo for "rpms/${repo}"`,
      content: "```\n" + JSON.stringify({ action: "new_repo", branch: "rawhide", bug_id: 1441813, description: "", exception: false, monitor: "monitoring", namespace: "rpms", repo, summary: "A package", upstreamurl: "" }, null, 1) + "\n```",
      author: "jdoe",
    });
    await expectOutcome(scmTicketMessage({ ...ticket(2601), id: uniq("new") }), "accepted");
    expect((await events.scmTickets.ticket(2601))?.verdict.status).not.toBe("denied");
    await expectOutcome(botProcessed(ticket(2601), uniq("processed")), "accepted");
    // The same repository asked again: relengd's repo-exists policy sees the first one merged.
    await expectOutcome(scmTicketMessage({ ...ticket(2602), id: uniq("new") }), "accepted");
    const again = await events.scmTickets.ticket(2602);
    expect(again?.verdict.status).toBe("denied");
    expect(again?.verdict.reasons.join("\n")).toContain(`rpms/${repo} exists already`);
  });

  it("follows edits, a reopen and a second processing; duplicates and unchanged messages make no commit", async () => {
    const base = scmTicketFixtures()[0];
    if (!base) throw new Error("no fixture ticket");
    const t = { ticketId: 3001, title: base.title, content: base.content, author: "jdoe" };
    const filed = scmTicketMessage({ ...t, id: uniq("new") });
    await expectOutcome(filed, "accepted");
    // The same message again: a duplicate, never applied twice.
    await expectOutcome(filed, "duplicate");
    // An edit of the text: a new commit and a new revision judged.
    const edited = { ...t, content: base.content.replace(/"repo": "([^"]+)"/, '"repo": "$1-edited"') };
    await expectOutcome(scmTicketMessage({ ...edited, id: uniq("edit"), topic: "pagure.issue.edit", modern: true }), "accepted");
    await expectOutcome(scmTicketMessage({ ...edited, id: uniq("edit-again"), topic: "pagure.issue.edit", modern: true }), "ignored");
    await expectOutcome(denied(edited, uniq("denied")), "accepted");
    // Another message of the closed ticket saying the same: nothing.
    await expectOutcome(denied(edited, uniq("denied-again")), "ignored");
    const reopened = await expectOutcome(scmTicketMessage({ ...edited, id: uniq("reopen"), topic: "pagure.issue.edit", modern: true }), "accepted");
    expect(reopened.reason).toContain("reopens the closed merge request");
    expect((await events.scmTickets.ticket(3001))?.agreement).toBeNull();
    await expectOutcome(botProcessed(edited, uniq("processed")), "accepted");
    await written();

    const own = commitsOf(remote, "mr/scm-3001").filter((c) => c.info?.scmTicket === "3001");
    // Newest first: one commit per message that changed the text or the status.
    expect(own.map((c) => /ticket 3001 (\w+)/.exec(c.info?.subject ?? "")?.[1])).toEqual(["processed", "reopened", "closed", "edited", "filed"]);
    expect(own[2]?.info?.closed).toMatch(/^Denied: /);
    const stored = await events.scmTickets.ticket(3001);
    expect(stored).toMatchObject({ state: "merged", revision: 2, closeStatus: "Processed", closedBy: "releng-bot" });
    // Compared again on the second closing: the Processed outcome is the one counted.
    expect(stored?.agreement?.bot).toMatch(/^Processed by releng-bot/);
    expect((await events.scmTickets.verdicts(3001)).map((v) => v.revision)).toEqual([1, 2]);
    expect(fileAt(remote, "main", stored?.path as string)).toContain("-edited");
  });

  it("mirrors messy tickets anyway and ignores what is not the queue's, each with its reason", async () => {
    // Not the queue: other projects (the real messages), staging and development instances, dist-git's issues, a fork.
    for (const [folder, file] of [["pagure.issue.new", "000.json"], ["pagure.issue.comment.added", "000.json"], ["pagure.issue.comment.added", "002.json"], ["pagure.issue.edit", "000.json"], ["pagure.issue.edit", "001.json"]] as const) {
      const r = await expectOutcome({ ...pagureMessage(folder, file), id: uniq("other") }, "ignored");
      expect(r.reason).toMatch(/releng\/fedora-scm-requests/);
    }
    const ticket = { ticketId: 4001, title: "New Branch", content: scmTicketFixtures()[0]?.content ?? "", author: "jdoe" };
    for (const prefix of ["io.pagure.stg.", "io.pagure.dev.", "org.fedoraproject.prod."]) {
      const r = await expectOutcome(scmTicketMessage({ ...ticket, id: uniq("prefix"), prefix }), "ignored");
      expect(r.reason).toContain("only pagure.io's production tickets");
    }
    await expectOutcome(scmTicketMessage({ ...ticket, id: uniq("fork"), project: { name: "fedora-scm-requests", namespace: "releng", parent: { name: "fedora-scm-requests" } } }), "ignored");
    await expectOutcome(scmTicketMessage({ ...ticket, id: uniq("elsewhere"), project: { name: "fedora-scm-requests", namespace: "someone", parent: null } }), "ignored");
    expect(await events.scmTickets.ticket(4001)).toBeNull();

    // A ticket with no JSON: recorded and said why, counted undecidable when closed, no branch.
    const prose = { ticketId: 4002, title: "Please unretire rpms/foo", content: "Hi, could someone unretire this package?\r\nThanks", author: "jdoe" };
    const r1 = await expectOutcome(scmTicketMessage({ ...prose, id: uniq("prose") }), "ignored");
    expect(r1.reason).toMatch(/ticket 4002 recorded without a document: the ticket's text holds no JSON/);
    await expectOutcome(denied(prose, uniq("prose-closed")), "ignored");
    expect(await events.scmTickets.ticket(4002)).toMatchObject({ kind: null, state: "closed", agreement: { outcome: "undecidable" } });

    const messy: [number, string][] = [
      [4003, "```\n{\"action\": \"new_branch\", \"branch\": \"f44\",\n```"],
      // Deep nesting, written as text: the test's own JSON.stringify would overflow on it.
      [4004, '```\n{"action": "new_branch", "namespace": "rpms", "repo": "nethack", "branch": "f44", "sls": ' + "[".repeat(5_000) + "]".repeat(5_000) + ', "extra": ' + '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000) + "}\n```"],
      // Far larger than a ticket: not read.
      [4012, "```\n" + JSON.stringify({ action: "new_branch", namespace: "rpms", repo: "nethack", branch: "f44", description: "x".repeat(70_000) }) + "\n```"],
      [4005, '```\n{"action": "new_branch", "namespace": "rpms", "repo": "neth\\ud800ack", "branch": "f44\\udfff"}\n```'],
      [4006, "```\n" + JSON.stringify({ action: "new_repo", namespace: "rpms", repo: "../../../etc", branch: "rawhide", bug_id: "", summary: "x", description: "", upstreamurl: "", monitor: "monitoring", exception: true }) + "\n```"],
      [4007, "```\n" + JSON.stringify({ action: "new_branch", namespace: "rpms", repo: "nethack", branch: 44, create_git_branch: "yes", sls: { bug_fixes: 20301201 } }) + "\n```"],
      [4008, "```\n" + JSON.stringify({ action: "delete_everything", repo: "nethack" }) + "\n```"],
      [4009, "```\n[1, 2, 3]\n```"],
      [4010, "Before the JSON, a note.\n```json\n" + JSON.stringify({ action: "new_branch", namespace: "rpms", repo: "nethack", branch: "epel10" }) + "\n```\nAfter."],
      [4011, "\ud800```\n{\"action\": \"new_branch\"}\n```"],
    ];
    for (const [ticketId, content] of messy) {
      const result = await send(scmTicketMessage({ ticketId, title: "messy \ud83d ticket", content, author: "jdoe", id: uniq(`messy-${ticketId}`) }));
      expect(["accepted", "ignored"], `${ticketId}: ${result.reason}`).toContain(result.outcome);
      expect(result.reason.isWellFormed()).toBe(true);
    }
    await written();
    expect((await events.scmTickets.ticket(4003))?.unreadable).toMatch(/holds no JSON/);
    const deep = await events.scmTickets.ticket(4004);
    expect(deep?.problems.join("\n")).toMatch(/\/spec\/sls the ticket's value is nested 8 levels or more/);
    expect(deep?.problems.join("\n")).toMatch(/\/spec\/extra .*has no place in a BranchRequest/);
    expect((await events.scmTickets.ticket(4005))?.problems.join("\n")).toMatch(/lone UTF-16 surrogate/);
    const traversal = await events.scmTickets.ticket(4006);
    expect(traversal?.path).toBe("scm-tickets/4006.yaml");
    expect(treeOf(remote, "mr/scm-4006")).toContain("scm-tickets/4006.yaml");
    const typed = await events.scmTickets.ticket(4007);
    expect(typed?.problems.join("\n")).toMatch(/\/spec\/branch/);
    expect(typed?.problems.join("\n")).toMatch(/\/spec\/create_git_branch/);
    expect(typed?.verdict.status).toBe("denied");
    expect((await events.scmTickets.ticket(4008))?.unreadable).toMatch(/neither new_branch nor new_repo/);
    expect((await events.scmTickets.ticket(4009))?.unreadable).toMatch(/a list/);
    expect((await events.scmTickets.ticket(4010))?.kind).toBe("BranchRequest");
    expect((await events.scmTickets.ticket(4012))?.unreadable).toMatch(/relengd reads tickets of at most 65536/);
    for (const b of branches(remote)) for (const file of treeOf(remote, b)) expect(file.split("/")).not.toContain("..");
  });

  it("two replicas ingesting messages of one ticket at once: each applied once, in a consistent order", async () => {
    const base = scmTicketFixtures()[0];
    if (!base) throw new Error("no fixture ticket");
    const versions = [1, 2, 3, 4, 5].map((n) => scmTicketMessage({ ticketId: 6001, title: base.title, content: base.content.replace(/"repo": "([^"]+)"/, `"repo": "$1-v${n}"`), author: "jdoe", id: uniq(`race-${n}`), topic: "pagure.issue.edit", modern: true }));
    const replicaB: BusDeps = { ...deps, events: new BusEventRepository(database.db) };
    const results = await Promise.all(versions.map((m, i) => send(m, i % 2 === 0 ? deps : replicaB)));
    expect(results.map((r) => r.outcome)).toEqual(["accepted", "accepted", "accepted", "accepted", "accepted"]);
    const stored = await events.scmTickets.ticket(6001);
    expect(stored?.revision).toBe(5);
    expect((await events.scmTickets.verdicts(6001)).map((v) => v.revision)).toEqual([1, 2, 3, 4, 5]);
    await written();
    const own = commitsOf(remote, "mr/scm-6001").filter((c) => c.info?.scmTicket === "6001");
    expect(own).toHaveLength(5);
    // The branch's last commit is the text the store holds last.
    expect(fileAt(remote, "mr/scm-6001", stored?.path as string)).toContain(/"repo": "([^"]+)"/.exec(stored?.content ?? "")?.[1] ?? "?");
  });

  it("after a restart mid-way, a new writer finishes the queue and redelivered messages are duplicates", async () => {
    const f = scmTicketFixtures().at(-1);
    if (!f) throw new Error("no fixture ticket");
    const t = { ticketId: 5001, title: f.title, content: f.content, author: "jdoe" };
    const filed = scmTicketMessage({ ...t, id: uniq("new") });
    const closed = botProcessed(t, uniq("processed"));
    await expectOutcome(filed, "accepted");
    await expectOutcome(closed, "accepted");
    // The process stops before its writer ran: a new one (fresh workspace) finds the queue.
    const restarted = shadowWriter(remote, "ws-restarted.git");
    restarted.start();
    await restarted.idle();
    await restarted.stop();
    await expectOutcome(filed, "duplicate");
    await expectOutcome(closed, "duplicate");
    const merge = commitsOf(remote, "main", true).find((c) => c.info?.merge === "mr/scm-5001");
    expect(merge?.info?.messageId).toBe(closed.id);
    expect((await events.shadow.changes({ alias: "scm-5001" })).map((c) => [c.kind, c.status])).toEqual([
      ["update", "written"],
      ["merge", "written"],
    ]);
  });
});
