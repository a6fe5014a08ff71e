// The `relengd` CLI as a child process, the way a CI job runs it, and a `relengd serve` whose exit a test asserts on.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, freePort } from "./serverProcess.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cliEntry = path.join(repoRoot, "src/cli/main.ts");

/** How one `relengd` process ended, and everything it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnRelengd(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // --import tsx resolves from the working directory, so children run in the repository.
  return spawn(process.execPath, ["--import", "tsx", cliEntry, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
}

function runOf(child: ChildProcess): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** One `relengd ARGS` invocation with exactly `env`, run to its end. */
export function runRelengd(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runOf(spawnRelengd(args, env));
}

/**
 * The environment of a `relengd serve` that keeps its data (SQLite) in `dir` and listens on a free
 * port of 127.0.0.1, with `settings` on top; nothing else of the test process's environment steers it.
 */
export async function serverEnvironment(dir: string, settings: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  return {
    ...cleanEnv(),
    RELENGD_DATA_DIR: dir,
    RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
    RELENGD_HOST: "127.0.0.1",
    RELENGD_PORT: String(await freePort()),
    ...settings,
  };
}

export interface RelengdServe {
  url: string;
  /** Sends the server a signal (it is not waited for: await `exited`). */
  kill(signal: NodeJS.Signals): void;
  /** Whether the server has exited. */
  hasExited(): boolean;
  /** The server's exit code and output, once it has exited. */
  exited: Promise<CliRun>;
}

/**
 * Starts `relengd serve` with `env` (RELENGD_PORT among them) and waits for /healthz. For a test
 * that asserts on how the server exits; startServerProcess (serverProcess.ts) does not tell the exit code.
 */
export async function serveRelengd(env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<RelengdServe> {
  const port = env.RELENGD_PORT;
  if (!port) throw new Error("RELENGD_PORT is required");
  const url = `http://127.0.0.1:${port}`;
  const child = spawnRelengd(["serve"], env);
  const exited = runOf(child);
  let run: CliRun | undefined;
  void exited.then((r) => (run = r));
  const deadline = Date.now() + timeoutMs;
  while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) {
    if (run) throw new Error(`relengd serve exited with ${run.code} before answering:\n${run.stdout}${run.stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`relengd serve did not answer /healthz within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    kill: (signal) => void child.kill(signal),
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    exited,
  };
}
