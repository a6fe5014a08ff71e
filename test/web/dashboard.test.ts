// The web dashboard end to end in headless Chromium: sign in with a token, every page, an NVR
// search followed to its release and trailers, live updates of the overview and of a tracked
// release, keyboard use; nothing is loaded from anywhere but relengd. Screenshots go to
// test-output/screenshots/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { chromium, type BrowserContext, type Page, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { Writer } from "../../src/gitops/writer.js";
import { anonymousReadApp, rawhideBuild, seed, type Seeded } from "./seed.js";

const CHROMIUM = "/usr/bin/chromium";

// The page's globals, typed just enough for the functions run in it: this project type-checks
// for Node, without the DOM library. (Strings would not do: the page's CSP forbids eval.)
interface PageElement {
  id: string;
  tagName: string;
  textContent: string | null;
  outerHTML: string;
  labels?: { length: number } | null;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): Iterable<PageElement>; activeElement: PageElement | null };
declare const location: { hash: string };
declare function getComputedStyle(el: unknown): { backgroundColor: string; outlineStyle: string };
const SCREENSHOTS = path.resolve(__dirname, "../../test-output/screenshots");
// Chromium as Debian ships it, with nothing that phones home.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("web dashboard in Chromium", () => {
  let s: Seeded;
  let base: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  /** Requests that went anywhere but this server (there must be none). */
  const foreign: string[] = [];
  /** Console errors and uncaught exceptions (a CSP violation shows up here too). */
  const problems: string[] = [];

  beforeAll(async () => {
    s = await seed("sqlite");
    base = await s.t.app.listen({ host: "127.0.0.1", port: 0 });
    profile = mkdtempSync(path.join(tmpdir(), "relengd-chromium-"));
    mkdirSync(SCREENSHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 900 } });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith("data:")) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page: ${err.message}`));
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await s?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Drops the expected console errors (a 401 while signing in, a 503 made on purpose). */
  const forget = (pattern: RegExp) => {
    const kept = problems.filter((p) => !pattern.test(p));
    problems.splice(0, problems.length, ...kept);
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const tile = (status: string) => page.locator(`[data-stat="${status}"]`);
  /** Resolves once the page shows the route in the address bar (data-rendered is set after each render). */
  const settled = (p: Page = page) =>
    p.waitForFunction(() => {
      const main = document.querySelector("main");
      return main?.getAttribute("data-rendered") === location.hash && !main.hasAttribute("aria-busy");
    });

  it("asks for a token, then shows the overview: queues, the last day, freezes, holds, the bus", async () => {
    await page.goto(base + "/");
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.getByLabel("Access token").fill("not-a-token");
    await page.getByRole("button", { name: "Use this token" }).click();
    await page.getByRole("alert").filter({ hasText: "The server refused this token" }).waitFor();
    // The 401s are expected: that is how the page learns this server needs a token, and that one is bad.
    forget(/status of 401/);
    await page.getByLabel("Access token").fill(s.reader.authorization.replace(/^Bearer /, ""));
    await page.getByRole("button", { name: "Use this token" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect(await page.locator("#session").innerText()).toContain("Signed in with a token");

    expect(await tile("pushed").innerText()).toBe("3");
    expect(await tile("failed").innerText()).toBe("1");
    expect(await tile("blocked").innerText()).toBe("1");
    expect(await page.locator('[data-queue-depth="ghost-repo/main"]').innerText()).toBe("1");
    const freezes = page.getByRole("region", { name: "Active and upcoming freezes" });
    expect(await freezes.innerText()).toContain(s.activeFreeze.reason);
    expect(await freezes.innerText()).toContain("frozen now");
    expect(await page.getByRole("region", { name: "Holds on packages" }).innerText()).toContain("regression in 2.2.40");
    expect(await page.getByRole("heading", { level: 2, name: "Message bus" }).count()).toBe(1);
    // The latest releases name the build, not only the package.
    const latest = page.getByRole("region", { name: "Latest releases" });
    const newest = s.pushed[2] as Seeded["pushed"][number];
    expect(await latest.locator(`[data-latest-release="${newest.releaseId}"]`).innerText()).toBe(newest.nvr);
    // A blocked one says why beside its status.
    expect(await latest.innerText()).toContain("environment retired is no longer declared");
    await shot("overview");
  });

  it("updates the overview live when a new build is pushed", async () => {
    const a = rawhideBuild("coreutils", "9.6");
    const res = await s.t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: s.ci });
    expect(res.statusCode).toBe(201);
    await s.t.writer.idle();
    // No reload: the page polls every 5 s.
    await page.waitForFunction(() => document.querySelector('[data-stat="pushed"]')?.textContent === "4", undefined, { timeout: 15_000 });
    expect(await page.getByRole("region", { name: "Latest releases" }).innerText()).toContain("coreutils");
    // A failed refresh keeps what is shown and says since when it is stale.
    const failing = (route: Route) => route.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ status: 503, title: "Service unavailable", detail: "the database does not answer right now; retry later" }) });
    await page.route("**/api/v1/overview", failing);
    try {
      await page.locator(".live .warn-text", { hasText: "Not updated since" }).waitFor({ timeout: 15_000 });
      expect(await tile("pushed").innerText()).toBe("4");
    } finally {
      await page.unroute("**/api/v1/overview", failing);
    }
    // Chromium logs each refused request; those were the point here.
    forget(/status of 503/);
    await page.locator(".live", { hasText: "Updated" }).waitFor({ timeout: 15_000 });
  });

  it("finds an artifact by NVR and follows it to its release, its trailers and its document", async () => {
    const newest = s.pushed[2] as Seeded["pushed"][number];
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Artifacts" }).click();
    await page.getByRole("heading", { level: 1, name: "Artifacts" }).waitFor();
    await page.getByLabel("NVR").fill(newest.nvr);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForFunction(() => location.hash.includes("nvr="));
    await settled();
    expect(await page.getByRole("heading", { level: 2, name: "Matching artifacts" }).count()).toBe(1);
    const rows = page.getByRole("region", { name: "Artifacts" }).locator("tbody tr");
    expect(await rows.count()).toBe(1);
    await rows.getByRole("link", { name: newest.artifact.id }).click();

    await page.getByRole("heading", { level: 1, name: `Artifact ${newest.artifact.id}` }).waitFor();
    const results = page.getByRole("region", { name: "CI results" });
    expect(await results.innerText()).toContain("fedora-ci.koji-build.tier0.functional");
    expect(await results.locator(".badge.tone-ok", { hasText: "PASSED" }).count()).toBe(1);
    const decisions = page.getByRole("region", { name: "Policy decisions" });
    expect(await decisions.innerText()).toContain("rawhide-auto");
    expect(await decisions.innerText()).toContain("fired");
    await shot("artifact");

    await page.getByRole("region", { name: "Releases of this artifact" }).getByRole("link", { name: "rawhide" }).click();
    await page.getByRole("heading", { level: 1, name: `Release ${newest.releaseId}` }).waitFor();
    const trailers = page.locator("dl.trailers");
    await trailers.waitFor();
    const text = await trailers.innerText();
    expect(text).toContain(`Relengd-Release-Id\n${newest.releaseId}`);
    expect(text).toContain(`Relengd-Artifact-Id\n${newest.artifact.id}`);
    expect(text).toContain("Relengd-Trigger\npolicy/rawhide-auto");
    expect(text).toContain(`Relengd-Nvr\n${newest.nvr}`);
    expect(await page.locator("pre.document").innerText()).toContain(`nvr: ${newest.nvr}`);
    expect(await page.locator("ol.timeline").innerText()).toMatch(/decided[\s\S]*queued[\s\S]*pushed/);
    expect(await page.locator(".live").innerText()).toContain("Final state: pushed");
    await shot("release");
  });

  it("shows failed CI results in red beside passed ones in green, and why the policy skipped", async () => {
    await page.goto(`${base}/#/artifacts/${encodeURIComponent(s.failing.id)}`);
    await page.getByRole("heading", { level: 1, name: `Artifact ${s.failing.id}` }).waitFor();
    const failed = page.getByRole("region", { name: "CI results" }).locator(".badge", { hasText: "FAILED" });
    const failedColour = await failed.evaluate((el) => getComputedStyle(el).backgroundColor);
    await page.goto(`${base}/#/artifacts/${encodeURIComponent((s.pushed[0] as Seeded["pushed"][number]).artifact.id)}`);
    await settled();
    const passed = page.getByRole("region", { name: "CI results" }).locator(".badge", { hasText: "PASSED" });
    const passedColour = await passed.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(failedColour).not.toBe(passedColour);
    await page.goto(`${base}/#/artifacts/${encodeURIComponent(s.failing.id)}`);
    await settled();
    const decisions = page.getByRole("region", { name: "Policy decisions" });
    expect(await decisions.innerText()).toMatch(/skipped|waiting/);
    expect(await decisions.innerText()).toContain("tier0");
  });

  it("filters releases by status and environment on the server", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Releases" }).click();
    await page.getByRole("heading", { level: 1, name: "Releases" }).waitFor();
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForFunction(() => location.hash.includes("status=failed"));
    await settled();
    const rows = page.getByRole("region", { name: "Releases" }).locator("tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.innerText()).toContain("stuck");
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Environment").selectOption("rawhide");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForFunction(() => location.hash.includes("environment=rawhide") && !location.hash.includes("status="));
    await settled();
    const envs = await page.getByRole("region", { name: "Releases" }).locator("tbody tr td:nth-child(3)").allInnerTexts();
    expect(envs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(envs)).toEqual(new Set(["rawhide"]));
  });

  it("shows each environment's freezes and what a Koji tag holds, package → NVR", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Environments" }).click();
    await page.getByRole("heading", { level: 1, name: "Environments" }).waitFor();
    const list = page.getByRole("region", { name: "Environments" });
    expect(await list.locator("tbody tr", { hasText: "f44-updates-testing" }).innerText()).toContain("frozen now");
    await list.getByRole("link", { name: "rawhide" }).click();
    await page.getByRole("heading", { level: 1, name: "Environment rawhide" }).waitFor();
    const tagged = page.getByRole("region", { name: "Builds tagged into f45" });
    const row = tagged.locator("tbody tr", { hasText: "python-requests" });
    expect(await row.innerText()).toContain((s.pushed[2] as Seeded["pushed"][number]).nvr);
    expect(await row.innerText()).not.toContain((s.pushed[0] as Seeded["pushed"][number]).nvr);
    // The release that put it there, linked by its id.
    const newest = s.pushed[2] as Seeded["pushed"][number];
    const link = row.getByRole("link", { name: newest.releaseId });
    expect(await link.getAttribute("href")).toBe(`#/releases/${newest.releaseId}`);
    expect(await page.getByRole("region", { name: "Freeze windows" }).innerText()).toContain(s.upcomingFreeze.reason);
    await shot("environment");
  });

  it("says why a blocked release was never written, instead of a commit still to come", async () => {
    await page.goto(`${base}/#/releases/${s.blockedReleaseId}`);
    await page.getByRole("heading", { level: 1, name: `Release ${s.blockedReleaseId}` }).waitFor();
    await settled();
    const text = await page.locator("main dl.details").first().innerText();
    expect(text).toMatch(/Blocked because\nenvironment retired is no longer declared/);
    expect(text).toMatch(/Commit\nnever written: blocked, environment retired is no longer declared/);
    expect(await page.locator("main").innerText()).not.toContain("not written yet");
    // Its document cannot be rendered for an environment that is gone: the page's request for it is refused.
    forget(/status of 422/);
    await shot("release-blocked");
  });

  it("lists the bus events with their status, reason and envelope, filtered by status", async () => {
    const admin = await s.t.auth("admin");
    const id = `web-event-${process.pid}`;
    const unknown = { id, topic: "org.fedoraproject.prod.planet.post.new", headers: { "sent-at": new Date().toISOString() }, body: { title: "hello" } };
    expect((await s.t.app.inject({ method: "POST", url: "/api/v1/events", payload: unknown, headers: admin })).statusCode).toBe(201);
    const broken = { id: `${id}-broken`, topic: "org.fedoraproject.prod.buildsys.build.state.change", headers: {}, body: { new: 1, name: "bash" } };
    expect((await s.t.app.inject({ method: "POST", url: "/api/v1/events", payload: broken, headers: admin })).statusCode).toBe(422);
    const brokenReason = "/body/build_id is required: a whole number";

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Event log" }).click();
    await page.getByRole("heading", { level: 1, name: "Event log" }).waitFor();
    await settled();
    const events = page.getByRole("region", { name: "Bus events" });
    const row = events.locator("tbody tr", { has: page.locator(`[data-event-reason="${id}"]`) });
    expect(await row.innerText()).toContain("org.fedoraproject.prod.planet.post.new");
    expect(await row.locator(".badge").first().innerText()).toBe("ignored");
    await row.getByText("Envelope").click();
    expect(JSON.parse(await row.locator("pre.document").innerText())).toEqual(unknown);

    await page.getByLabel("Status").selectOption("rejected");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForFunction(() => location.hash.includes("status=rejected"));
    await settled();
    const rejected = page.getByRole("region", { name: "Bus events" }).locator("tbody tr");
    expect(await rejected.count()).toBe(1);
    expect(await page.locator(`[data-event-reason="${id}-broken"]`).innerText()).toBe(brokenReason);
    await shot("events");
  });

  it("follows a queued release live until it is pushed", async () => {
    // The writer stops, so the next release stays queued while the page is open.
    await s.t.writer.stop();
    const a = rawhideBuild("systemd", "257.5");
    expect((await s.t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: s.ci })).statusCode).toBe(201);
    const [queued] = (await s.t.app.inject({ method: "GET", url: `/api/v1/releases?artifactId=${a.id}`, headers: s.reader })).json().items as { id: string; status: string }[];
    expect(queued?.status).toBe("queued");
    const id = (queued as { id: string }).id;
    await page.goto(`${base}/#/releases/${id}`);
    await page.getByRole("heading", { level: 1, name: `Release ${id}` }).waitFor();
    expect(await page.locator(".live").innerText()).toContain("Following this release live");
    expect(await page.locator("ol.timeline").innerText()).not.toContain("pushed");

    const writer = new Writer(
      { releases: s.t.releases, artifacts: s.t.evaluate.artifacts, environments: () => s.t.policies.environments(), rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION }, workspacesDir: mkdtempSync(path.join(tmpdir(), "relengd-ws-")), logger: pino({ level: "silent" }) },
      { pollMs: 200 },
    );
    await writer.start();
    try {
      await page.locator(".live", { hasText: "Final state: pushed" }).waitFor({ timeout: 15_000 });
      const release = (await s.t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: s.reader })).json();
      expect(release.commitSha).toMatch(/^[0-9a-f]{40}$/);
      expect(await page.locator("ol.timeline").innerText()).toContain(`commit ${release.commitSha} pushed`);
      expect(await page.locator("dl.trailers").innerText()).toContain(`Relengd-Release-Id\n${id}`);
    } finally {
      await writer.stop();
    }
  });

  it("can be used from the keyboard: skip link, focus moves to each new page's heading, focus is visible", async () => {
    // A fresh load: the first Tab stop is the skip link.
    await page.goto("about:blank");
    await page.goto(`${base}/#/environments`);
    await settled();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    expect(outline).not.toBe("none");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // Through the main navigation to Releases, by keyboard alone.
    await page.locator('[data-nav="releases"]').focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Releases" }).waitFor();
    await page.waitForFunction(() => document.activeElement?.tagName === "H1");
    expect(await page.locator('[data-nav="releases"]').getAttribute("aria-current")).toBe("page");
    // Every form control on the search pages has a label.
    for (const route of ["#/artifacts", "#/releases", "#/environments/rawhide", "#/login"]) {
      await page.goto(`${base}/${route}`);
      await settled();
      const unlabelled = await page.evaluate(() => [...document.querySelectorAll("main input, main select")].filter((el) => !el.labels?.length).map((el) => el.outerHTML));
      expect(unlabelled, route).toEqual([]);
    }
  });

  it("shows an artifact's waivers, and the decision that went through by one says who waived and why", async () => {
    const gated = rawhideBuild("python-waived", "1.0", "FAILED");
    expect((await s.t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: gated, headers: s.ci })).statusCode).toBe(201);
    await page.goto(`${base}/#/artifacts/${encodeURIComponent(gated.id)}`);
    await settled();
    expect(await page.getByRole("region", { name: "Waivers", exact: true }).innerText()).toContain("No waiver");
    const waived = await s.t.app.inject({
      method: "POST",
      url: `/api/v1/artifacts/${encodeURIComponent(gated.id)}/waivers`,
      payload: { testcase: "fedora-ci.koji-build.tier0.functional", comment: "Testing Farm outage" },
      headers: s.releaser,
    });
    expect(waived.statusCode, waived.body).toBe(201);
    // Away and back: the page reads the artifact again.
    await page.goto(`${base}/#/artifacts`);
    await settled();
    await page.goto(`${base}/#/artifacts/${encodeURIComponent(gated.id)}`);
    await settled();
    const waivers = await page.getByRole("region", { name: "Waivers of this artifact" }).innerText();
    expect(waivers).toContain("fedora-ci.koji-build.tier0.functional");
    expect(waivers).toContain("in force");
    expect(waivers).toContain("Testing Farm outage");
    expect(await page.getByRole("region", { name: "Policy decisions" }).innerText()).toContain("waived by test-releaser: Testing Farm outage");
    await shot("artifact-waived");
  });

  it("needs no token when the server allows anonymous read", async () => {
    const anon = await anonymousReadApp(s.t);
    const anonBase = await anon.listen({ host: "127.0.0.1", port: 0 });
    const other = await context.newPage();
    try {
      await context.route(`${anonBase}/**`, (route) => route.continue());
      await other.goto(anonBase + "/");
      await other.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      expect(await other.locator("#session").innerText()).toContain("Anonymous read");
      expect(await other.locator('[data-stat="pushed"]').innerText()).toMatch(/^[0-9]+$/);
    } finally {
      await other.close();
      await anon.close();
    }
  });

  it("loaded nothing from outside relengd and logged no errors", () => {
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  });
});
