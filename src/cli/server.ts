// Server-side verbs: serve, migrate, token. They read the server's own configuration.
import { setFlagsFromString } from "node:v8";
import type { Command } from "commander";
import { InvalidTokenRequest, TokenService } from "../auth/tokens.js";
import { loadConfig, readTokenSecret, resolveTokenSecret } from "../config.js";
import { GLOB_PATTERN } from "../domain/glob.js";
import { parseDuration, roles, type Role } from "../domain/token.js";
import { CliError, exitCodes } from "./client.js";

// The server, the store and the logger are imported by the verbs that use them: loading Prisma
// and fastify up front would add most of a second to every client verb a pipeline runs.

function globs(text: string | undefined, flag: string): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(",").map((g) => g.trim()).filter(Boolean);
  // `--packages "$EMPTY"` must not silently become a token for every package.
  if (list.length === 0) throw new CliError(`${flag}: give at least one glob, or leave ${flag} out for no restriction`, exitCodes.usage);
  for (const g of list) if (!GLOB_PATTERN.test(g)) throw new CliError(`${flag}: "${g}" is not a glob`, exitCodes.usage);
  return list;
}

/**
 * The server keeps little alive (tens of MB) but makes much mid-lived garbage: request bodies
 * held through a group commit, a writer batch held through its push. V8 lets the old
 * generation grow to 4× the live data before collecting it, which a mass rebuild turned into
 * 330 MB of RSS for 40 MB of live objects. Growing by half instead kept the peak at 218-226 MB
 * with server CPU within run-to-run noise (44.6-50.9 s against 48.2 s for the 25,000 builds),
 * and, unlike a heap cap, never fails a process whose live data grows. A heap flag given on
 * the command line or in NODE_OPTIONS wins. The young generation is capped at 8 MB semi-spaces
 * by the command line (bin/relengd.js, npm start, the Containerfile; V8 reads that flag only at
 * start-up): V8's 16 MB default took the mass rebuild's peak from 205-208 MB to 227-232 MB at
 * the same server CPU.
 */
export const HEAP_GROWING_PERCENT = 50;

function tuneHeap(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ");
  if (/--(heap-growing-percent|max-old-space-size|max-heap-size|optimize-for-size)\b/.test(given)) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

export function registerServerCommands(program: Command): void {
  program
    .command("serve")
    .description("run the server (RELENGD_* environment variables; see README)")
    .action(async () => {
      const config = loadConfig();
      tuneHeap();
      const [{ createLogger }, { closeOnSignals, startServer }] = await Promise.all([import("../logger.js"), import("../main.js")]);
      const logger = createLogger(config.logLevel);
      const server = await startServer(config, logger);
      closeOnSignals(server, logger);
    });

  program
    .command("migrate")
    .description("apply pending database migrations (the server also does this at start-up) and create the token secret if there is none")
    .action(async () => {
      const config = loadConfig();
      // An operator may migrate and issue the first tokens before the server's first start.
      resolveTokenSecret(config, (msg) => process.stderr.write(`warning: ${msg}\n`));
      const { migrate } = await import("../store/migrator.js");
      const report = await migrate(config.databaseUrl);
      process.stdout.write(`applied ${report.applied.length} migration(s), ${report.alreadyApplied.length} already applied\n`);
      for (const m of report.applied) process.stdout.write(`  applied ${m}\n`);
      for (const m of report.modified) process.stderr.write(`  warning: ${m} changed on disk since it was applied\n`);
    });

  const token = program.command("token").description("issue and revoke access tokens (run on the server's host)");

  token
    .command("issue")
    .description("print a new token signed with the server's secret")
    .requiredOption("--subject <name>", "who the token is for (a person or a pipeline)")
    .requiredOption("--role <role>", `one of ${roles.join(", ")}`)
    .option("--packages <globs>", "comma-separated package globs the token may touch (e.g. python-*,!python-foo)")
    .option("--environments <globs>", "comma-separated environment globs the token may release to")
    .option("--ttl <duration>", "lifetime: 45m, 12h, 30d, 8w", "30d")
    .action(async (o: { subject: string; role: string; packages?: string; environments?: string; ttl: string }) => {
      if (!(roles as readonly string[]).includes(o.role)) throw new CliError(`--role must be one of ${roles.join(", ")}`, exitCodes.usage);
      const ttlSeconds = parseDuration(o.ttl);
      if (ttlSeconds === undefined) throw new CliError(`--ttl "${o.ttl}" is not a duration like 30d`, exitCodes.usage);
      const config = loadConfig();
      const secret = readTokenSecret(config);
      const packages = globs(o.packages, "--packages");
      const environments = globs(o.environments, "--environments");
      const issued = await new TokenService(secret)
        .issue({
          subject: o.subject,
          role: o.role as Role,
          ttlSeconds,
          ...(packages ? { packages } : {}),
          ...(environments ? { environments } : {}),
        })
        .catch((err: unknown) => {
          if (err instanceof InvalidTokenRequest) throw new CliError(`cannot issue this token: ${err.message}`, exitCodes.usage);
          throw err;
        });
      process.stderr.write(`token ${issued.jti} for ${o.subject} (${o.role}), expires ${issued.expiresAt.toISOString()}\n`);
      process.stdout.write(issued.token + "\n");
    });

  token
    .command("revoke")
    .description("revoke a token by its id (jti); servers stop accepting it within seconds")
    .argument("<jti>", "token id printed by `token issue`")
    .action(async (jti: string) => {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(jti)) throw new CliError(`"${jti}" is not a token id`, exitCodes.usage);
      const config = loadConfig();
      const [{ migrate }, { openStore }, { TokenRepository }] = await Promise.all([
        import("../store/migrator.js"),
        import("../store/store.js"),
        import("../store/tokenRepository.js"),
      ]);
      await migrate(config.databaseUrl);
      const db = await openStore(config.databaseUrl);
      try {
        const result = await new TokenRepository(db).revoke(jti);
        process.stdout.write(`${result} ${jti}\n`);
      } finally {
        await db.close();
      }
    });
}
