// `relengd request agreement` as a child process against a composed app: scm tickets posted as bus
// messages, the agreement read back as a table and as JSON.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";
import { runRelengd, type CliRun } from "../support/cliProcess.js";
import { scmTicketMessage } from "../support/scmTickets.js";
import { cleanEnv } from "../support/serverProcess.js";

let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;

describe("relengd request agreement", () => {
  let t: TestApp;
  let url: string;
  let reader: string;
  const relengd = (args: string[]): Promise<CliRun> => runRelengd(["request", "agreement", ...args], { ...cleanEnv(), RELENGD_URL: url, RELENGD_TOKEN: reader });

  beforeAll(async () => {
    t = await startTestApp("sqlite", { writer: { pollMs: 3_600_000 }, requests: { pollMs: 3_600_000 } });
    await t.application.requests?.facts.refresh();
    const admin = await t.auth("admin");
    reader = (await t.auth("reader")).authorization.replace(/^Bearer /, "");
    const post = async (m: ReturnType<typeof scmTicketMessage>) => expect((await t.app.inject({ method: "POST", url: "/api/v1/events", payload: m as unknown as object, headers: admin })).statusCode).toBeLessThan(300);
    const ticket = (ticketId: number, branch: string) => ({
      ticketId,
      title: `New Branch "${branch}" for "rpms/nethack"`,
      content: "```\n" + JSON.stringify({ action: "new_branch", branch, namespace: "rpms", repo: "nethack", create_git_branch: true }, null, 1) + "\n```",
      author: "jdoe",
    });
    await post(scmTicketMessage({ ...ticket(11, "f44"), id: uniq("new") }));
    await post(scmTicketMessage({ ...ticket(11, "f44"), id: uniq("done"), topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot" }));
    await post(scmTicketMessage({ ...ticket(12, "f43"), id: uniq("new") }));
    await post(scmTicketMessage({ ...ticket(12, "f43"), id: uniq("denied"), topic: "pagure.issue.comment.added", status: "Denied", agent: "releng-bot", comments: [{ id: 1, user: "releng-bot", comment: "Refused\nfor a reason" }] }));
    url = await t.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => t?.close());

  it("prints the totals, the counts by kind and the disagreements with both sides", async () => {
    const run = await relengd([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^1 agreed, 1 disagreed, 0 undecidable\n/);
    expect(run.stdout).toMatch(/BranchRequest +agreed +1/);
    expect(run.stdout).toContain("ticket 12 (mr/scm-12) BranchRequest distgit/branches/rpms/nethack/f43.yaml");
    expect(run.stdout).toContain("  bot:     Denied by releng-bot: Refused for a reason");
    expect(run.stdout).toMatch(/ {2}relengd: approved: /);
  });

  it("--since and --output json", async () => {
    const json = await relengd(["--since", "2026-04-01T00:00:00Z", "--output", "json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ since: "2026-04-01T00:00:00.000Z", totals: { agreed: 1, disagreed: 1, undecidable: 0 } });
    const later = await relengd(["--since", "2026-06-01T00:00:00Z", "--output", "json"]);
    expect(JSON.parse(later.stdout)).toMatchObject({ totals: { agreed: 0, disagreed: 0, undecidable: 0 }, disagreements: [] });
    const bad = await relengd(["--since", "last tuesday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since must be an ISO time");
  });
});
