// The real `dnf repoclosure` over real RPMs: what the runner reports, and its bounds.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRepoclosure, type RepoclosureRunnerOptions } from "../../src/checks/repoclosure.js";
import type { RepoclosureTarget } from "../../src/domain/repoclosure.js";
import { designedRepos, haveRpmTools } from "../support/rpmRepo.js";

const tools = haveRpmTools();
// CI installs dnf, dnf-plugins-core, rpm and createrepo_c (.ci/run); nothing is skipped there.
const maybe = tools || process.env.CI ? describe : describe.skip;

maybe("runRepoclosure over real repositories", () => {
  let dir: string;
  let repos: ReturnType<typeof designedRepos>;
  let options: RepoclosureRunnerOptions;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-repoclosure-"));
    repos = designedRepos(dir);
    options = { dnf: "dnf", workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 };
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const target = (over: Partial<RepoclosureTarget> = {}): RepoclosureTarget => ({
    arches: ["x86_64", "aarch64"],
    repos: [{ id: "main", url: repos.main.url }],
    lookaside: [{ id: "lookaside", url: repos.lookaside.url }],
    ...over,
  });

  it("reports exactly the designed unresolved set, per arch, with source packages", async () => {
    const run = await runRepoclosure(target(), options);
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    const shape = Object.fromEntries(Object.entries(run.arches).map(([arch, rows]) => [arch, rows.map((r) => ({ source: r.source, nevra: r.nevra, unresolved: [...r.unresolved].sort() }))]));
    const expected = Object.fromEntries(Object.entries(repos.expected).map(([arch, rows]) => [arch, rows.map((r) => ({ ...r, unresolved: [...r.unresolved].sort() }))]));
    expect(shape).toEqual(expected);
    for (const rows of Object.values(run.arches)) for (const r of rows) expect(r.repo).toBe("main");
  }, 120_000);

  it("without the lookaside, what only the lookaside provides is unresolved too", async () => {
    const run = await runRepoclosure(target({ lookaside: [], arches: ["x86_64"] }), options);
    expect(run.ok && run.arches.x86_64?.find((r) => r.source === "epsilon")?.unresolved).toEqual(["zeta >= 1"]);
  }, 120_000);

  it("a repository that cannot be read is an error of the check, never a pass", async () => {
    const run = await runRepoclosure(target({ repos: [{ id: "main", url: `file://${dir}/no-such-repo` }], lookaside: [], arches: ["x86_64"] }), options);
    expect(run.ok).toBe(false);
    if (!run.ok) {
      expect(run.reason).toBe("error");
      expect(run.error).toMatch(/main|repomd|metadata/i);
    }
  }, 120_000);

  it("a dnf that hangs is killed at the bound", async () => {
    const fake = path.join(dir, "hanging-dnf");
    writeFileSync(fake, "#!/bin/sh\nsleep 600\n");
    chmodSync(fake, 0o755);
    // Were it not killed, the test's own limit (120 s) would end it long before sleep 600 does.
    const run = await runRepoclosure(target({ arches: ["x86_64"] }), { ...options, dnf: fake, timeoutMs: 300 });
    expect(run).toMatchObject({ ok: false, reason: "timeout" });
  }, 120_000);

  it("cancelling (shutdown) stops the running dnf", async () => {
    const fake = path.join(dir, "slow-dnf");
    writeFileSync(fake, "#!/bin/sh\nsleep 600\n");
    chmodSync(fake, 0o755);
    const abort = new AbortController();
    const pending = runRepoclosure(target({ arches: ["x86_64"] }), { ...options, dnf: fake }, abort.signal);
    setTimeout(() => abort.abort(), 200);
    await expect(pending).resolves.toMatchObject({ ok: false, reason: "cancelled" });
  }, 120_000);

  it("a dnf held under its memory bound fails the check; it never passes", async () => {
    const run = await runRepoclosure(target({ arches: ["x86_64"] }), { ...options, memoryBytes: 16 * 1024 * 1024 });
    expect(run).toMatchObject({ ok: false, reason: "error" });
  }, 120_000);

  it("a dnf that is not there is an error", async () => {
    const run = await runRepoclosure(target({ arches: ["x86_64"] }), { ...options, dnf: path.join(dir, "no-dnf") });
    expect(run.ok).toBe(false);
  }, 120_000);
});
