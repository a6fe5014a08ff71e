#!/usr/bin/env -S node --max-semi-space-size=8
// The `relengd` command: runs the compiled CLI (npm start and `npm run build` produce dist/).
// --max-semi-space-size=8 (here, in npm start and in the Containerfile): V8 sizes its young
// generation when it starts, so `serve` cannot set it itself; see HEAP_GROWING_PERCENT.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("relengd: dist/ is missing; run `npm run build` (npm start does it for you)");
  process.exit(1);
}
await import(entry.href);
