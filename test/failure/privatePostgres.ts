// A PostgreSQL server of the test's own (initdb + pg_ctl in a temp dir, on a free port), so a
// test can stop and start it without touching the shared server the other suites use.
import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../support/serverProcess.js";

const execFileAsync = promisify(execFile);

/** Debian keeps the server binaries out of PATH, one folder per major version. */
export function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^[0-9]+$/.test(v) && existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : undefined;
}

/** The uid/gid of the `postgres` system user, or undefined if it does not exist. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * Why a private server cannot run here, or undefined when it can: initdb refuses to run as root,
 * so a root test process needs the `postgres` user (and runuser) to run the server as.
 */
export function privatePostgresUnavailable(): string | undefined {
  if (!findPostgresBin()) return "no initdb under /usr/lib/postgresql/*/bin";
  if (process.getuid?.() === 0) {
    if (!postgresUser()) return "running as root and there is no `postgres` user to run initdb as";
    if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser")) return "running as root and runuser is missing";
  }
  return undefined;
}

export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** pg_ctl stop -m fast: clients are disconnected, the server shuts down cleanly. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Stops the server if it runs and deletes its files. */
  dispose(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("no PostgreSQL server binaries found");
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-pg-"));
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  if (asRoot) {
    if (!owner) throw new Error("running as root without a postgres user");
    // mkdtemp made the folder 0700 for root: the server's user must own it.
    chownSync(dir, owner.uid, owner.gid);
  }
  // Asynchronous: the test keeps sending requests while pg_ctl waits for the server.
  const run = async (tool: string, args: string[]): Promise<void> => {
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
    await execFileAsync(cmd, argv, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  };
  const port = await freePort();
  await run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions"]);
  // The socket goes into the temp dir: /var/run/postgresql belongs to the shared server.
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=50`;
  let running = false;
  const pg: PrivatePostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await run("pg_ctl", ["-D", data, "-l", logFile, "-o", serverOptions, "-w", "-t", "30", "start"]);
      running = true;
    },
    async stop() {
      await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
      running = false;
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async dispose() {
      if (running) {
        try {
          await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"]);
        } catch {
          // Already stopped; the files go anyway.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await pg.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return pg;
}
