// The real relengd app served in-process on 127.0.0.1 for the benchmarks, with counters that tell when it has finished its requests.
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { DEFAULT_RAWHIDE_VERSION } from "../src/domain/busMapping.js";
import { buildApp } from "../src/api/app.js";
import { TokenService } from "../src/auth/tokens.js";
import type { Role } from "../src/domain/token.js";
import type { EnvironmentSet } from "../src/policy/environments.js";
import { fixedPolicies } from "../src/policy/loader.js";
import { DecisionRepository } from "../src/store/decisionRepository.js";
import { ArtifactRepository } from "../src/store/artifactRepository.js";
import { openDatabase, type Database } from "../src/store/database.js";
import { ReleaseRepository } from "../src/store/releaseRepository.js";
import { pause } from "./load.js";

const noEnvironments: EnvironmentSet = { repositories: new Map(), environments: new Map(), source: "(none: benchmark)" };

export interface BenchServer {
  app: FastifyInstance;
  db: Database;
  artifacts: ArtifactRepository;
  url: string;
  /** A bearer token with the role the benchmark needs. */
  token: string;
  /** 201 answers the server made (also those whose client had already gone away). */
  created201(): number;
  /** Waits until no request is being handled; false if that took more than a minute. */
  settle(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens an already migrated database and serves relengd on it, as src/main.ts does minus
 * logging, token revocations and the GitOps writer: the benchmarks only push and read artifacts,
 * so no environment is configured and nothing is released.
 */
export async function startRelengd(databaseUrl: string, role: Role): Promise<BenchServer> {
  const db = await openDatabase(databaseUrl);
  const artifacts = new ArtifactRepository(db.store);
  const tokens = new TokenService(randomBytes(32).toString("hex"));
  const releases = { releases: new ReleaseRepository(db.store), artifacts, environments: () => noEnvironments, notify: () => undefined, rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION } };
  const app = await buildApp({
    prisma: db.prisma,
    store: db.store,
    artifacts,
    // No policies: pushes are stored alone.
    pushes: { submit: (artifact) => artifacts.ingest(artifact) },
    tokens,
    releases,
    policies: { decisions: new DecisionRepository(db.store), holder: fixedPolicies({ policies: [], environments: noEnvironments }), onEvent: async () => undefined },
    logger: false,
  });

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
    created201: () => created201,
    async settle() {
      const deadline = Date.now() + 60_000;
      while (inFlight > 0 && Date.now() < deadline) await pause(20);
      return inFlight === 0;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}
