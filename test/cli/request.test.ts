// `relengd request …` as child processes against the request routes served in-process (real store,
// FakeRequestService for submit's outcomes: the real use cases are wired by composeApplication).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";
import { runRelengd, type CliRun } from "../support/cliProcess.js";
import { branchRequest, branchRequestYaml, requestApp, type RequestTestApp } from "../support/requestApp.js";
import { cleanEnv } from "../support/serverProcess.js";

const ID = "[0-9A-HJKMNP-TV-Z]{26}";

describe("relengd request against a running server", () => {
  let t: TestApp;
  let r: RequestTestApp;
  let url: string;
  let dir: string;
  let ci: string;
  let releaser: string;
  let file: string;

  const token = async (role: "ci" | "releaser") => (await t.auth(role)).authorization.replace(/^Bearer /, "");
  const relengd = (args: string[], as = releaser): Promise<CliRun> => runRelengd(["request", ...args], { ...cleanEnv(), RELENGD_URL: url, RELENGD_TOKEN: as });
  /** Makes the next submit record this request (as the real use case would after judging it). */
  const submitRecords = (overrides: Parameters<typeof branchRequest>[2]) => {
    r.service.nextSubmit = async (principal) => {
      const { record } = await r.requests.record(branchRequest("python-requests", "f44", { source: "api", author: principal.subject, verified: true, ...overrides }));
      return { status: "recorded", request: record, created: true };
    };
  };

  beforeAll(async () => {
    t = await startTestApp("sqlite", { writer: { pollMs: 3_600_000 } });
    r = await requestApp(t);
    url = await r.app.listen({ host: "127.0.0.1", port: 0 });
    ci = await token("ci");
    releaser = await token("releaser");
    dir = mkdtempSync(path.join(tmpdir(), "relengd-request-cli-"));
    file = path.join(dir, "f44.yaml");
    writeFileSync(file, branchRequestYaml("python-requests", "f44"));
  });
  afterAll(async () => {
    await r?.app.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("submit", () => {
    it("sends the file and prints the request's status, author and reasons; exit 0 when it waits for review", async () => {
      submitRecords({ status: "needs-review", reasons: ["no approval policy approves distgit/branches/rpms/python-requests/f44.yaml: authorAccess is unknown"] });
      const run = await relengd(["submit", file], ci);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^needs-review ${ID}: distgit/branches/rpms/python-requests/f44.yaml \\(BranchRequest\\) by test-ci, verified\n  no approval policy approves`));
      expect(r.service.submitted.at(-1)?.text).toBe(branchRequestYaml("python-requests", "f44"));
    });

    it("--path sends where the document goes (a CalendarEntry's calendar is in it)", async () => {
      submitRecords({ status: "needs-review", reasons: ["waits"] });
      const run = await relengd(["submit", file, "--path", "calendar/council/2026-12-09-fesco.yaml"], ci);
      expect(run.code, run.stderr).toBe(0);
      expect(r.service.submitted.at(-1)?.path).toBe("calendar/council/2026-12-09-fesco.yaml");
      const without = await relengd(["submit", file], ci);
      expect(without.code, without.stderr).toBe(0);
      expect(r.service.submitted.at(-1)?.path).toBeUndefined();
    });

    it("--output json prints the request; a denied answer exits 1 even without --wait", async () => {
      submitRecords({ status: "denied", reasons: ["RHEL 9 ships python-requests"] });
      const run = await relengd(["submit", file, "--output", "json"], ci);
      expect(run.code).toBe(1);
      const body = JSON.parse(run.stdout);
      expect(body).toMatchObject({ status: "denied", reasons: ["RHEL 9 ships python-requests"], documents: [{ path: "distgit/branches/rpms/python-requests/f44.yaml" }] });
      expect(run.stderr).toContain(`request ${body.id} is denied`);
    });

    it("--wait follows an approved request until it is merged: exit 0, the merge commit printed", async () => {
      let id = "";
      r.service.nextSubmit = async (principal) => {
        const { record } = await r.requests.record(branchRequest("python-requests", "f44", { source: "api", author: principal.subject, verified: true, status: "approved", approvedBy: "policy/branch-by-maintainer", reasons: [] }));
        id = record.id;
        // Merged while the CLI polls, as the writer would.
        setTimeout(() => void r.requests.markMerged(id, "e".repeat(40)), 300);
        return { status: "recorded", request: record, created: true };
      };
      const run = await relengd(["submit", file, "--wait", "--timeout", "60s"], ci);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`approved ${id}:`);
      expect(run.stdout).toContain(`merged ${id}:`);
      expect(run.stdout).toContain(`  merged as ${"e".repeat(40)}`);
    });

    it("--wait ends with exit 6 at needs-review, exit 1 at denied, exit 5 when time runs out", async () => {
      submitRecords({ status: "needs-review", reasons: ["a new package needs a package review: bug 2250001"] });
      const review = await relengd(["submit", file, "--wait"], ci);
      expect(review.code).toBe(6);
      expect(review.stderr).toContain("needs-review: a new package needs a package review: bug 2250001");

      submitRecords({ status: "denied", reasons: ["base tag f30-build is not allowed"] });
      const denied = await relengd(["submit", file, "--wait", "--output", "json"], ci);
      expect(denied.code).toBe(1);
      expect(JSON.parse(denied.stdout).status).toBe("denied");

      submitRecords({ status: "approved", approvedBy: "policy/branch-by-maintainer", reasons: [] });
      const stuck = await relengd(["submit", file, "--wait", "--timeout", "1s"], ci);
      expect(stuck.code).toBe(5);
      expect(stuck.stderr).toContain("it is still approved");
    });

    it("prints each lint problem as path:line: /field message and exits 1", async () => {
      r.service.nextSubmit = () => Promise.resolve({ status: "invalid", problems: [{ path: "distgit/branches/rpms/python-requests/f44.yaml", line: 6, field: "/spec/branch", message: "must be a branch name" }] });
      const run = await relengd(["submit", file], ci);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("distgit/branches/rpms/python-requests/f44.yaml:6: /spec/branch must be a branch name");
    });

    it("refuses a missing, huge or non-UTF-8 file, --timeout without --wait and a bad --output before any request (exit 2)", async () => {
      const before = r.service.submitted.length;
      const huge = path.join(dir, "huge.yaml");
      writeFileSync(huge, "#".repeat(600 * 1024));
      const latin1 = path.join(dir, "latin1.yaml");
      writeFileSync(latin1, Buffer.from("spec: {summary: Zoë}\n", "latin1"));
      for (const args of [["submit", path.join(dir, "nope.yaml")], ["submit", huge], ["submit", latin1], ["submit", file, "--timeout", "5s"], ["submit", file, "--output", "yaml"]]) {
        const run = await relengd(args, ci);
        expect(run.code, args.join(" ")).toBe(2);
      }
      expect(r.service.submitted.length).toBe(before);
    });
  });

  describe("list, show, explain, approve, deny", () => {
    let reviewId: string;

    beforeAll(async () => {
      reviewId = (await r.requests.record(branchRequest("tmux", "f44", { author: "jdoe" }))).record.id;
    });

    it("lists with filters as a table or JSON", async () => {
      const table = await relengd(["list", "--author", "jdoe", "--status", "needs-review"]);
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^ID\s+STATUS\s+KIND\s+PATH\s+AUTHOR\s+VERIFIED\s+APPROVED BY\s+MERGE\s+SEEN$/);
      expect(lines.slice(1).join("\n")).toContain(`${reviewId}  needs-review  BranchRequest  distgit/branches/rpms/tmux/f44.yaml  jdoe`);
      const json = await relengd(["list", "--author", "jdoe", "--output", "json"]);
      expect(JSON.parse(json.stdout).items.map((i: { id: string }) => i.id)).toContain(reviewId);
      expect((await relengd(["list", "--status", "pending"])).code).toBe(2);
    });

    it("shows a request with its document", async () => {
      const run = await relengd(["show", reviewId]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`needs-review ${reviewId}: distgit/branches/rpms/tmux/f44.yaml (BranchRequest) by jdoe, unverified`);
      expect(run.stdout).toContain(`--- distgit/branches/rpms/tmux/f44.yaml (BranchRequest)\n${branchRequestYaml("tmux", "f44")}`);
      expect(JSON.parse((await relengd(["show", reviewId, "--output", "json"])).stdout).documents[0].content).toBe(branchRequestYaml("tmux", "f44"));
      expect((await relengd(["show", "not-an-id"])).code).toBe(2);
    });

    it("shows what a pusher wrote (a claimed author name, a reason) with control characters escaped", async () => {
      const id = (await r.requests.record(branchRequest("htop", "f44", { author: "evil\u001b]0;owned\u0007", reasons: ["red \u001b[31mtext\u009b"] }))).record.id;
      for (const args of [["show", id], ["list", "--limit", "1"]]) {
        const run = await relengd(args);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
        expect(run.stdout).toContain("evil\\u001b]0;owned\\u0007");
      }
      expect((await relengd(["show", id])).stdout).toContain("red \\u001b[31mtext\\u009b");
    });

    it("explains each policy's outcome, each condition true, false or unknown with its detail", async () => {
      const run = await relengd(["explain", reviewId]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain("branch-by-maintainer on distgit/branches/rpms/tmux/f44.yaml: unmet (a maintainer with commit access may branch)\n");
      expect(run.stdout).toContain("  false    verifiedAuthor: the commits are not signed\n");
      expect(run.stdout).toContain("  unknown  authorAccess: packageAccess facts are not loaded\n");
      expect(run.stdout).toContain("  true     releaseBranch: f44 is a release branch\n");
      const json = JSON.parse((await relengd(["explain", reviewId, "--output", "json"])).stdout);
      expect(json.request.id).toBe(reviewId);
      expect(json.decisions[0].conditions[1]).toEqual({ name: "authorAccess", value: "unknown", detail: "packageAccess facts are not loaded" });
    });

    it("approves with a reason; a second approval is refused (exit 1, the 409's words); a ci token may not decide", async () => {
      const refused = await relengd(["approve", reviewId, "--reason", "tmux maintainers agree"], ci);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("403");
      const run = await relengd(["approve", reviewId, "--reason", "tmux maintainers agree"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`approved ${reviewId}:`);
      expect(run.stdout).toContain("  approved by user:test-releaser");
      const again = await relengd(["approve", reviewId, "--reason", "twice", "--output", "json"]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("409");
      expect(again.stderr).toContain("is approved");
      const denied = await relengd(["deny", reviewId, "--reason", "changed our mind", "--output", "json"]);
      expect(denied.code, denied.stderr).toBe(0);
      expect(JSON.parse(denied.stdout)).toMatchObject({ status: "denied", decidedBy: "user:test-releaser", decisionReason: "changed our mind" });
      expect((await relengd(["deny", reviewId])).code).not.toBe(0);
    });
  });
});
