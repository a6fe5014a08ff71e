// /metrics of a real server (src/main.ts wiring): ingest counts and latency, the
// release queue, writer commit/push timings and outcomes, policy decisions, process metrics.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { sampleArtifact } from "../support/artifacts.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("GET /metrics of a running server", () => {
  let dir: string;
  let server: RunningServer;
  let ci: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-metrics-"));
    const secret = "metrics-test-secret-0123456789abcdefghij";
    const config = loadConfig({
      RELENGD_DATA_DIR: dir,
      RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
      RELENGD_POLICIES_DIR: path.resolve("policies"),
      RELENGD_PORT: "0",
      RELENGD_TOKEN_SECRET: secret,
    });
    server = await startServer(config, pino({ level: "silent" }));
    ci = (await new TokenService(secret).issue({ subject: "fedora-ci", role: "ci", ttlSeconds: 600 })).token;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("counts ingest, decisions and written releases, times commits and pushes, and reports the queue", async () => {
    const headers = { authorization: `Bearer ${ci}`, "content-type": "application/json" };
    // Rawhide builds with tier-0 passed: the shipped rawhide-auto policy fires for each.
    const artifacts = [0, 1, 2].map((i) => sampleArtifact({ package: `metrics-pkg-${i}`, release: "rawhide", source: { ...sampleArtifact().source, branch: "rawhide" } }));
    for (const a of artifacts) {
      a.items = (a.items ?? []).map((item) => (item.kind === "koji-build" ? { ...item, nvr: item.nvr.replace(/\.fc41$/, ".fc45") } : item.kind === "ci-result" ? { ...item, testcase: "fedora-ci.koji-build.tier0.functional" } : item));
      expect((await fetch(`${server.url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(a) })).status).toBe(201);
    }
    expect((await fetch(`${server.url}/api/v1/artifacts`, { method: "POST", headers, body: JSON.stringify(artifacts[0]) })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/artifacts`, { method: "POST", headers, body: "{}" })).status).toBe(400);

    let text = "";
    for (let i = 0; i < 200; i++) {
      text = await (await fetch(`${server.url}/metrics`)).text();
      if ((sample(text, "relengd_releases_total", { repository: "gitops", outcome: "pushed" }) ?? 0) >= 3) break;
      await sleep(50);
    }
    expect(sample(text, "relengd_artifacts_ingested_total", { outcome: "created" })).toBe(3);
    expect(sample(text, "relengd_artifacts_ingested_total", { outcome: "unchanged" })).toBe(1);
    expect(sample(text, "relengd_artifacts_ingested_total", { outcome: "rejected" })).toBe(1);
    expect(sample(text, "relengd_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/artifacts", status: "2xx" })).toBe(4);
    expect(sample(text, "relengd_policy_decisions_total", { policy: "rawhide-auto", outcome: "fired" })).toBe(3);
    expect(sample(text, "relengd_policy_decisions_total", { policy: "f44-updates-testing", outcome: "skipped" })).toBe(3);
    expect(sample(text, "relengd_releases_total", { repository: "gitops", outcome: "pushed" })).toBe(3);
    expect(sample(text, "relengd_writer_commit_duration_seconds_count", { repository: "gitops" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "relengd_writer_push_duration_seconds_count", { repository: "gitops" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "relengd_writer_lease", { repository: "gitops" })).toBe(1);
    // Nothing waits any more, so no repository has a queue gauge (the counts: test/store/releaseQueue).
    expect(sample(text, "relengd_release_queue_depth", { repository: "gitops" })).toBeUndefined();
    expect(text).toContain("# TYPE relengd_release_queue_oldest_age_seconds gauge");
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  }, 60_000);
});
