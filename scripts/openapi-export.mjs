// Regenerates openapi.yaml (`npm run openapi`, which runs this under tsx so that it loads the
// TypeScript sources): starts relengd with its default settings in a temporary directory, reads
// GET /openapi.json as a client would, and writes it as YAML. `--check` only compares, and
// exits 1 when the checked-in file differs.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { renderOpenApiYaml } from "../src/api/plugins/openapi.js";
import { startServer } from "../src/main.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const target = path.join(root, "openapi.yaml");
const check = process.argv.includes("--check");

const dir = mkdtempSync(path.join(tmpdir(), "relengd-openapi-"));
let text;
try {
  const config = loadConfig({
    RELENGD_DATA_DIR: dir,
    RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
    RELENGD_POLICIES_DIR: path.join(root, "policies"),
    RELENGD_PORT: "0",
    RELENGD_TOKEN_SECRET: "openapi-export-secret-never-used-for-a-token",
  });
  const server = await startServer(config, pino({ level: "silent" }));
  try {
    const res = await fetch(`${server.url}/openapi.json`);
    if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
    text = renderOpenApiYaml(await res.json());
  } finally {
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let current = "";
try {
  current = readFileSync(target, "utf8");
} catch {
  // No file yet: it is written below (or reported as out of date with --check).
}
if (check) {
  if (current !== text) {
    process.stderr.write("openapi.yaml is out of date with the routes: run `npm run openapi` and commit it\n");
    process.exit(1);
  }
  process.stdout.write("openapi.yaml is up to date\n");
} else if (current === text) {
  process.stdout.write("openapi.yaml unchanged\n");
} else {
  // Replaced whole, so that nothing ever reads half a file.
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, target);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target) || target}\n`);
}
