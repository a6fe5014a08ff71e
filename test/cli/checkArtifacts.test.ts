// `relengd check artifacts` as an operator runs it on the server's host: real process, real database.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { runRelengd } from "../support/cliProcess.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { cleanEnv } from "../support/serverProcess.js";

describe.each(testProviders)("relengd check artifacts on %s", (provider) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const ids = { good: "", evil: "", mixed: "", rawhide: "" };

  // Straight into the store, as a relengd before the ingest rules kept them.
  async function stored(input: ArtifactInput): Promise<string> {
    const parsed = parseArtifact(input);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    await new ArtifactRepository(database.db).ingest(parsed.value);
    return parsed.value.id;
  }

  beforeAll(async () => {
    database = await freshDatabase(provider);
    dataDir = mkdtempSync(path.join(tmpdir(), "relengd-check-cli-"));
    env = { ...cleanEnv(), RELENGD_DATABASE_URL: database.url, RELENGD_DATA_DIR: dataDir };
    ids.good = await stored(sampleArtifact({ id: `check-good-${provider}`, release: "f44" }));
    ids.evil = await stored(sampleArtifact({ id: `check-evil-${provider}`, package: "python-evil", release: "f44", items: [{ kind: "koji-build", nvr: "kernel-9.9-1.fc44" }] }));
    ids.mixed = await stored(
      sampleArtifact({ id: `check-mixed-${provider}`, package: "qt6-qtbase", release: "f44", items: [{ kind: "koji-build", nvr: "qt6-qtbase-6.9-1.fc44" }, { kind: "koji-build", nvr: "qt6-qtsvg-6.9-1.fc45", sideTag: "f44-build-side-1" }] }),
    );
    ids.rawhide = await stored(sampleArtifact({ id: `check-rawhide-${provider}`, package: "foo", release: "rawhide", items: [{ kind: "koji-build", nvr: "foo-1.0-1.fc45" }] }));
  }, 60_000);

  afterAll(async () => {
    await database?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("lists each broken rule of each artifact, says how many break them, and exits 1", async () => {
    const run = await runRelengd(["check", "artifacts"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1).sort()).toEqual(
      [
        `${ids.evil}  python-evil  f44  build-of-other-package  /items/0/nvr is a build of kernel, not of the artifact's package python-evil (/package); an artifact of one build is that build's package`,
        `${ids.mixed}  qt6-qtbase  f44  side-tag-required  /items/0/sideTag is missing: an artifact of 2 koji-builds is a side-tag update, and every build names its side tag`,
        `${ids.mixed}  qt6-qtbase  f44  dist-tag-mismatch  /items/1/nvr has dist tag fc45, which does not fit release f44 (/release), whose builds carry fc44`,
      ].sort(),
    );
    expect(lines.at(-1)).toBe("checked 4 artifact(s); 2 break the ingest rules and will not be released");
  }, 60_000);

  it("reads the Rawhide version from RELENGD_RAWHIDE_VERSION, and answers JSON", async () => {
    const run = await runRelengd(["check", "artifacts", "--output", "json"], { ...env, RELENGD_RAWHIDE_VERSION: "46" });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { checked: number; breaking: number; rawhideVersion: number; artifacts: { id: string; violations: { rule: string; path: string }[] }[] };
    expect(report).toMatchObject({ checked: 4, breaking: 3, rawhideVersion: 46 });
    expect(report.artifacts.find((a) => a.id === ids.rawhide)?.violations).toEqual([
      { rule: "dist-tag-mismatch", path: "/items/0/nvr", message: "has dist tag fc45, which does not fit release rawhide (/release), whose builds carry fcN with N ≥ 46 (the Rawhide version)" },
    ]);
    expect(report.artifacts.map((a) => a.id)).not.toContain(ids.good);
  }, 60_000);

  it("exits 0 when every artifact follows the rules", async () => {
    const clean = await freshDatabase(provider);
    try {
      const parsed = parseArtifact(sampleArtifact({ id: `check-clean-${provider}`, release: "rawhide" }));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      await new ArtifactRepository(clean.db).ingest(parsed.value);
      const run = await runRelengd(["check", "artifacts"], { ...env, RELENGD_DATABASE_URL: clean.url });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe("checked 1 artifact(s); all follow the ingest rules\n");
    } finally {
      await clean.dispose();
    }
  }, 60_000);
});
