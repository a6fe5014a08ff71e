// Authentication: routes declare the role they need in `config.role`; this plugin verifies the
// bearer token (relengd's own, or a trusted OIDC issuer's) and attaches the principal. Scope
// checks (package, environment) are the use cases' job, since only they know which package a
// request touches.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { TokenService } from "../../auth/tokens.js";
import { SigningKeysUnavailable, TokenGrantsNothing, TokenRejected } from "../../auth/tokens.js";
import { roleAtLeast, type Principal, type Role } from "../../domain/token.js";
import { forbidden, invalidToken, Problem, unauthorized } from "../problem.js";

// How long a caller should wait before trying again when an issuer's keys could not be fetched.
const KEYS_RETRY_AFTER_SECONDS = 5;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Least role a caller needs; routes without it are public (probes). */
    role?: Role;
    /**
     * An HTML page for people: asked for without a token, it answers 401 with `signInPage`'s
     * page (which fetches it again with the dashboard's token) instead of problem+json.
     */
    signInPage?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized("this route needs a bearer token");
  return request.principal;
}

export const authPlugin = fp((app: FastifyInstance, opts: { tokens: TokenService; anonymousRead?: boolean; signInPage?: (reply: FastifyReply) => FastifyReply }) => {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request, reply) => {
    const needed = request.routeOptions.config.role;
    if (!needed) return;
    const header = request.headers.authorization;
    // RELENGD_ANONYMOUS_READ: reader routes without a token; a token sent is still checked.
    if (!header && needed === "reader" && opts.anonymousRead) return;
    // A link followed from a mail or the dashboard's menu carries no header: the browser holds the
    // token in the dashboard's session storage, which only a script of the page can read.
    if (!header && request.routeOptions.config.signInPage && opts.signInPage) return opts.signInPage(reply.code(401));
    if (!header) throw unauthorized("missing Authorization: Bearer <token> header");
    // The scheme is case-insensitive (RFC 9110 §11.1).
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!m?.[1]) throw unauthorized("Authorization header must be Bearer <token>");
    try {
      request.principal = await opts.tokens.verify(m[1]);
    } catch (err) {
      if (err instanceof TokenRejected) throw invalidToken(err.reason);
      if (err instanceof TokenGrantsNothing) throw forbidden(err.reason);
      if (err instanceof SigningKeysUnavailable) {
        request.log.warn({ err: err.reason }, "token not checked: an issuer's signing keys are unavailable");
        void reply.header("retry-after", String(KEYS_RETRY_AFTER_SECONDS));
        throw new Problem(503, "Service unavailable", err.reason, "signing-keys-unavailable");
      }
      throw err;
    }
    if (!roleAtLeast(request.principal.role, needed)) {
      throw forbidden(`role ${request.principal.role} may not use this route (needs ${needed} or above)`);
    }
    request.log.info({ subject: request.principal.subject, role: request.principal.role }, "authenticated");
  });
  return Promise.resolve();
});
