// Generates one Prisma client per provider (a generated client is tied to one provider).
// Offline by construction: the "js" engine in prisma.config.ts plus a DATABASE_URL of the
// right scheme keep the CLI from downloading engines.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { derivePostgresSchema, providers, readSqliteSchema } from "./prisma-schemas.mjs";

const derived = derivePostgresSchema(readSqliteSchema());
mkdirSync("prisma/postgresql", { recursive: true });
if (!existsSync(providers.postgresql.schema) || readFileSync(providers.postgresql.schema, "utf8") !== derived) {
  writeFileSync(providers.postgresql.schema, derived);
}
for (const [name, p] of Object.entries(providers)) {
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", "generate", "--schema", p.schema], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DATABASE_URL: p.url, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
  });
  console.log(`prisma client generated for ${name}`);
}
