// Writes a new migration for both providers: `node scripts/prisma-migration.mjs <name>`.
// `prisma migrate dev` cannot run here (see shared STACK.md), so each migration is the SQL that
// `prisma migrate diff` produces between the previous migration's schema snapshot and the
// current schema, for each provider. The snapshot beside each migration.sql is what the next
// diff starts from, and what the drift test compares the current schema against.
// The CLI runs with the SQLite URL even for the PostgreSQL diff: with a postgresql:// URL it
// tries to download a native engine, and the diff contacts no database either way.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { derivePostgresSchema, providers, readSqliteSchema } from "./prisma-schemas.mjs";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: node scripts/prisma-migration.mjs <name: lowercase letters, digits, _>");
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const schemas = { sqlite: readSqliteSchema(), postgresql: derivePostgresSchema(readSqliteSchema()) };

for (const [provider, p] of Object.entries(providers)) {
  const dir = path.join("prisma", "migrations", provider);
  mkdirSync(dir, { recursive: true });
  const previous = readdirSync(dir).filter((d) => existsSync(path.join(dir, d, "schema.prisma"))).sort().at(-1);
  const from = previous ? ["--from-schema-datamodel", path.join(dir, previous, "schema.prisma")] : ["--from-empty"];
  const sql = execFileSync(
    process.execPath,
    ["node_modules/prisma/build/index.js", "migrate", "diff", ...from, "--to-schema-datamodel", p.schema, "--script"],
    { env: { ...process.env, DATABASE_URL: providers.sqlite.url }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (/^-- This is an empty migration\.\s*$/.test(sql.trim())) {
    console.log(`${provider}: no changes`);
    continue;
  }
  const target = path.join(dir, `${stamp}_${name}`);
  mkdirSync(target);
  writeFileSync(path.join(target, "migration.sql"), sql);
  writeFileSync(path.join(target, "schema.prisma"), schemas[provider]);
  console.log(`${provider}: wrote ${target}`);
}
