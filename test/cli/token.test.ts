// Where the token secret comes from: only the server's own verbs create it, so a token issued
// from the wrong directory cannot be signed with a secret the server never sees.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelengd } from "../support/cliProcess.js";
import { cleanEnv } from "../support/serverProcess.js";

describe("relengd token issue and the token secret", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-token-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A data dir no server has used: what `./data` is when the verb runs in another directory. */
  const envFor = (dataDir: string): NodeJS.ProcessEnv => ({ ...cleanEnv(), RELENGD_DATA_DIR: dataDir, RELENGD_DATABASE_URL: `file:${path.join(dataDir, "relengd.db")}` });
  const issue = (env: NodeJS.ProcessEnv) => runRelengd(["token", "issue", "--subject", "ci", "--role", "ci"], env);

  it("refuses without a secret, naming the data dir and RELENGD_TOKEN_SECRET, and creates nothing", async () => {
    const dataDir = path.join(dir, "elsewhere", "data");
    const run = await issue(envFor(dataDir));
    expect(run.code, run.stdout).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`the data dir ${dataDir} has no token-secret file`);
    expect(run.stderr).toContain("RELENGD_TOKEN_SECRET");
    expect(existsSync(path.join(dataDir, "token-secret"))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("signs with RELENGD_TOKEN_SECRET when it is given, still creating nothing", async () => {
    const dataDir = path.join(dir, "with-env", "data");
    const run = await issue({ ...envFor(dataDir), RELENGD_TOKEN_SECRET: "s".repeat(40) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("uses the secret `relengd migrate` created in the data dir", async () => {
    const dataDir = path.join(dir, "migrated");
    const migrated = await runRelengd(["migrate"], envFor(dataDir));
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toContain(`generated one into ${path.join(dataDir, "token-secret")}`);
    const run = await issue(envFor(dataDir));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("generated");
  });
});
