#!/usr/bin/env node
// The `relengd` command: runs the compiled CLI (npm start and `npm run build` produce dist/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("relengd: dist/ is missing; run `npm run build` (npm start does it for you)");
  process.exit(1);
}
await import(entry.href);
