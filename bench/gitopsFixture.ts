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
import { migrate } from "../src/store/migrator.js";
import type { ReleaseRepository } from "../src/store/releaseRepository.js";
import { openStore, type Store } from "../src/store/store.js";

export interface GitopsBench {
  dir: string;
  remote: string;
  app: FastifyInstance;
  db: Store;
  releases: ReleaseRepository;
  writer: Writer;
  ci: string;
  releaser: string;
  /** The remote's main head, read from the ref file the way a fetch would see it. */
  remoteHead(): string | null;
  close(): Promise<void>;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export async function startGitopsBench(options: { shippedPolicies?: boolean; writerPollMs?: number } = {}): Promise<GitopsBench> {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-bench-"));
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  const url = `file:${path.join(dir, "relengd.db")}`;
  await migrate(url);
  const db = await openStore(url);
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
    readyRemoteBoundMs: 300_000,
    onPolicyError: (err) => {
      throw err;
    },
  });
  const { app, writer, releases } = application;
  await writer.start();
  await app.ready();
  const ci = (await tokens.issue({ subject: "bench-ci", role: "ci", ttlSeconds: 3600 })).token;
  const releaser = (await tokens.issue({ subject: "bench-releaser", role: "releaser", ttlSeconds: 3600 })).token;
  return {
    dir,
    remote,
    app,
    db,
    releases,
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
      await db.close();
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
