// Gating as Greenwave does it, over the API and the bus: the latest result per (testcase,
// scenario) decides, and waivers (made here, or WaiverDB's on the bus) waive a failed or missing
// result; both run the policies again. The shipped rawhide-auto policy gates on tier0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Envelope } from "../../src/domain/envelope.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { ciTestMessage, fixtureJson } from "../support/fedoraMessages.js";

const TIER0 = "fedora-ci.koji-build.tier0.functional";
let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;

type Headers = { authorization: string };

describe.each(testProviders)("gating and waivers on %s", (provider) => {
  let t: TestApp;
  let ci: Headers;
  let releaser: Headers;
  let admin: Headers;
  let reader: Headers;

  beforeAll(async () => {
    // The writer never runs: these tests look at decisions and queued releases.
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
    ci = await t.auth("ci");
    releaser = await t.auth("releaser");
    admin = await t.auth("admin");
    reader = await t.auth("reader");
  });
  afterAll(async () => t?.close());

  /** A Rawhide build the rawhide-auto policy gates on tier0; with a hold, a met gate shows as "held" instead of a release. */
  async function gatedArtifact(opts: { items?: unknown[]; hold?: boolean } = {}): Promise<{ id: string; nvr: string; pkg: string }> {
    const pkg = `gated${++counter}`;
    const nvr = `${pkg}-1.0-1.fc45`;
    const artifact = sampleArtifact({ id: uniq("gated"), package: pkg, release: "rawhide" });
    artifact.source = { ...artifact.source, branch: "rawhide", event: "build" };
    artifact.items = [{ kind: "koji-build", nvr }, ...((opts.items ?? []) as NonNullable<typeof artifact.items>)];
    if (opts.hold) {
      const held = await t.app.inject({ method: "POST", url: "/api/v1/holds", payload: { environment: "rawhide", package: pkg, reason: "watching the gate" }, headers: releaser });
      expect(held.statusCode, held.body).toBe(201);
    }
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: ci });
    expect(res.statusCode, res.body).toBe(201);
    return { id: artifact.id, nvr, pkg };
  }

  const append = (id: string, results: object[]) => t.app.inject({ method: "POST", url: `/api/v1/artifacts/${id}/results`, payload: { results }, headers: ci });
  const waive = (id: string, body: object, headers: Headers = releaser) => t.app.inject({ method: "POST", url: `/api/v1/artifacts/${id}/waivers`, payload: body, headers });
  const lastDecision = async (id: string) => {
    const items = (await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${id}/decisions`, headers: reader })).json().items as { policy: string; fired: boolean; reason: string | null; event: string }[];
    return items.filter((d) => d.policy === "rawhide-auto").at(-1);
  };
  const releasesOf = async (id: string) => (await t.app.inject({ method: "GET", url: `/api/v1/releases?artifactId=${id}`, headers: reader })).json().items as { environment: string; trigger: string }[];

  it("fires once a re-run with a new refUrl PASSED after a FAILED run (the reported case)", async () => {
    const a = await gatedArtifact();
    expect((await append(a.id, [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/1" }])).statusCode).toBe(201);
    expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
    expect((await append(a.id, [{ kind: "ci-result", testcase: TIER0, outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/2" }])).statusCode).toBe(201);
    expect(await lastDecision(a.id)).toMatchObject({ fired: true, reason: null, event: "results" });
    expect(await releasesOf(a.id)).toMatchObject([{ environment: "rawhide", trigger: "policy/rawhide-auto" }]);
  });

  it("does not let a result older by its submittedAt replace the outcome recorded for its refUrl", async () => {
    const a = await gatedArtifact({ hold: true });
    const url = "https://artifacts.dev.testing-farm.io/3";
    await append(a.id, [{ kind: "ci-result", testcase: TIER0, outcome: "PASSED", refUrl: url, submittedAt: "2026-11-25T10:05:00Z" }]);
    const late = await append(a.id, [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: url, submittedAt: "2026-11-25T10:01:00+00:00" }]);
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({ added: 0, updated: 0, unchanged: 0, stale: 1, results: [{ outcome: "PASSED", submittedAt: "2026-11-25T10:05:00.000Z" }] });
  });

  it("refuses a submittedAt that is not an RFC 3339 time with 400 naming the field, and appends nothing", async () => {
    const a = await gatedArtifact();
    const res = await append(a.id, [{ kind: "ci-result", testcase: TIER0, outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/4", submittedAt: "yesterday" }]);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain("/results/0/submittedAt");
    expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: reader })).json().results).toEqual([]);
  });

  it("over the bus: a redelivered older result (earlier sent-at, other run) does not override the newer one", async () => {
    const a = await gatedArtifact({ hold: true });
    const newer = ciTestMessage({ id: uniq("rerun"), nvr: a.nvr, result: "passed" });
    newer.headers = { "sent-at": "2026-11-25T10:05:00+00:00" };
    const older = ciTestMessage({ id: uniq("first"), nvr: a.nvr, result: "failed" });
    older.headers = { "sent-at": "2026-11-25T10:01:00+00:00" };
    const post = (m: Envelope) => t.app.inject({ method: "POST", url: "/api/v1/events", payload: m, headers: admin });
    expect((await post(newer)).json()).toMatchObject({ status: "accepted", artifactId: a.id });
    // Requirements met, the hold stops the release: the decision says so.
    expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `rawhide/${a.pkg} is held: watching the gate` });
    expect((await post(older)).json()).toMatchObject({ status: "accepted", artifactId: a.id });
    expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `rawhide/${a.pkg} is held: watching the gate` });
    // Redelivered with the same id: a duplicate, not applied again.
    expect((await post(older)).json()).toMatchObject({ outcome: "duplicate" });
  });

  describe("waivers made through the API", () => {
    it("waives a failed required result: 201, the policies run again and the decision says who waived and why", async () => {
      const a = await gatedArtifact({ items: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/9" }] });
      expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
      const res = await waive(a.id, { testcase: TIER0, comment: "infrastructure flake, see releng#1234" });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ artifactId: a.id, nvr: null, testcase: TIER0, waived: true, username: "test-releaser", source: "api", inForce: true });
      expect(res.json()).not.toHaveProperty("environments");
      expect(await lastDecision(a.id)).toMatchObject({
        fired: true,
        event: "waiver",
        reason: `required testcase ${TIER0} is FAILED; waived by test-releaser: infrastructure flake, see releng#1234`,
      });
      expect(await releasesOf(a.id)).toMatchObject([{ environment: "rawhide" }]);
      const listed = await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}/waivers`, headers: reader });
      expect(listed.statusCode).toBe(200);
      expect(listed.json().items).toMatchObject([{ testcase: TIER0, comment: "infrastructure flake, see releng#1234", inForce: true }]);
    });

    it("waives a missing required result", async () => {
      const a = await gatedArtifact();
      expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: "required testcase fedora-ci.koji-build.tier0.* has no result yet" });
      expect((await waive(a.id, { testcase: TIER0, comment: "tier0 does not run for this package" })).statusCode).toBe(201);
      expect(await lastDecision(a.id)).toMatchObject({ fired: true, reason: expect.stringContaining("has no result; waived by test-releaser: tier0 does not run for this package") });
    });

    it("is revoked by waived: false, and the policies decide again", async () => {
      const a = await gatedArtifact({ hold: true, items: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/10" }] });
      await waive(a.id, { testcase: TIER0, comment: "flake" });
      expect(await lastDecision(a.id)).toMatchObject({ reason: `rawhide/${a.pkg} is held: watching the gate` });
      const revoked = await waive(a.id, { testcase: TIER0, comment: "not a flake after all", waived: false });
      expect(revoked.statusCode).toBe(201);
      expect(revoked.json()).toMatchObject({ waived: false, inForce: false });
      expect(await lastDecision(a.id)).toMatchObject({ fired: false, event: "waiver", reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
      const listed = (await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}/waivers`, headers: reader })).json().items;
      expect(listed.map((w: { waived: boolean; inForce: boolean }) => [w.waived, w.inForce])).toEqual([
        [true, false],
        [false, false],
      ]);
    });

    it("acts only on releases to the environments a token is scoped to", async () => {
      const a = await gatedArtifact({ items: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/11" }] });
      const f44Only = await t.auth("releaser", { environments: ["f44-*"] });
      const res = await waive(a.id, { testcase: TIER0, comment: "fine for f44" }, f44Only);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ environments: ["f44-*"] });
      // rawhide-auto releases to rawhide, outside the waiver's environments: still gated.
      expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
      expect(await releasesOf(a.id)).toEqual([]);
    });

    it("refuses a ci token and a package outside the token's scope (403), an unknown artifact (404) and bad bodies (400 naming the field)", async () => {
      const a = await gatedArtifact();
      const byCi = await waive(a.id, { testcase: TIER0, comment: "x" }, ci);
      expect(byCi.statusCode).toBe(403);
      expect(byCi.json().detail).toContain("needs releaser");
      const scoped = await waive(a.id, { testcase: TIER0, comment: "x" }, await t.auth("releaser", { packages: ["python-*"] }));
      expect(scoped.statusCode).toBe(403);
      expect(scoped.json().detail).toContain(`scoped to packages python-* and may not touch ${a.pkg}`);
      const missing = await waive("no-such-artifact", { testcase: TIER0, comment: "x" });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers["content-type"]).toContain("application/problem+json");
      for (const [body, path] of [
        [{ testcase: TIER0 }, "/comment"],
        [{ testcase: "not a testcase", comment: "x" }, "/testcase"],
        [{ testcase: TIER0, comment: "" }, "/comment"],
        [{ testcase: TIER0, comment: "x", waived: "yes" }, "/waived"],
        [{ testcase: TIER0, comment: "x", extra: 1 }, "/extra"],
        [{ testcase: TIER0, comment: "x\ud83dy" }, "/comment"],
      ] as const) {
        const res = await waive(a.id, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
      }
      // Nothing was recorded by the refused requests.
      expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}/waivers`, headers: reader })).json().items).toEqual([]);
      expect((await t.app.inject({ method: "GET", url: "/api/v1/artifacts/no-such-artifact/waivers", headers: reader })).statusCode).toBe(404);
    });
  });

  describe("WaiverDB waivers from the bus (waiverdb.waiver.new)", () => {
    /** The real message shape (test/fixtures), about another build. */
    function waiverMessage(nvr: string, over: Record<string, unknown> = {}, sentAt = "2026-11-25T11:00:00+00:00"): Envelope {
      const fixture = fixtureJson("waiverdb.waiver.new/000.json") as unknown as Envelope;
      return {
        id: uniq("waiver"),
        topic: fixture.topic,
        headers: { "sent-at": sentAt },
        body: { ...fixture.body, subject_identifier: nvr, subject: { item: nvr, type: "koji_build" }, ...over },
      };
    }
    const post = (m: Envelope) => t.app.inject({ method: "POST", url: "/api/v1/events", payload: m, headers: admin });

    it("waives the failed result of every artifact carrying the build, and the policies run again", async () => {
      const a = await gatedArtifact({ items: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/12" }] });
      const res = await post(waiverMessage(a.nvr));
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ status: "accepted", artifactId: a.id, reason: expect.stringContaining(`waiver of ${TIER0} for ${a.nvr} recorded (waived by ralph: This is fine.)`) });
      expect(await lastDecision(a.id)).toMatchObject({ fired: true, event: "waiver", reason: `required testcase ${TIER0} is FAILED; waived by ralph: This is fine.` });
      const listed = (await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}/waivers`, headers: reader })).json().items;
      expect(listed).toMatchObject([{ nvr: a.nvr, artifactId: null, source: "waiverdb", username: "ralph", waivedAt: "2026-11-25T11:00:00.000Z", inForce: true }]);
    });

    it("is revoked by a later waived: false, but not by an older one delivered late", async () => {
      const a = await gatedArtifact({ hold: true, items: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/13" }] });
      await post(waiverMessage(a.nvr));
      expect(await lastDecision(a.id)).toMatchObject({ reason: `rawhide/${a.pkg} is held: watching the gate` });
      await post(waiverMessage(a.nvr, { waived: false, comment: "revoked" }, "2026-11-25T10:00:00+00:00"));
      expect(await lastDecision(a.id)).toMatchObject({ reason: `rawhide/${a.pkg} is held: watching the gate` });
      await post(waiverMessage(a.nvr, { waived: false, comment: "revoked" }, "2026-11-25T12:00:00+00:00"));
      expect(await lastDecision(a.id)).toMatchObject({ fired: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
    });

    it("applies to an artifact pushed after the waiver arrived", async () => {
      const pkg = `later${++counter}`;
      const nvr = `${pkg}-2.0-1.fc45`;
      expect((await post(waiverMessage(nvr))).json()).toMatchObject({ status: "accepted", artifactId: null, reason: expect.stringContaining(`no artifact carries ${nvr} yet`) });
      const artifact = sampleArtifact({ id: uniq("later"), package: pkg, release: "rawhide" });
      artifact.source = { ...artifact.source, branch: "rawhide", event: "build" };
      artifact.items = [{ kind: "koji-build", nvr }, { kind: "ci-result", testcase: TIER0, outcome: "FAILED", refUrl: "https://artifacts.dev.testing-farm.io/14" }];
      expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: artifact, headers: ci })).statusCode).toBe(201);
      expect(await lastDecision(artifact.id)).toMatchObject({ fired: true, event: "artifact", reason: `required testcase ${TIER0} is FAILED; waived by ralph: This is fine.` });
    });
  });
});
