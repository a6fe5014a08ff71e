// An in-process relengd (real store, real tokens) for API tests through inject().
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/api/app.js";
import { RevocationList, TokenService } from "../../src/auth/tokens.js";
import type { Role } from "../../src/domain/token.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { TokenRepository } from "../../src/store/tokenRepository.js";
import { freshDatabase, type TestDatabase, type TestProvider } from "./database.js";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  tokens: TokenService;
  revocations: RevocationList;
  /** A bearer header for a fresh token with this role (and scopes). */
  auth(role: Role, scope?: { packages?: string[]; environments?: string[]; ttlSeconds?: number }): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export async function startTestApp(provider: TestProvider): Promise<TestApp> {
  const database = await freshDatabase(provider);
  const tokenRepo = new TokenRepository(database.db.prisma);
  const revocations = new RevocationList(() => tokenRepo.activeRevocations(), 60_000, () => undefined);
  await revocations.start();
  const tokens = new TokenService(TEST_SECRET, revocations.has);
  const app = await buildApp({
    prisma: database.db.prisma,
    artifacts: new ArtifactRepository(database.db.prisma),
    tokens,
    logger: false,
  });
  await app.ready();
  return {
    app,
    database,
    tokens,
    revocations,
    async auth(role, scope = {}) {
      const issued = await tokens.issue({ subject: `test-${role}`, role, ttlSeconds: scope.ttlSeconds ?? 3600, ...scope });
      return { authorization: `Bearer ${issued.token}` };
    },
    async close() {
      revocations.stop();
      await app.close();
      await database.dispose();
    },
  };
}
