// The scm ticket mapping, pure: topics and projects, the ticket JSON however it is written, every
// fixture ticket as a document, and the comparison with the bot.
import { describe, expect, it } from "vitest";
import { mapEnvelope } from "../../src/domain/busMapping.js";
import { compareWithBot, isScmProject, mapScmTicketMessage, scmTicketDocument, ticketJsonOf, type ScmVerdict } from "../../src/domain/scmTicket.js";
import { pagureMessage, scmTicketFixtures, scmTicketMessage } from "../support/scmTickets.js";

const mapping = { rawhideVersion: 45 };

describe("scm ticket messages", () => {
  it("maps every fixture ticket, on the real pagure.issue.new envelope, to the ticket it carries", () => {
    for (const [i, f] of scmTicketFixtures().entries()) {
      const effect = mapEnvelope(scmTicketMessage({ id: `m${i}`, ticketId: 100 + i, title: f.title, content: f.content, author: "jdoe" }), mapping);
      expect(effect, f.file).toMatchObject({ kind: "scmTicket", ticket: { ticketId: 100 + i, title: f.title, content: f.content, author: "jdoe", state: "open", closeStatus: null } });
    }
  });

  it("reads the close status both ways: pagure 5's Closed + close_status, and the fedmsg era's status", () => {
    const t = { id: "x", ticketId: 7, title: "t", content: "c" };
    expect(mapEnvelope(scmTicketMessage({ ...t, topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot", agent: "someone" }), mapping)).toMatchObject({
      ticket: { state: "closed", closeStatus: "Processed", closedBy: "releng-bot" },
    });
    expect(mapEnvelope(scmTicketMessage({ ...t, topic: "pagure.issue.comment.added", status: "Invalid", agent: "kevin", comments: [{ id: 2, user: "kevin", comment: "dup\nof #1" }, { id: 1, user: "a", comment: "first" }] }), mapping)).toMatchObject({
      ticket: { state: "closed", closeStatus: "Invalid", closedBy: "kevin", lastComment: "dup\nof #1", lastCommentBy: "kevin" },
    });
    expect(mapEnvelope(scmTicketMessage({ ...t, topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: null }), mapping)).toMatchObject({ ticket: { closeStatus: "Closed" } });
  });

  it("ignores other projects, forks and other instances, with the reason; rejects a queue ticket without a number", () => {
    for (const folder of ["pagure.issue.new", "pagure.issue.comment.added", "pagure.issue.edit"]) {
      const effect = mapEnvelope(pagureMessage(folder), mapping);
      expect(effect.kind, folder).toBe("ignored");
    }
    expect(isScmProject({ name: "fedora-scm-requests", parent: null })).toBe(true);
    expect(isScmProject({ name: "fedora-scm-requests", namespace: "releng" })).toBe(true);
    expect(isScmProject({ name: "x", namespace: "y", fullname: "releng/fedora-scm-requests" })).toBe(true);
    expect(isScmProject({ name: "fedora-scm-requests", namespace: "someone", fullname: "someone/fedora-scm-requests" })).toMatch(/is not releng\/fedora-scm-requests/);
    expect(isScmProject({ name: "fedora-scm-requests", fullname: "forks/jdoe/releng/fedora-scm-requests", parent: { name: "fedora-scm-requests" } })).toMatch(/is a fork/);
    expect(isScmProject(null)).toMatch(/names no project/);
    expect(mapScmTicketMessage("io.pagure.stg.pagure.issue.new", {})).toMatchObject({ kind: "ignored", reason: expect.stringContaining("io.pagure.stg.") });
    expect(mapScmTicketMessage("pagure.issue.new", {})).toMatchObject({ kind: "ignored", reason: expect.stringContaining("without a prefix") });
    expect(mapScmTicketMessage("io.pagure.prod.pagure.issue.assigned.added", {})).toBeUndefined();
    const body = scmTicketMessage({ id: "x", ticketId: 1, title: "t", content: "c" }).body;
    for (const id of [0, -1, 1.5, "12", 2 ** 40, null]) {
      expect(mapScmTicketMessage("io.pagure.prod.pagure.issue.new", { ...body, issue: { ...(body.issue as object), id } }), String(id)).toMatchObject({ kind: "rejected", path: "/body/issue/id" });
    }
    expect(mapScmTicketMessage("io.pagure.prod.pagure.issue.new", { ...body, issue: "nope" })).toMatchObject({ kind: "rejected", path: "/body/issue" });
  });
});

describe("the ticket JSON", () => {
  it("is read from fedpkg's fence, a json-tagged fence after a note, or bare; anything else says why", () => {
    expect(ticketJsonOf('```\n{"a": 1}\n```')).toEqual({ ok: true, value: { a: 1 } });
    expect(ticketJsonOf('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(ticketJsonOf('Please:\n```json\n{"a": 1}\n```\nthanks')).toEqual({ ok: true, value: { a: 1 } });
    expect(ticketJsonOf("")).toMatchObject({ ok: false, reason: "the ticket has no text" });
    expect(ticketJsonOf("```\n{broken\n```")).toMatchObject({ ok: false, reason: expect.stringMatching(/^the ticket's text holds no JSON/) });
  });

  it("makes every fixture ticket a document holding the ticket's values, misfits named", () => {
    for (const f of scmTicketFixtures()) {
      const json = ticketJsonOf(f.content);
      expect(json.ok, f.file).toBe(true);
      const doc = scmTicketDocument(1, json.ok ? json.value : null);
      if (!doc.ok) throw new Error(`${f.file}: ${doc.reason}`);
      const { action: _action, ...spec } = f.body;
      expect(doc.spec, f.file).toMatchObject(spec);
      expect(doc.lint, f.file).toEqual([]);
      for (const p of doc.problems) expect(p, f.file).toMatch(/^\/spec/);
    }
  });

  it("leaves out what has no place or is nested too deep, keeps wrong types for lint, and never leaves the repository", () => {
    const doc = scmTicketDocument(9, { action: "new_branch", namespace: "rpms", repo: "../../etc", branch: 9, sls: [[[[[[[[[[1]]]]]]]]]], bogus: { x: 1 } });
    if (!doc.ok) throw new Error(doc.reason);
    expect(doc.path).toBe("scm-tickets/9.yaml");
    expect(doc.spec).not.toHaveProperty("sls");
    expect(doc.spec).not.toHaveProperty("bogus");
    expect(doc.problems.join("\n")).toMatch(/\/spec\/sls .*nested/);
    expect(doc.problems.join("\n")).toMatch(/\/spec\/bogus .*has no place in a BranchRequest; left out/);
    expect(doc.lint.join("\n")).toMatch(/\/spec\/repo/);
    expect(doc.lint.join("\n")).toMatch(/\/spec\/branch/);
    expect(scmTicketDocument(1, { action: "new_package_branch" })).toMatchObject({ ok: false, reason: expect.stringContaining("neither new_branch nor new_repo") });
    expect(scmTicketDocument(1, "text")).toMatchObject({ ok: false });
  });
});

describe("agreement with the bot", () => {
  const v = (status: ScmVerdict["status"], review: ScmVerdict["review"] = null): ScmVerdict => ({ status, review, reasons: ["why"] });
  const processedByBot = { closeStatus: "Processed", closedBy: "releng-bot", reason: "done" };
  const deniedByBot = { closeStatus: "Denied", closedBy: "releng-bot", reason: "no" };
  it("follows the rules of issue 17", () => {
    expect(compareWithBot(v("approved"), processedByBot).outcome).toBe("agreed");
    expect(compareWithBot(v("approved"), deniedByBot)).toEqual({ outcome: "disagreed", relengd: "approved: why", bot: "Denied by releng-bot: no" });
    expect(compareWithBot(v("denied"), { ...deniedByBot, closeStatus: "Invalid" }).outcome).toBe("agreed");
    expect(compareWithBot(v("denied"), processedByBot).outcome).toBe("disagreed");
    expect(compareWithBot(v("needs-review", "facts"), processedByBot).outcome).toBe("undecidable");
    expect(compareWithBot(v("needs-review", "rule"), processedByBot).outcome).toBe("disagreed");
    expect(compareWithBot(v("needs-review", "rule"), { ...processedByBot, closedBy: "kevin" }).outcome).toBe("agreed");
    expect(compareWithBot(v("needs-review", "rule"), { ...processedByBot, closedBy: null }).outcome).toBe("disagreed");
    expect(compareWithBot(v("needs-review", "rule"), { ...processedByBot, closedBy: "kevin" }, "kevin").outcome).toBe("disagreed");
    expect(compareWithBot(v("none"), processedByBot).outcome).toBe("undecidable");
  });
});
