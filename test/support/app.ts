// An in-process relengd (real store, real tokens) for API tests through inject().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import type { AppDeps } from "../../src/api/app.js";
import { composeApplication, type Application, type ApplicationParts } from "../../src/application.js";
import { RevocationList, TokenService } from "../../src/auth/tokens.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import type { Role } from "../../src/domain/token.js";
import { policyEventHandler, type EvaluateDeps } from "../../src/flow/evaluatePolicies.js";
import type { PushQueue } from "../../src/flow/pushArtifact.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import type { Writer, WriterOptions } from "../../src/gitops/writer.js";
import type { EnvironmentSet } from "../../src/policy/environments.js";
import { fixedPolicies, PolicyHolder } from "../../src/policy/loader.js";
import type { DecisionRepository } from "../../src/store/decisionRepository.js";
import type { ReleaseRepository } from "../../src/store/releaseRepository.js";
import { TokenRepository } from "../../src/store/tokenRepository.js";
import { freshDatabase, type TestDatabase, type TestProvider } from "./database.js";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";

export interface TestApp {
  app: FastifyInstance;
  /** The whole application as the composition root built it. */
  application: Application;
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
  /** Requests on the `gitops` repository (its poller not started: tests kick it). */
  requests?: { pollMs?: number };
  /** RELENGD_FORGE_WEBHOOK_SECRET (absent: POST /api/v1/forge/webhook answers 404). */
  forgeWebhookSecret?: string;
  /** Issue 18: the repoclosure checks; the gate starts with the writer. */
  repoclosure?: ApplicationParts["repoclosure"];
  /** Issue 18: what report policies mail with (they check with `repoclosure.checks`). */
  reports?: ApplicationParts["reports"];
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
  const tokenRepo = new TokenRepository(database.db);
  const revocations = new RevocationList(() => tokenRepo.activeRevocations(), 60_000, () => undefined);
  await revocations.start();
  const tokens = new TokenService(TEST_SECRET, revocations.has);
  // Composed as the server composes it; policy evaluation errors fail the test instead of being logged.
  const application = await composeApplication({
    store: database.db,
    policies,
    rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
    tokens,
    logger: pino({ level: "silent" }),
    httpLogger: false,
    workspacesDir: path.join(dir, "workspaces"),
    writer: { pollMs: 200, ...options.writer },
    readyRemoteBoundMs: options.readyRemoteBoundMs ?? 300_000,
    onPolicyError: (err) => {
      throw err;
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.requests ? { requests: { repository: "gitops", factsDir: options.policiesDir ?? POLICIES, ...options.requests } } : {}),
    ...(options.forgeWebhookSecret ? { forgeWebhookSecret: options.forgeWebhookSecret } : {}),
    ...(options.repoclosure ? { repoclosure: options.repoclosure } : {}),
    ...(options.reports ? { reports: options.reports } : {}),
  });
  // Only the writer runs by itself: tests drive schedules through `evaluate` at the times they choose.
  await application.writer.start();
  application.gate?.start();
  const { app } = application;
  await app.ready();
  return {
    app,
    application,
    database,
    tokens,
    revocations,
    releases: application.releases,
    writer: application.writer,
    remote,
    environments: policies.environments(),
    decisions: application.decisions,
    pushes: application.pushes,
    evaluate: application.evaluate,
    policies,
    async auth(role, scope = {}) {
      const issued = await tokens.issue({ subject: `test-${role}`, role, ttlSeconds: scope.ttlSeconds ?? 3600, ...scope });
      return { authorization: `Bearer ${issued.token}` };
    },
    async close() {
      revocations.stop();
      await application.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What a second HTTP app on a test app's store, tokens and writer is built from (an app with
 * other settings or another request service); policy evaluation errors fail the test.
 */
export function appDepsOf(t: TestApp): Pick<AppDeps, "store" | "artifacts" | "pushes" | "tokens" | "releases" | "policies" | "logger"> {
  return {
    store: t.database.db,
    artifacts: t.evaluate.artifacts,
    pushes: t.pushes,
    tokens: t.tokens,
    releases: { releases: t.releases, artifacts: t.evaluate.artifacts, environments: () => t.policies.environments(), notify: (repo) => t.writer.notify(repo), rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } },
    policies: {
      decisions: t.decisions,
      holder: t.policies,
      onEvent: policyEventHandler(t.evaluate, (err) => {
        throw err;
      }),
    },
    logger: false,
  };
}
