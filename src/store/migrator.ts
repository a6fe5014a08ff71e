// Applies prisma/migrations/<provider>/*/migration.sql in order, each in a transaction, and
// records them in Prisma's own `_prisma_migrations` table so that Prisma's tools agree.
// Prisma's CLI cannot migrate PostgreSQL through a driver adapter (prisma/orm#27403) and needs
// the CLI at run time on SQLite, so the application applies its migrations itself on both.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { ensurePrivateDatabaseFile, ensurePrivateDir } from "./privateFiles.js";
import { parseDatabaseUrl, pgSearchPathOption, type DatabaseTarget, type Provider } from "./databaseUrl.js";

export interface Migration {
  name: string;
  sql: string;
  /** sha256 of migration.sql, as Prisma computes it. */
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
  /** Applied earlier but the file changed since: Prisma warns about these too. */
  modified: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** prisma/migrations, found from src/store (tsx) or dist/store (compiled). */
export function migrationsRoot(): string {
  const candidates = [path.resolve(here, "../../prisma/migrations"), path.resolve(here, "../../../prisma/migrations")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`prisma/migrations not found (looked in ${candidates.join(", ")})`);
  return found;
}

export function loadMigrations(provider: Provider, root = migrationsRoot()): Migration[] {
  const dir = path.join(root, provider);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export async function migrate(databaseUrl: string, migrations?: Migration[]): Promise<MigrationReport> {
  const target = parseDatabaseUrl(databaseUrl);
  const list = migrations ?? loadMigrations(target.provider);
  return target.provider === "sqlite" ? migrateSqlite(target, list) : migratePostgres(target, list);
}

function classify(list: Migration[], applied: Map<string, string>, report: MigrationReport): Migration[] {
  const pending: Migration[] = [];
  for (const m of list) {
    const checksum = applied.get(m.name);
    if (checksum === undefined) pending.push(m);
    else {
      report.alreadyApplied.push(m.name);
      if (checksum !== m.checksum) report.modified.push(m.name);
    }
  }
  return pending;
}

// Prisma's own DDL for its bookkeeping table (SQLite flavour).
const SQLITE_BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

function migrateSqlite(target: DatabaseTarget, list: Migration[]): MigrationReport {
  const report: MigrationReport = { applied: [], alreadyApplied: [], modified: [] };
  // A fresh data dir may not exist yet: migration is the first thing that opens the file.
  ensurePrivateDir(path.dirname(target.location));
  ensurePrivateDatabaseFile(target.location);
  const db = new BetterSqlite3(target.location, { timeout: 10_000 });
  try {
    db.exec(SQLITE_BOOKKEEPING);
    // IMMEDIATE takes the write lock up front: two processes migrating at once serialize here.
    const run = db.transaction(() => {
      const rows = db
        .prepare(`SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)
        .all() as { migration_name: string; checksum: string }[];
      const pending = classify(list, new Map(rows.map((r) => [r.migration_name, r.checksum])), report);
      for (const m of pending) {
        const started = prismaSqliteTimestamp();
        db.exec(m.sql);
        db.prepare(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
           VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
        ).run(randomUUID(), m.checksum, prismaSqliteTimestamp(), m.name, started);
        report.applied.push(m.name);
      }
    });
    run.immediate();
  } finally {
    db.close();
  }
  return report;
}

// Prisma (6.19, js engine) writes these SQLite timestamps as ISO text with an explicit offset.
function prismaSqliteTimestamp(): string {
  return new Date().toISOString().replace("Z", "+00:00");
}

// Prisma's own DDL for its bookkeeping table (PostgreSQL flavour).
const POSTGRES_BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

// Every relengd replica migrating one schema takes the same lock (other schemas do not wait).
const LOCK_KEY_SQL = "hashtext('relengd-migrate:' || $1)";

async function migratePostgres(target: DatabaseTarget, list: Migration[]): Promise<MigrationReport> {
  const report: MigrationReport = { applied: [], alreadyApplied: [], modified: [] };
  const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
  await client.connect();
  try {
    // Lock before anything else: even CREATE SCHEMA IF NOT EXISTS races between two replicas.
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY_SQL})`, [target.schema]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${target.schema}"`);
      await client.query(POSTGRES_BOOKKEEPING);
      const { rows } = await client.query<{ migration_name: string; checksum: string }>(
        `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      const pending = classify(list, new Map(rows.map((r) => [r.migration_name, r.checksum])), report);
      for (const m of pending) {
        await client.query("BEGIN");
        try {
          const started = new Date();
          await client.query(m.sql);
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
             VALUES ($1, $2, now(), $3, $4, 1)`,
            [randomUUID(), m.checksum, m.name, started],
          );
          await client.query("COMMIT");
          report.applied.push(m.name);
        } catch (err) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`, [target.schema]);
    }
  } finally {
    await client.end();
  }
  return report;
}
