import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseDatabaseUrl, pgSearchPathOption } from "../../src/store/databaseUrl.js";
import { loadMigrations, migrate } from "../../src/store/migrator.js";
// @ts-expect-error -- a build script in plain JavaScript, without type declarations
import { derivePostgresSchema } from "../../scripts/prisma-schemas.mjs";
import { freshDatabaseUrl, postgresUrl } from "../support/database.js";

const ROOT = path.resolve(__dirname, "../..");

function prismaCli(args: string[], databaseUrl: string): string {
  return execFileSync(process.execPath, [path.join(ROOT, "node_modules/prisma/build/index.js"), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("schemas and migrations stay in step", () => {
  it("derives prisma/postgresql/schema.prisma from prisma/schema.prisma", () => {
    const derived = (derivePostgresSchema as (s: string) => string)(readFileSync(path.join(ROOT, "prisma/schema.prisma"), "utf8"));
    expect(readFileSync(path.join(ROOT, "prisma/postgresql/schema.prisma"), "utf8")).toBe(derived);
  });

  it.each(["sqlite", "postgresql"] as const)("has a %s migration for the current schema (run scripts/prisma-migration.mjs after a model change)", (provider) => {
    const dir = path.join(ROOT, "prisma/migrations", provider);
    const last = readdirSync(dir).filter((d) => !d.endsWith(".toml")).sort().at(-1);
    expect(last).toBeDefined();
    const snapshot = readFileSync(path.join(dir, last as string, "schema.prisma"), "utf8");
    const current = readFileSync(path.join(ROOT, provider === "sqlite" ? "prisma/schema.prisma" : "prisma/postgresql/schema.prisma"), "utf8");
    expect(snapshot).toBe(current);
  });
});

describe("migrator on SQLite", () => {
  it("applies every migration once and records them the way Prisma does", async () => {
    const { url, drop } = freshDatabaseUrl("sqlite");
    try {
      const first = await migrate(url);
      expect(first.applied).toEqual(loadMigrations("sqlite").map((m) => m.name));
      const second = await migrate(url);
      expect(second).toEqual({ applied: [], alreadyApplied: first.applied, modified: [] });
      // Prisma's own CLI reads our bookkeeping and finds nothing to do.
      expect(prismaCli(["migrate", "status"], url)).toContain("Database schema is up to date");
    } finally {
      await drop();
    }
  });

  it("accepts a database that Prisma's migrate deploy migrated", async () => {
    const { url, drop } = freshDatabaseUrl("sqlite");
    try {
      prismaCli(["migrate", "deploy"], url);
      const report = await migrate(url);
      expect(report.applied).toEqual([]);
      expect(report.modified).toEqual([]);
    } finally {
      await drop();
    }
  });

  it("rolls back a failing migration entirely and records nothing", async () => {
    const { url, drop } = freshDatabaseUrl("sqlite");
    try {
      const broken = [{ name: "0001_broken", sql: 'CREATE TABLE "A" (x INT); CREATE TABLE nonsense(', checksum: "x" }];
      await expect(migrate(url, broken)).rejects.toThrow();
      const db = new BetterSqlite3(parseDatabaseUrl(url).location);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[];
      const recorded = db.prepare('SELECT count(*) AS n FROM "_prisma_migrations"').get() as { n: number };
      db.close();
      expect(tables.map((t) => t.name)).not.toContain("A");
      expect(recorded.n).toBe(0);
    } finally {
      await drop();
    }
  });
});

describe.skipIf(!postgresUrl)("migrator on PostgreSQL", () => {
  it("applies every migration once, in its own schema, even when two replicas start together", async () => {
    const { url, drop } = freshDatabaseUrl("postgresql");
    try {
      const [a, b] = await Promise.all([migrate(url), migrate(url)]);
      const names = loadMigrations("postgresql").map((m) => m.name);
      // The advisory lock serializes them: one applies, the other finds everything applied.
      expect([...a.applied, ...b.applied].sort()).toEqual(names);
      const target = parseDatabaseUrl(url);
      const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
      await client.connect();
      try {
        const { rows } = await client.query<{ migration_name: string; checksum: string }>(
          'SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name',
        );
        expect(rows.map((r) => r.migration_name)).toEqual(names);
        expect(rows.map((r) => r.checksum)).toEqual(loadMigrations("postgresql").map((m) => m.checksum));
        const tables = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
          [target.schema],
        );
        expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(["Artifact", "ArtifactBuild", "ArtifactResult", "_prisma_migrations"]));
      } finally {
        await client.end();
      }
      expect((await migrate(url)).applied).toEqual([]);
    } finally {
      await drop();
    }
  });
});
