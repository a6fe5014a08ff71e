// Real databases for tests: a SQLite file in a temp dir, and (when TEST_DATABASE_URL is set) a
// PostgreSQL schema of its own per test file, dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { parseDatabaseUrl } from "../../src/store/databaseUrl.js";
import { openStore, type OpenOptions, type Store } from "../../src/store/store.js";
import { migrate } from "../../src/store/migrator.js";

export type TestProvider = "sqlite" | "postgresql";

/** The providers this run can test: SQLite always, PostgreSQL when a URL is given. */
export const testProviders: TestProvider[] = process.env.TEST_DATABASE_URL ? ["sqlite", "postgresql"] : ["sqlite"];

export const postgresUrl = process.env.TEST_DATABASE_URL;

export interface TestDatabase {
  url: string;
  db: Store;
  dispose(): Promise<void>;
}

/** A fresh, empty database URL (not migrated, not opened). */
export function freshDatabaseUrl(provider: TestProvider): { url: string; drop(): Promise<void> } {
  if (provider === "sqlite") {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-test-"));
    return { url: `file:${path.join(dir, "relengd.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!postgresUrl) throw new Error("TEST_DATABASE_URL is not set");
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const sep = postgresUrl.includes("?") ? "&" : "?";
  return {
    url: `${postgresUrl}${sep}schema=${schema}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: parseDatabaseUrl(postgresUrl).location });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A migrated, opened database; dispose closes and deletes it. */
export async function freshDatabase(provider: TestProvider, options: OpenOptions = {}): Promise<TestDatabase> {
  const { url, drop } = freshDatabaseUrl(provider);
  await migrate(url);
  const db = await openStore(url, options);
  return {
    url,
    db,
    async dispose() {
      await db.close();
      await drop();
    },
  };
}
