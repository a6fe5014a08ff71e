// Regenerates bench/generated/storeTables.ts, the Kysely table types of the store, from
// prisma/schema.prisma with prisma-kysely (offline: the generator runs alone on a copy of the
// schema that carries it, so the schema itself and the Prisma clients stay as they are).
//
// DateTime is typed `Date | string`: generated from the SQLite schema it would be `string`, from
// the PostgreSQL one `Date`, and the store stores and reads both (sqlTimestamp in database.ts).
// Booleans keep the SQLite type (`number`): better-sqlite3 refuses to bind a boolean.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
// A directory given as the argument gets the file instead (the test compares it with the committed one).
const output = path.resolve(process.argv[2] ?? path.join(root, "bench", "generated"));
const generator = `generator kysely {
  provider             = "node ${path.join(root, "node_modules", "prisma-kysely", "dist", "bin.js")}"
  output               = "${output}"
  fileName             = "storeTables.ts"
  dateTimeTypeOverride = "Date | string"
}

`;

const schema = readFileSync(path.join(root, "prisma", "schema.prisma"), "utf8");
const at = schema.indexOf("generator client {");
if (at < 0) throw new Error("prisma/schema.prisma has no `generator client` block to put the Kysely generator before");
const dir = mkdtempSync(path.join(tmpdir(), "relengd-kysely-"));
try {
  const copy = path.join(dir, "schema.prisma");
  writeFileSync(copy, schema.slice(0, at) + generator + schema.slice(at));
  execFileSync(process.execPath, [path.join(root, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", copy, "--generator", "kysely"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DATABASE_URL: `file:${path.join(dir, "unused.db")}`, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
