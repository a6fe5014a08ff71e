// Derives the PostgreSQL schema from prisma/schema.prisma: the two differ only in the
// datasource provider and the client's output folder, so the models cannot drift apart.
import { readFileSync } from "node:fs";

export const providers = {
  sqlite: { schema: "prisma/schema.prisma", url: "file:./data/prisma-generate.db" },
  postgresql: { schema: "prisma/postgresql/schema.prisma", url: "postgresql://generate@127.0.0.1:5432/generate" },
};

export function derivePostgresSchema(sqliteSchema) {
  const out = sqliteSchema
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace('output                 = "../src/store/generated/sqlite"', 'output                 = "../../src/store/generated/postgresql"');
  if (out === sqliteSchema || !out.includes('"postgresql"') || !out.includes("generated/postgresql")) {
    throw new Error("prisma/schema.prisma no longer has the datasource/generator lines this script rewrites");
  }
  return "// GENERATED from prisma/schema.prisma by scripts/prisma-generate.mjs; do not edit.\n" + out;
}

export function readSqliteSchema() {
  return readFileSync(providers.sqlite.schema, "utf8");
}
