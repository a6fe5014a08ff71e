// An in-process relengd (real store, real tokens) for API tests through inject().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { buildApp } from "../../src/api/app.js";
import { Metrics } from "../../src/api/plugins/metrics.js";
import { RevocationList, TokenService } from "../../src/auth/tokens.js";
import type { Role } from "../../src/domain/token.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { Writer, type WriterOptions } from "../../src/gitops/writer.js";
import { policyEventHandler, type EvaluateDeps } from "../../src/flow/evaluatePolicies.js";
import { pushQueue, type PushQueue } from "../../src/flow/pushArtifact.js";
import type { EnvironmentSet } from "../../src/policy/environments.js";
import { fixedPolicies, PolicyHolder } from "../../src/policy/loader.js";
import { WaiverRepository } from "../../src/store/waiverRepository.js";
import { DecisionRepository } from "../../src/store/decisionRepository.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import { TokenRepository } from "../../src/store/tokenRepository.js";
import { freshDatabase, type TestDatabase, type TestProvider } from "./database.js";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  tokens: TokenService;
  revocations: RevocationList;
  releases: ReleaseRepository;
  writer: Writer;
  /** The bare GitOps remote (a temp dir) every shipped environment writes to. */
  remote: string;
  environments: EnvironmentSet;
  decisions: DecisionRepository;
  /** Where pushes are stored with what the policies decide. */
  pushes: PushQueue;
  /** What policy evaluation runs with (schedules in tests use it too). */
  evaluate: EvaluateDeps;
  policies: Pick<PolicyHolder, "get" | "reload" | "environments">;
  /** A bearer header for a fresh token with this role (and scopes). */
  auth(role: Role, scope?: { packages?: string[]; environments?: string[]; ttlSeconds?: number }): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

const POLICIES = path.resolve(__dirname, "../../policies");

export interface TestAppOptions {
  writer?: Partial<WriterOptions>;
  /** Environments to use instead of the shipped ones (then no policies). */
  environments?: EnvironmentSet;
  /** A policies folder to load instead of the shipped one (its repositories default to the test remote). */
  policiesDir?: string;
  now?: () => Date;
  /** /readyz: how long a writer may fail every attempt (default 5 min, as the server's). */
  readyRemoteBoundMs?: number;
  /** The clock of the writer's failures and of /readyz (and /metrics) judging them. */
  clock?: () => Date;
  /** SQLite: how long a write waits for another process's lock (default as the server's). */
  busyTimeoutMs?: number;
}

export async function startTestApp(provider: TestProvider, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await freshDatabase(provider, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-git-"));
  const remote = path.join(dir, "gitops.git");
  await ensureBareRepository(remote);
  // The shipped policies/ (environments and policies), pointed at this test's remote.
  const policies = options.environments
    ? fixedPolicies({ policies: [], environments: options.environments })
    : new PolicyHolder(options.policiesDir ?? POLICIES, remote);
  const environments = policies.environments();
  const rules = { rawhideVersion: DEFAULT_RAWHIDE_VERSION };
  const decisions = new DecisionRepository(database.db.store);
  const waivers = new WaiverRepository(database.db.store);
  const releases = new ReleaseRepository(database.db.store);
  const artifacts = new ArtifactRepository(database.db.store);
  const writer = new Writer(
    { releases, artifacts, environments: () => policies.environments(), rules, workspacesDir: path.join(dir, "workspaces"), logger: pino({ level: "silent" }), ...(options.clock ? { now: options.clock } : {}) },
    { pollMs: 200, ...options.writer },
  );
  await writer.start();
  const tokenRepo = new TokenRepository(database.db.store);
  const revocations = new RevocationList(() => tokenRepo.activeRevocations(), 60_000, () => undefined);
  await revocations.start();
  const tokens = new TokenService(TEST_SECRET, revocations.has);
  const evaluate: EvaluateDeps = { store: database.db.store, artifacts, releases, decisions, waivers, policies: () => policies.get(), notify: (repo) => writer.notify(repo), rules, ...(options.now ? { now: options.now } : {}) };
  const pushes = pushQueue(evaluate);
  const readiness = { writers: () => writer.health(), remoteBoundMs: options.readyRemoteBoundMs ?? 300_000, ...(options.clock ? { now: options.clock } : {}) };
  const metrics = new Metrics();
  metrics.observeWriters(readiness);
  const app = await buildApp({
    prisma: database.db.prisma,
    store: database.db.store,
    metrics,
    artifacts,
    pushes,
    tokens,
    releases: { releases, artifacts, environments: () => policies.environments(), notify: (repo) => writer.notify(repo), rules },
    policies: {
      decisions,
      holder: policies,
      onEvent: policyEventHandler(evaluate, (err) => {
        throw err;
      }),
    },
    logger: false,
    readiness,
  });
  await app.ready();
  return {
    app,
    database,
    tokens,
    revocations,
    releases,
    writer,
    remote,
    environments,
    decisions,
    pushes,
    evaluate,
    policies,
    async auth(role, scope = {}) {
      const issued = await tokens.issue({ subject: `test-${role}`, role, ttlSeconds: scope.ttlSeconds ?? 3600, ...scope });
      return { authorization: `Bearer ${issued.token}` };
    },
    async close() {
      revocations.stop();
      await app.close();
      await writer.stop();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
