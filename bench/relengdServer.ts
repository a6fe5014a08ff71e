// The real relengd app served in-process on 127.0.0.1 for the benchmarks, with counters that tell when it has finished its requests.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { pino } from "pino";
import { composeApplication, type ApplicationParts } from "../src/application.js";
import { TokenService } from "../src/auth/tokens.js";
import { DEFAULT_RAWHIDE_VERSION } from "../src/domain/busMapping.js";
import type { Role } from "../src/domain/token.js";
import { ensureBareRepository } from "../src/gitops/repository.js";
import type { Writer } from "../src/gitops/writer.js";
import type { EnvironmentSet } from "../src/policy/environments.js";
import { fixedPolicies, PolicyHolder } from "../src/policy/loader.js";
import { branchLeaseFor, type BranchLease } from "../src/store/branchLease.js";
import { parseDatabaseUrl } from "../src/store/databaseUrl.js";
import type { ArtifactRepository } from "../src/store/artifactRepository.js";
import { openStore, type Store } from "../src/store/store.js";
import { pause } from "./load.js";

const noEnvironments: EnvironmentSet = { repositories: new Map(), environments: new Map(), source: "(none: benchmark)" };

export interface BenchServer {
  app: FastifyInstance;
  db: Store;
  artifacts: ArtifactRepository;
  url: string;
  /** A bearer token with the role the benchmark needs. */
  token: string;
  /** 201 answers the server made (also those whose client had already gone away). */
  created201(): number;
  /** Waits until no request is being handled; false if that took more than a minute. */
  settle(): Promise<boolean>;
  /** The bare GitOps repository the writer pushes to (with `shippedPolicies` only). */
  remote?: string;
  /** Releases queued or committed but not yet pushed (0 without the writer). */
  queueDepth(): Promise<number>;
  close(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  provider: "sqlite" | "postgresql";
  /** Where it is, for the header line (no credentials). */
  where: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database for one benchmark: a SQLite file in `dir`, or with `postgresUrl` a schema
 * of its own in that PostgreSQL database (made by the migration, dropped afterwards), as
 * test/support/database.ts makes them.
 */
export function benchDatabase(dir: string, name: string, postgresUrl?: string): BenchDatabase {
  if (!postgresUrl) {
    const file = path.join(dir, `${name}.db`);
    return { url: `file:${file}`, provider: "sqlite", where: `${file} (WAL, synchronous=FULL)`, drop: async () => rmSync(file, { force: true }) };
  }
  const schema = `bench_${name.replace(/[^a-z0-9]/g, "_")}_${randomBytes(4).toString("hex")}`;
  const location = parseDatabaseUrl(postgresUrl).location;
  const host = new URL(location).host;
  return {
    url: `${postgresUrl}${postgresUrl.includes("?") ? "&" : "?"}schema=${schema}`,
    provider: "postgresql",
    where: `PostgreSQL ${host}, schema ${schema}`,
    async drop() {
      const client = new pg.Client({ connectionString: location });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
    },
  };
}

export interface StartOptions {
  /**
   * Serve the shipped policies/ with the GitOps writer running, its environments pointed at a
   * temp bare repository: wired as src/main.ts wires them (policies decided in the push's
   * transaction, releases queued there, the writer told and committing meanwhile).
   */
  shippedPolicies?: boolean;
}

/**
 * Opens an already migrated database and serves relengd on it, as src/main.ts does minus
 * logging, metrics, token revocations, the bus and schedules. Without `shippedPolicies` no
 * environment is configured and nothing is released: the server only stores and reads artifacts.
 */
export async function startRelengd(databaseUrl: string, role: Role, options: StartOptions = {}): Promise<BenchServer> {
  const db = await openStore(databaseUrl);
  const tokens = new TokenService(randomBytes(32).toString("hex"));
  let gitops: { dir: string; remote: string; writer: Writer; lease: BranchLease } | undefined;
  let policies: ApplicationParts["policies"] = fixedPolicies({ policies: [], environments: noEnvironments });
  let dir: string | undefined;
  if (options.shippedPolicies) {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-bench-gitops-"));
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    policies = new PolicyHolder(path.resolve(import.meta.dirname, "../policies"), remote);
  }
  const lease = branchLeaseFor(db.target);
  // Composed as the server composes it.
  const application = await composeApplication({
    store: db,
    policies,
    rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
    tokens,
    logger: pino({ level: process.env.BENCH_LOG ?? "silent" }),
    httpLogger: false,
    workspacesDir: path.join(dir ?? tmpdir(), "workspaces"),
    writer: process.env.BENCH_WRITER_BATCH ? { batchSize: Number(process.env.BENCH_WRITER_BATCH) } : {},
    lease,
    readyRemoteBoundMs: 300_000,
    onPolicyError: (err) => {
      throw err;
    },
  });
  const { app, artifacts, writer } = application;
  if (dir) {
    gitops = { dir, remote: path.join(dir, "gitops.git"), writer, lease };
    await writer.start();
  }

  // The load generator ends a run by dropping its connections, requests in flight included, and
  // the server goes on with them; these hooks count what it answered and tell when it is done.
  // Counted from preHandler (body received, token checked: nothing before it stores anything)
  // to onSend, which runs for every reply, also when the client has gone away. A request
  // dropped while its body was still arriving never reaches preHandler.
  let created201 = 0;
  let inFlight = 0;
  const started = new WeakSet<object>();
  app.addHook("preHandler", async (request) => {
    started.add(request);
    inFlight += 1;
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (started.delete(request)) inFlight -= 1;
    if (reply.statusCode === 201) created201 += 1;
    return payload;
  });

  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  const { token } = await tokens.issue({ subject: `bench-${role}`, role, ttlSeconds: 3600 });
  return {
    app,
    db,
    artifacts,
    url,
    token,
    ...(gitops ? { remote: gitops.remote } : {}),
    created201: () => created201,
    async settle() {
      const deadline = Date.now() + 60_000;
      while (inFlight > 0 && Date.now() < deadline) await pause(20);
      return inFlight === 0;
    },
    async queueDepth() {
      if (!gitops) return 0;
      return (await application.releases.queueStats()).reduce((n, q) => n + q.depth, 0);
    },
    async close() {
      await application.close();
      await lease.close();
      await db.close();
      if (gitops) rmSync(gitops.dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a bench that starts `relengd serve` itself on the databases BENCH_PROVIDERS names
 * (`sqlite,postgresql` by default): SQLite first, then PostgreSQL when BENCH_DATABASE_URL is set.
 */
export async function onEachProvider(what: string, run: (provider: "sqlite" | "postgresql", postgresUrl?: string) => Promise<void>): Promise<void> {
  const postgresUrl = process.env.BENCH_DATABASE_URL;
  const providers = (process.env.BENCH_PROVIDERS ?? "sqlite,postgresql").split(",").map((p) => p.trim());
  if (providers.includes("sqlite")) await run("sqlite");
  if (providers.includes("postgresql")) {
    if (postgresUrl) await run("postgresql", postgresUrl);
    else console.log(`${what} on postgresql: skipped (set BENCH_DATABASE_URL)`);
  }
}
