// The store-paths bench compares like with like only if every path does the same work and
// stores the same rows; and its Kysely table types must be the ones the schema generates now.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { candidatePaths, LIST_PAGE, type ArtifactInput, type StorePath } from "../../bench/storePaths.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const root = path.resolve(import.meta.dirname, "../..");

function artifact(id: string, pkg: string, createdAt = new Date("2026-12-06T18:00:00.123Z")): ArtifactInput {
  return {
    id,
    package: pkg,
    release: "rawhide",
    sourceRepo: `https://src.fedoraproject.org/rpms/${pkg}`,
    sourceSha: "0123456789abcdef0123456789abcdef01234567",
    sourceBranch: "rawhide",
    sourceEvent: "push",
    createdAt,
    bodyHash: `hash-${id}`,
    body: `{"id":"${id}"}`,
    builds: [
      { nvr: `${pkg}-1.0-1.fc44`, name: pkg },
      { nvr: `${pkg}-devel-1.0-1.fc44`, name: `${pkg}-devel` },
    ],
  };
}

describe.each(testProviders)("store paths on %s", (provider) => {
  let t: TestDatabase;
  let paths: StorePath[];

  beforeAll(async () => {
    t = await freshDatabase(provider);
    paths = candidatePaths(t.db);
  });

  afterAll(async () => {
    for (const p of paths ?? []) await p.close();
    await t?.dispose();
  });

  it("offers the four candidates on every provider, and the two SQLite variants only there", () => {
    expect(paths.map((p) => p.key)).toEqual(provider === "sqlite" ? ["1", "2", "3", "4", "4w", "2k"] : ["1", "2", "3", "4"]);
  });

  it("each path stores the artifact and its two builds in one transaction and reads back what it stored", async () => {
    const createdAt = new Date("2026-12-06T18:00:00.123Z");
    for (const p of paths) {
      const a = artifact(`ingest-${p.key}`, `pkg-${p.key}`, createdAt);
      const row = await p.ingest(a);
      expect({ id: row.id, package: row.package, body: row.body, bodyHash: row.bodyHash }).toEqual({ id: a.id, package: a.package, body: a.body, bodyHash: a.bodyHash });
      expect(new Date(row.createdAt).getTime()).toBe(createdAt.getTime());
      const stored = await t.db.prisma.artifact.findUnique({ where: { id: a.id }, include: { builds: { orderBy: { id: "asc" } } } });
      expect(Number(row.seq)).toBe(stored?.seq);
      expect(stored?.createdAt.getTime()).toBe(createdAt.getTime());
      expect(stored?.builds.map((b) => [b.nvr, b.name])).toEqual(a.builds.map((b) => [b.nvr, b.name]));
    }
  });

  it("each path lists the newest page of one package only, newest first", async () => {
    const pkg = "listed";
    const ids = Array.from({ length: LIST_PAGE + 5 }, (_, i) => `listed-${String(i).padStart(3, "0")}`);
    for (const id of ids) {
      const { builds: _builds, ...fields } = artifact(id, pkg);
      await t.db.prisma.artifact.create({ data: fields });
    }
    const { builds: _builds, ...other } = artifact("other-package", "not-listed");
    await t.db.prisma.artifact.create({ data: other });
    const newest = ids.slice().reverse().slice(0, LIST_PAGE);
    for (const p of paths) expect((await p.list(pkg)).map((r) => r.id), `path ${p.key}`).toEqual(newest);
  });

  it("each path changes the status of the one release it names, and stores its time", async () => {
    const { builds: _builds, ...holder } = artifact("release-holder", "held");
    await t.db.prisma.artifact.create({ data: holder });
    const now = new Date("2026-12-06T18:00:00Z");
    const release = (id: string) => ({
      id,
      artifactId: holder.id,
      environment: "rawhide",
      repository: "file:///gitops",
      branch: "main",
      package: "held",
      trigger: "policy/test",
      createdBy: "test",
      status: "queued",
      createdAt: now,
      updatedAt: now,
    });
    await t.db.prisma.release.createMany({ data: [release("target"), release("bystander")] });
    for (const [i, p] of paths.entries()) {
      const at = new Date(now.getTime() + (i + 1) * 1000);
      expect(await p.setStatus("target", `status-${p.key}`, at), `path ${p.key}`).toBe(1);
      const target = await t.db.prisma.release.findUniqueOrThrow({ where: { id: "target" } });
      expect([target.status, target.updatedAt.getTime()]).toEqual([`status-${p.key}`, at.getTime()]);
    }
    expect(await t.db.prisma.release.findUniqueOrThrow({ where: { id: "bystander" } })).toMatchObject({ status: "queued", updatedAt: now });
    expect(await paths[0]?.setStatus("no-such-release", "pushed", now)).toBe(0);
  });
});

describe("bench/generated/storeTables.ts", () => {
  it("is what prisma-kysely generates from prisma/schema.prisma now", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-store-tables-"));
    try {
      execFileSync(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), path.join(root, "bench", "generate-store-tables.ts"), dir], {
        cwd: root,
        stdio: "ignore",
      });
      expect(readFileSync(path.join(dir, "storeTables.ts"), "utf8")).toBe(readFileSync(path.join(root, "bench", "generated", "storeTables.ts"), "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
