// Authentication: routes declare the role they need in `config.role`; this plugin verifies the
// bearer token and attaches the principal. Scope checks (package, environment) are the use
// cases' job, since only they know which package a request touches.
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { TokenService } from "../../auth/tokens.js";
import { TokenRejected } from "../../auth/tokens.js";
import { roleAtLeast, type Principal, type Role } from "../../domain/token.js";
import { forbidden, unauthorized } from "../problem.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Least role a caller needs; routes without it are public (probes). */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized("this route needs a bearer token");
  return request.principal;
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { tokens: TokenService }) => {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request) => {
    const needed = request.routeOptions.config.role;
    if (!needed) return;
    const header = request.headers.authorization;
    if (!header) throw unauthorized("missing Authorization: Bearer <token> header");
    // The scheme is case-insensitive (RFC 9110 §11.1).
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!m?.[1]) throw unauthorized("Authorization header must be Bearer <token>");
    try {
      request.principal = await opts.tokens.verify(m[1]);
    } catch (err) {
      if (err instanceof TokenRejected) throw unauthorized(err.reason);
      throw err;
    }
    if (!roleAtLeast(request.principal.role, needed)) {
      throw forbidden(`role ${request.principal.role} may not use this route (needs ${needed} or above)`);
    }
    request.log.info({ subject: request.principal.subject, role: request.principal.role }, "authenticated");
  });
});
