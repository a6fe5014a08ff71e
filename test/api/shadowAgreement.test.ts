// GET /api/v1/shadow/agreement and relengd_shadow_agreement_total: scm tickets posted as bus
// messages (POST /api/v1/events, the composed application's ingest), counted from the store.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import type { Envelope } from "../../src/domain/envelope.js";
import { appDepsOf, startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { scmTicketMessage } from "../support/scmTickets.js";

let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const branchTicket = (ticketId: number, branch: string) => ({
  ticketId,
  title: `New Branch "${branch}" for "rpms/nethack"`,
  content: "```\n" + JSON.stringify({ action: "new_branch", branch, namespace: "rpms", repo: "nethack", create_git_branch: true }, null, 1) + "\n```",
  author: "jdoe",
});

describe.each(testProviders)("shadow agreement API on %s", (provider) => {
  let t: TestApp;
  let admin: { authorization: string };
  let reader: { authorization: string };

  beforeAll(async () => {
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 }, requests: { pollMs: 3_600_000 } });
    // The shipped example facts, as the server loads them at start.
    await t.application.requests?.facts.refresh();
    admin = await t.auth("admin");
    reader = await t.auth("reader");
  });
  afterAll(async () => t?.close());

  const post = async (message: Envelope) => {
    const res = await t.app.inject({ method: "POST", url: "/api/v1/events", payload: message as unknown as object, headers: admin });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json() as { status: string; reason: string };
  };

  it("counts agreed, disagreed and undecidable tickets, lists the disagreements, and /metrics reads the same from the store", async () => {
    // Approved by relengd, processed by the bot: agreed.
    const a = branchTicket(101, "f44");
    await post(scmTicketMessage({ ...a, id: uniq("new") }));
    await post(scmTicketMessage({ ...a, id: uniq("done"), topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot" }));
    // Approved by relengd, denied by the bot: disagreed.
    const d = branchTicket(102, "f43");
    await post(scmTicketMessage({ ...d, id: uniq("new") }));
    await post(scmTicketMessage({ ...d, id: uniq("denied"), topic: "pagure.issue.comment.added", status: "Denied", agent: "releng-bot", comments: [{ id: 5, user: "releng-bot", comment: "no, thanks" }] }));
    // No JSON at all: undecidable.
    const prose = { ticketId: 103, title: "A question", content: "How do I ask for a branch?", author: "jdoe" };
    await post(scmTicketMessage({ ...prose, id: uniq("new") }));
    const closed = await post(scmTicketMessage({ ...prose, id: uniq("closed"), topic: "pagure.issue.comment.added", status: "Invalid", agent: "kevin", comments: [{ id: 6, user: "kevin", comment: "see the docs" }] }));
    expect(closed.status).toBe("ignored");

    const res = await t.app.inject({ method: "GET", url: "/api/v1/shadow/agreement", headers: reader });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { totals: Record<string, number>; counts: unknown[]; disagreements: { ticketId: number; branch: string; relengd: string; bot: string }[] };
    expect(body.totals).toEqual({ agreed: 1, disagreed: 1, undecidable: 1 });
    expect(body.counts).toEqual([
      { kind: "BranchRequest", outcome: "agreed", count: 1 },
      { kind: "BranchRequest", outcome: "disagreed", count: 1 },
      { kind: "none", outcome: "undecidable", count: 1 },
    ]);
    expect(body.disagreements).toEqual([expect.objectContaining({ ticketId: 102, branch: "mr/scm-102", bot: "Denied by releng-bot: no, thanks", relengd: expect.stringMatching(/^approved/) })]);

    // since: the closing messages were sent 2026-05-01.
    const later = await t.app.inject({ method: "GET", url: "/api/v1/shadow/agreement?since=2026-06-01T00:00:00Z", headers: reader });
    expect(later.json()).toMatchObject({ since: "2026-06-01T00:00:00.000Z", totals: { agreed: 0, disagreed: 0, undecidable: 0 }, counts: [], disagreements: [] });
    const bad = await t.app.inject({ method: "GET", url: "/api/v1/shadow/agreement?since=yesterday", headers: reader });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    expect(bad.body).toContain("since");
    expect((await t.app.inject({ method: "GET", url: "/api/v1/shadow/agreement" })).statusCode).toBe(401);

    const metrics = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(sample(metrics, "relengd_shadow_agreement_total", { kind: "BranchRequest", outcome: "agreed" })).toBe(1);
    expect(sample(metrics, "relengd_shadow_agreement_total", { kind: "BranchRequest", outcome: "disagreed" })).toBe(1);
    expect(sample(metrics, "relengd_shadow_agreement_total", { kind: "BranchRequest", outcome: "undecidable" })).toBe(0);
    expect(sample(metrics, "relengd_shadow_agreement_total", { kind: "none", outcome: "undecidable" })).toBe(1);

    // Another replica (or this one restarted) with a fresh registry reads the same counts.
    const other = await buildApp({ ...appDepsOf(t), logger: pino({ level: "silent" }) });
    try {
      const again = (await other.inject({ method: "GET", url: "/metrics" })).body;
      expect(sample(again, "relengd_shadow_agreement_total", { kind: "BranchRequest", outcome: "agreed" })).toBe(1);
      expect(sample(again, "relengd_shadow_agreement_total", { kind: "none", outcome: "undecidable" })).toBe(1);
    } finally {
      await other.close();
    }
  });
});
