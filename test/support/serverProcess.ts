// A real `relengd serve` process for tests that must kill it: its own process group (so a kill
// can take its git children along, as a crashed container does), its output kept for messages.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cliEntry = path.join(repoRoot, "src/cli/main.ts");

/** A port nobody listens on right now: bind to 0, read it, let it go. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      probe.close(() => resolve(address.port));
    });
  });
}

/** The test process's environment without anything that would steer relengd. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(RELENGD_|CI_|GITHUB_)/.test(k)));
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /**
   * SIGKILL: `group` kills the server and every git process it started (a crashed container);
   * otherwise only the server dies and its children run on as orphans.
   */
  kill(scope: "group" | "process"): Promise<void>;
  /** Sends `signal` to the server process alone. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL of the group if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts `relengd serve` with `env` (RELENGD_PORT among them) and waits for /healthz. */
export async function startServerProcess(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ServerProcess> {
  const port = env.RELENGD_PORT;
  if (!port) throw new Error("RELENGD_PORT is required");
  const url = `http://127.0.0.1:${port}`;
  // --import tsx resolves from the working directory, so the server runs in the repository.
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", cliEntry, "serve"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  const keep = (s: string) => {
    output = (output + s).slice(-65_536);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const exitCode = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const exited = exitCode.then(() => undefined);
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error("relengd serve did not start");

  const killGroup = () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`relengd serve exited before answering:\n${output}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      killGroup();
      throw new Error(`relengd serve did not answer /healthz within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    pid,
    output: () => output,
    signal: (signal) => void child.kill(signal),
    exited: exitCode,
    async kill(scope) {
      if (scope === "group") killGroup();
      else child.kill("SIGKILL");
      await exited;
    },
    async stop(stopTimeoutMs = 10_000) {
      if (gone) return;
      child.kill("SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), stopTimeoutMs).unref());
      if ((await Promise.race([exited, timer])) === "timeout") {
        killGroup();
        await exited;
      }
    },
  };
}
