// A relengd app with a real writer and a temp bare GitOps remote, for the release benchmarks.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { composeApplication } from "../src/application.js";
import { TokenService } from "../src/auth/tokens.js";
import type { ArtifactInput } from "../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../src/domain/busMapping.js";
import { ensureBareRepository } from "../src/gitops/repository.js";
import type { Writer } from "../src/gitops/writer.js";
import { loadEnvironments } from "../src/policy/environments.js";
import { fixedPolicies, PolicyHolder } from "../src/policy/loader.js";
import type { ArtifactRepository } from "../src/store/artifactRepository.js";
import { branchLeaseFor } from "../src/store/branchLease.js";
import { migrate } from "../src/store/migrator.js";
import type { ReleaseRepository } from "../src/store/releaseRepository.js";
import { openStore, type OpenOptions, type Store } from "../src/store/store.js";
import { benchDatabase, type BenchDatabase } from "./relengdServer.js";

export interface GitopsBench {
  dir: string;
  remote: string;
  app: FastifyInstance;
  db: Store;
  /** Where the store is: a SQLite temp file, or a PostgreSQL schema of its own (BENCH_DATABASE_URL). */
  database: BenchDatabase;
  /** What a BENCH line's name ends in: "" on SQLite, "-postgresql" on PostgreSQL. */
  nameSuffix: string;
  releases: ReleaseRepository;
  artifacts: ArtifactRepository;
  writer: Writer;
  ci: string;
  releaser: string;
  /** The remote's main head, read from the ref file the way a fetch would see it. */
  remoteHead(): string | null;
  close(): Promise<void>;
}

/** The baselines' git: never traced, whatever a profile set in this process's environment for the writer. */
const plainGitEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_TRACE")));

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: plainGitEnv });
}

export interface GitopsBenchOptions {
  shippedPolicies?: boolean;
  writerPollMs?: number;
  /** PostgreSQL database to make a schema of its own in; default BENCH_DATABASE_URL, else a SQLite temp file. */
  postgresUrl?: string;
  /** How the store opens (SQLite: how the log is synced; the profile times it). */
  storeOptions?: OpenOptions;
  /** Called before the app is ready: hooks a bench adds. */
  onApp?: (app: FastifyInstance) => void;
}

export async function startGitopsBench(options: GitopsBenchOptions = {}): Promise<GitopsBench> {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-bench-"));
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  const database = benchDatabase(dir, "gitops", options.postgresUrl ?? process.env.BENCH_DATABASE_URL);
  await migrate(database.url);
  const db = await openStore(database.url, options.storeOptions);
  // As src/main.ts does: on PostgreSQL the writer takes the branch's advisory lock.
  const lease = branchLeaseFor(db.target);
  const shipped = path.resolve(import.meta.dirname, "../policies");
  const holder = options.shippedPolicies ? new PolicyHolder(shipped, remote) : fixedPolicies({ policies: [], environments: loadEnvironments(shipped, remote) });
  const tokens = new TokenService(randomBytes(32).toString("hex"));
  // Composed as the server composes it.
  const application = await composeApplication({
    store: db,
    policies: holder,
    rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
    tokens,
    logger: pino({ level: process.env.BENCH_LOG ?? "silent" }),
    httpLogger: false,
    workspacesDir: path.join(dir, "workspaces"),
    writer: { ...(options.writerPollMs ? { pollMs: options.writerPollMs } : {}), ...(process.env.BENCH_WRITER_BATCH ? { batchSize: Number(process.env.BENCH_WRITER_BATCH) } : {}) },
    lease,
    readyRemoteBoundMs: 300_000,
    onPolicyError: (err) => {
      throw err;
    },
  });
  const { app, writer, releases, artifacts } = application;
  options.onApp?.(app);
  await writer.start();
  await app.ready();
  const ci = (await tokens.issue({ subject: "bench-ci", role: "ci", ttlSeconds: 3600 })).token;
  const releaser = (await tokens.issue({ subject: "bench-releaser", role: "releaser", ttlSeconds: 3600 })).token;
  return {
    dir,
    remote,
    app,
    db,
    database,
    nameSuffix: database.provider === "postgresql" ? "-postgresql" : "",
    releases,
    artifacts,
    writer,
    ci,
    releaser,
    remoteHead() {
      try {
        return readFileSync(path.join(remote, "refs/heads/main"), "utf8").trim();
      } catch {
        return null;
      }
    },
    async close() {
      await app.close();
      await writer.stop();
      await lease.close();
      await db.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function benchArtifact(n: number, pkg = `bench-pkg-${n}`): ArtifactInput {
  return {
    id: `bench-${n}`,
    package: pkg,
    release: "rawhide",
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: (n.toString(16) + "a".repeat(40)).slice(0, 40), branch: "rawhide", event: "build" },
    items: [{ kind: "koji-build", nvr: `${pkg}-1.0-${n}.fc45`, buildId: 3_000_000 + n, target: "f45-candidate" }],
    context: {},
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export const ms = (n: number) => `${n.toFixed(1)} ms`;
