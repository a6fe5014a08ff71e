// The web dashboard's page and assets (src/web, no build step). The summaries it reads are
// resources of their own: routes/overview.ts, the environment state in routes/environments.ts, a
// release's timeline and document in routes/releases.ts.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { notFound } from "../problem.js";

/**
 * src/web beside src/ and dist/ alike: this file runs as src/api/routes/dashboard.ts (tsx,
 * vitest) or dist/api/routes/dashboard.js (npm start), three levels below the package root.
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../../src/web/", import.meta.url));

// The page loads only its own files and talks only to this server: nothing from the internet.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

// What a page for people answers when the browser sent no token (plugins/auth.ts): its script
// asks again with the token the dashboard keeps for this tab, and shows the answer.
const SIGN_IN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relengd — sign in</title>
<link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/signedPage.js"></script>
</head>
<body>
<main>
<h1>relengd</h1>
<p id="sign-in-status">This page needs a reader token.</p>
<p><a href="/">Open the dashboard</a>, sign in, then follow this link again in the same tab.</p>
</main>
</body>
</html>
`;

export function signInPage(reply: FastifyReply): FastifyReply {
  return reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store")
    .send(SIGN_IN_PAGE);
}

/** index.html at / and every file of webDir under /assets/, with a policy that keeps the page to this server. */
async function servePage(app: FastifyInstance, webDir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: webDir,
    prefix: "/assets/",
    index: false,
    list: false,
    // Revalidated on each load (ETag), so a new version of relengd never runs a stale script.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (reply) => {
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-content-type-options", "nosniff");
    },
  });
  // The page is public (it holds no data); the API calls it makes need a reader token unless
  // anonymous read is on.
  app.get("/", { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .sendFile("index.html");
  });
}

export interface DashboardOptions {
  /** Where index.html and its assets are; DEFAULT_WEB_DIR unless a test says otherwise. */
  webDir?: string;
}

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  // An install without src/web still serves the API; the page says what is missing.
  if (existsSync(path.join(webDir, "index.html"))) await servePage(app, webDir);
  else {
    app.log.warn({ webDir }, "dashboard files are missing; serving the API without the web dashboard");
    app.get("/", { schema: { hide: true } }, () => Promise.reject(notFound(`the web dashboard's files are not installed (${webDir})`)));
  }
}
