// The server's configuration: environment variables, validated once at start-up.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { wellFormedString } from "./domain/text.js";
import { DEFAULT_RAWHIDE_VERSION } from "./domain/busMapping.js";
import { fieldErrorMap } from "./domain/fieldIssues.js";
import { TOPIC_PREFIXES, type TopicPrefix } from "./domain/envelope.js";
import { parseDuration } from "./domain/token.js";
import { describeScheduleRefusal, parseSchedule } from "./domain/schedule.js";
import { readOidcConfig, type OidcConfig } from "./auth/oidcConfig.js";
import { ensurePrivateDir } from "./store/privateFiles.js";

// AMQP short strings: exchange and queue names.
const AMQP_NAME = /^[A-Za-z0-9_.:-]{1,255}$/;
const BINDING_KEY = /^([A-Za-z0-9_+-]+|\*|#)(\.([A-Za-z0-9_+-]+|\*|#))*$/;

/**
 * The topics relengd binds its queue to unless RELENGD_AMQP_TOPICS says otherwise, the messages relengd maps:
 * Bodhi updates, Koji builds, tags and side tags, Pungi composes, ResultsDB results, WaiverDB
 * waivers, dist-git branch creations, fedocal meetings and pagure.io's request tickets on
 * Fedora's broker, and Fedora CI's koji-build test results on CentOS's. `#` matches any number of words, so
 * `bodhi.update.#` covers bodhi.update.request.testing and bodhi.update.status.testing.*.
 */
export const DEFAULT_AMQP_TOPICS = [
  "org.fedoraproject.prod.bodhi.update.#",
  "org.fedoraproject.prod.buildsys.build.state.change",
  "org.fedoraproject.prod.buildsys.tag",
  "org.fedoraproject.prod.buildsys.untag",
  "org.fedoraproject.prod.pungi.compose.status.change",
  "org.fedoraproject.prod.resultsdb.result.new",
  "org.fedoraproject.prod.waiverdb.waiver.new",
  "org.centos.prod.ci.koji-build.test.complete",
  "org.centos.prod.ci.koji-build.test.error",
  // Issue 17: the request processor's tickets on pagure.io (io.pagure.prod., as it subscribes),
  // dist-git's branch creations, fedocal's meetings, and the Koji messages that show side tags
  // (buildsys.tag/untag above show them too). The prefixes are the publishers' deployed
  // topic_prefix (fedora-infra/ansible): pagure.io io.pagure.prod, dist-git, Koji and fedocal
  // org.fedoraproject.prod.
  "io.pagure.prod.pagure.issue.new",
  "io.pagure.prod.pagure.issue.edit",
  "io.pagure.prod.pagure.issue.comment.added",
  "org.fedoraproject.prod.pagure.git.branch.creation",
  "org.fedoraproject.prod.pagure.project.new",
  "org.fedoraproject.prod.fedocal.meeting.new",
  "org.fedoraproject.prod.fedocal.meeting.update",
  "org.fedoraproject.prod.fedocal.meeting.delete",
  "org.fedoraproject.prod.buildsys.package.list.change",
  "org.fedoraproject.prod.buildsys.repo.init",
  "org.fedoraproject.prod.buildsys.repo.done",
];

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const envSchema = z.object({
  RELENGD_DATABASE_URL: wellFormedString()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "must be file:PATH (SQLite) or postgresql://… (PostgreSQL)")
    .default("file:./data/relengd.db"),
  RELENGD_HOST: wellFormedString().min(1).default("127.0.0.1"),
  RELENGD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  RELENGD_DATA_DIR: wellFormedString().min(1).default("./data"),
  RELENGD_POLICIES_DIR: wellFormedString().min(1).default("./policies"),
  RELENGD_GITOPS_REPO: wellFormedString().min(1).optional(),
  // The shadow repository the bus mirror writes (Bodhi updates, composes seen on the bus); by default a local bare repo beside gitops.git.
  RELENGD_SHADOW_REMOTE: wellFormedString().min(1).optional(),
  RELENGD_POLICIES_GIT_URL: wellFormedString().min(1).optional(),
  RELENGD_POLICIES_GIT_BRANCH: wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/, "must be a branch name").default("main"),
  RELENGD_POLICIES_GIT_PATH: wellFormedString().min(1).default("policies"),
  RELENGD_TOKEN_SECRET: wellFormedString().min(32, "must be at least 32 characters").optional(),
  RELENGD_LOG_LEVEL: z.enum(logLevels).default("info"),
  RELENGD_REVOCATION_REFRESH_MS: z.coerce.number().int().min(100).max(3_600_000).default(2000),
  // Each batch rewrites the documents' directory trees once and pushes once: on a 25,000-entry
  // tag directory that costs about 0.4 s of git whatever the batch holds, so a mass rebuild
  // wants large batches (the writer's queries cut their id lists under the bind limit).
  RELENGD_WRITER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  // A batch of more releases than this is a backlog: a policy's releases next to each other share
  // a commit (one commit each cannot keep up with a flood on a large tag directory).
  RELENGD_WRITER_COALESCE_ABOVE: z.coerce.number().int().min(1).max(5000).default(50),
  // The repository (a name in environments.yaml) whose `requests/…` branches are requests; "none": requests off.
  RELENGD_REQUESTS_REPOSITORY: wellFormedString().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be a repository name from environments.yaml, or none").default("gitops"),
  // How often request branches are looked for: the issue's bound is 5 s.
  RELENGD_REQUEST_POLL_MS: z.coerce.number().int().min(100).max(5000).default(2000),
  // /readyz fails once a GitOps remote has been unreachable for this long (writes queue meanwhile).
  RELENGD_READY_REMOTE_BOUND_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  // The Fedora message bus (fedora-messaging over AMQP); unset RELENGD_AMQP_URL = no consumer.
  RELENGD_AMQP_URL: wellFormedString().regex(/^amqps?:\/\/./, "must be amqp://… or amqps://…").optional(),
  RELENGD_AMQP_EXCHANGE: wellFormedString().regex(AMQP_NAME, "must be an exchange name").default("amq.topic"),
  RELENGD_AMQP_QUEUE: wellFormedString().regex(AMQP_NAME, "must be a queue name").default("relengd"),
  RELENGD_AMQP_TOPICS: wellFormedString()
    .transform((s) => s.split(",").map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(wellFormedString().regex(BINDING_KEY, "must be topic binding keys (words, * and #) separated by commas")).min(1))
    .optional(),
  RELENGD_AMQP_PREFETCH: z.coerce.number().int().min(1).max(1000).default(50),
  // fedora-messaging's topic_prefix for what relengd publishes (org.fedoraproject.prod. …).
  RELENGD_AMQP_PUBLISH_PREFIX: z.enum(TOPIC_PREFIXES, { message: `must be one of ${TOPIC_PREFIXES.join(", ")}` }).optional(),
  RELENGD_RAWHIDE_VERSION: z.coerce.number().int().min(30).max(999).default(DEFAULT_RAWHIDE_VERSION),
  // Retention on a schedule (five-field cron, UTC); unset, only `relengd prune` by hand or from a CronJob.
  // The check policies' schedules get too: node-cron runs it, and only what it and cron-parser read alike passes.
  RELENGD_PRUNE_SCHEDULE: wellFormedString()
    .superRefine((c, ctx) => {
      const parsed = parseSchedule(c, "UTC");
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: `must be a five-field cron expression like 0 3 * * * (${describeScheduleRefusal(parsed)})` });
    })
    .optional(),
  RELENGD_PRUNE_OLDER_THAN: wellFormedString()
    .refine((d) => parseDuration(d) !== undefined, "must be a duration like 180d")
    .default("180d"),
  // A YAML file of trusted OIDC issuers and their claim rules (src/auth/oidcConfig.ts); unset, only relengd's own tokens.
  RELENGD_OIDC_CONFIG: wellFormedString().min(1).optional(),
  // Reader routes (and the web dashboard) without a token; off unless set to true.
  RELENGD_ANONYMOUS_READ: z.enum(["true", "false"], "must be true or false").default("false"),
  // The secret of the forge's webhook (Forgejo/Gitea signature key, GitLab secret token); unset: POST /api/v1/forge/webhook is off.
  RELENGD_FORGE_WEBHOOK_SECRET: wellFormedString().min(16, "must be at least 16 characters").max(1024).optional(),
  // Issue 18: repoclosure before a compose and the broken-dependency report.
  // The dnf that runs `dnf repoclosure` (dnf 4 with dnf-plugins-core, or dnf 5 with its plugins).
  RELENGD_DNF: wellFormedString().min(1).max(1024).default("dnf"),
  // Each dnf process is killed at this age (a duration like 30m); the check then fails.
  RELENGD_REPOCLOSURE_TIMEOUT: wellFormedString()
    .refine((d) => parseDuration(d) !== undefined, "must be a duration like 30m")
    .default("30m"),
  // The address space each dnf process may use, in MiB.
  RELENGD_REPOCLOSURE_MEMORY_MB: z.coerce.number().int().min(256).max(1_048_576).default(4096),
  // A result this fresh is reused by the next release over the same repo set (a duration; 0s: never).
  RELENGD_REPOCLOSURE_MAX_AGE: wellFormedString()
    .refine((d) => d === "0s" || parseDuration(d) !== undefined, "must be a duration like 10m, or 0s")
    .default("10m"),
  // dnf's work folders (install root, cache) of repo sets not checked for this long are removed.
  RELENGD_REPOCLOSURE_KEEP_WORK: wellFormedString()
    .refine((d) => parseDuration(d) !== undefined, "must be a duration like 7d")
    .default("7d"),
  // The address people reach the server at, for links in commits and mail (the report's page).
  RELENGD_PUBLIC_URL: wellFormedString().regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL").optional(),
  // Mail: smtp://, smtps:// (nodemailer's URL form); unset, mail is written as .eml files under DATA_DIR/mail (a dry run).
  RELENGD_SMTP_URL: wellFormedString().regex(/^smtps?:\/\/[^\s]+$/, "must be smtp://… or smtps://…").optional(),
  RELENGD_MAIL_FROM: wellFormedString().regex(/^[^\s<>@]+@[^\s<>@]+$/, "must be an email address").default("relengd@localhost"),
  // Where a source package's mail goes: {package} is replaced by its name (spam-o-matic mailed <src>-owner@fedoraproject.org).
  RELENGD_MAIL_OWNER_ADDRESS: wellFormedString()
    .regex(/^[^\s<>@]*\{package\}[^\s<>@]*@[^\s<>@]+$/, "must be an email address with {package} before the @, like {package}-owner@fedoraproject.org")
    .default("{package}-owner@fedoraproject.org"),
  // The list the summary of each report's news goes to (spam-o-matic mailed devel@); unset, no summary.
  RELENGD_MAIL_LIST: wellFormedString().regex(/^[^\s<>@]+@[^\s<>@]+$/, "must be an email address").optional(),
  // A pagure_owner_alias.json-shaped file: the owners of each source package, when the facts have none.
  RELENGD_OWNER_ALIASES: wellFormedString().min(1).max(4096).optional(),
});

export interface Config {
  databaseUrl: string;
  host: string;
  port: number;
  dataDir: string;
  policiesDir: string;
  /** Policies from a git repository instead of policiesDir (RELENGD_POLICIES_GIT_*). */
  policiesGit?: { url: string; branch: string; path: string };
  /** The default GitOps repository: a local bare repo created on start-up if missing. */
  gitopsRepo: string;
  /** Where the bus mirror writes Bodhi updates and composes (RELENGD_SHADOW_REMOTE); a local bare repo by default. */
  shadowRepo: string;
  /** Undefined until resolveTokenSecret ran (it may create one in the data dir). */
  tokenSecret?: string;
  logLevel: (typeof logLevels)[number];
  revocationRefreshMs: number;
  /** Releases the writer takes from the queue per commit-and-push round. */
  writerBatchSize: number;
  writerCoalesceAbove: number;
  /** The repository whose `requests/…` branches are requests; undefined: requests are off. */
  requestsRepository: string | undefined;
  requestPollMs: number;
  /** How long a remote may be unreachable before /readyz fails. */
  readyRemoteBoundMs: number;
  /** The bus consumer; absent when RELENGD_AMQP_URL is not set. */
  amqp?: AmqpConfig;
  /** Where the consumer's queue is bound, whether or not RELENGD_AMQP_URL turns the consumer on (`relengd bus topics`). */
  busBindings: Pick<AmqpConfig, "exchange" | "queue" | "topics">;
  /** The Fedora version that is Rawhide (fcN builds with N at or above it map to rawhide). */
  rawhideVersion: number;
  /** Scheduled retention (RELENGD_PRUNE_SCHEDULE, RELENGD_PRUNE_OLDER_THAN); absent when no schedule is set. */
  prune?: { schedule: string; olderThanSeconds: number };
  /** Outside identity providers whose tokens are accepted (RELENGD_OIDC_CONFIG), read at start-up. */
  oidc?: OidcConfig;
  /** Reader routes answer without a token (RELENGD_ANONYMOUS_READ=true). */
  anonymousRead: boolean;
  /** RELENGD_FORGE_WEBHOOK_SECRET; undefined: forge webhooks are off. */
  forgeWebhookSecret?: string;
  /** How `dnf repoclosure` runs (RELENGD_DNF, RELENGD_REPOCLOSURE_*). */
  repoclosure: { dnf: string; timeoutMs: number; memoryBytes: number; maxAgeMs: number; keepWorkMs: number; workDir: string };
  /** RELENGD_PUBLIC_URL without a trailing slash; undefined: links are relative paths. */
  publicUrl?: string;
  /** Mail of the broken-dependency report. */
  mail: { smtpUrl?: string; from: string; list?: string; ownerAddress: string; dryRunDir: string };
  /** RELENGD_OWNER_ALIASES, resolved. */
  ownerAliasesFile?: string;
}

export interface AmqpConfig {
  url: string;
  exchange: string;
  queue: string;
  /** Binding keys (topics with prefix; * and # wildcards). */
  topics: string[];
  prefetch: number;
  /** Put before the topics relengd publishes (relengd.release.*); none when unset. */
  publishPrefix?: TopicPrefix;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env, { error: fieldErrorMap });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.RELENGD_DATA_DIR);
  return {
    databaseUrl: e.RELENGD_DATABASE_URL,
    host: e.RELENGD_HOST,
    port: e.RELENGD_PORT,
    dataDir,
    policiesDir: path.resolve(e.RELENGD_POLICIES_DIR),
    ...(e.RELENGD_POLICIES_GIT_URL ? { policiesGit: { url: e.RELENGD_POLICIES_GIT_URL, branch: e.RELENGD_POLICIES_GIT_BRANCH, path: e.RELENGD_POLICIES_GIT_PATH } } : {}),
    gitopsRepo: e.RELENGD_GITOPS_REPO ?? path.join(dataDir, "gitops.git"),
    shadowRepo: e.RELENGD_SHADOW_REMOTE ?? path.join(dataDir, "shadow.git"),
    ...(e.RELENGD_TOKEN_SECRET ? { tokenSecret: e.RELENGD_TOKEN_SECRET } : {}),
    logLevel: e.RELENGD_LOG_LEVEL,
    revocationRefreshMs: e.RELENGD_REVOCATION_REFRESH_MS,
    writerBatchSize: e.RELENGD_WRITER_BATCH_SIZE,
    writerCoalesceAbove: e.RELENGD_WRITER_COALESCE_ABOVE,
    requestsRepository: e.RELENGD_REQUESTS_REPOSITORY === "none" ? undefined : e.RELENGD_REQUESTS_REPOSITORY,
    requestPollMs: e.RELENGD_REQUEST_POLL_MS,
    readyRemoteBoundMs: e.RELENGD_READY_REMOTE_BOUND_SECONDS * 1000,
    ...(e.RELENGD_AMQP_URL
      ? {
          amqp: {
            url: e.RELENGD_AMQP_URL,
            exchange: e.RELENGD_AMQP_EXCHANGE,
            queue: e.RELENGD_AMQP_QUEUE,
            topics: e.RELENGD_AMQP_TOPICS ?? DEFAULT_AMQP_TOPICS,
            prefetch: e.RELENGD_AMQP_PREFETCH,
            ...(e.RELENGD_AMQP_PUBLISH_PREFIX ? { publishPrefix: e.RELENGD_AMQP_PUBLISH_PREFIX } : {}),
          },
        }
      : {}),
    busBindings: { exchange: e.RELENGD_AMQP_EXCHANGE, queue: e.RELENGD_AMQP_QUEUE, topics: e.RELENGD_AMQP_TOPICS ?? DEFAULT_AMQP_TOPICS },
    rawhideVersion: e.RELENGD_RAWHIDE_VERSION,
    ...(e.RELENGD_PRUNE_SCHEDULE
      ? { prune: { schedule: e.RELENGD_PRUNE_SCHEDULE, olderThanSeconds: parseDuration(e.RELENGD_PRUNE_OLDER_THAN) ?? 0 } }
      : {}),
    ...(e.RELENGD_OIDC_CONFIG ? { oidc: loadOidcConfig(e.RELENGD_OIDC_CONFIG) } : {}),
    anonymousRead: e.RELENGD_ANONYMOUS_READ === "true",
    ...(e.RELENGD_FORGE_WEBHOOK_SECRET ? { forgeWebhookSecret: e.RELENGD_FORGE_WEBHOOK_SECRET } : {}),
    repoclosure: {
      dnf: e.RELENGD_DNF,
      timeoutMs: (parseDuration(e.RELENGD_REPOCLOSURE_TIMEOUT) ?? 1800) * 1000,
      memoryBytes: e.RELENGD_REPOCLOSURE_MEMORY_MB * 1024 * 1024,
      maxAgeMs: e.RELENGD_REPOCLOSURE_MAX_AGE === "0s" ? 0 : (parseDuration(e.RELENGD_REPOCLOSURE_MAX_AGE) ?? 600) * 1000,
      keepWorkMs: (parseDuration(e.RELENGD_REPOCLOSURE_KEEP_WORK) ?? 604_800) * 1000,
      workDir: path.join(dataDir, "repoclosure"),
    },
    ...(e.RELENGD_PUBLIC_URL ? { publicUrl: e.RELENGD_PUBLIC_URL.replace(/\/+$/, "") } : {}),
    mail: {
      ...(e.RELENGD_SMTP_URL ? { smtpUrl: e.RELENGD_SMTP_URL } : {}),
      from: e.RELENGD_MAIL_FROM,
      ...(e.RELENGD_MAIL_LIST ? { list: e.RELENGD_MAIL_LIST } : {}),
      ownerAddress: e.RELENGD_MAIL_OWNER_ADDRESS,
      dryRunDir: path.join(dataDir, "mail"),
    },
    ...(e.RELENGD_OWNER_ALIASES ? { ownerAliasesFile: path.resolve(e.RELENGD_OWNER_ALIASES) } : {}),
  };
}

function loadOidcConfig(file: string): OidcConfig {
  const read = readOidcConfig(file);
  if (!read.ok) throw new ConfigError(`invalid RELENGD_OIDC_CONFIG:\n${read.problems.map((p) => `  ${p}`).join("\n")}`);
  return read.value;
}

/** The secret the server uses, if it has one yet: RELENGD_TOKEN_SECRET, else DATA_DIR/token-secret. */
function existingTokenSecret(config: Config): string | undefined {
  if (config.tokenSecret) return config.tokenSecret;
  const file = path.join(config.dataDir, "token-secret");
  if (!existsSync(file)) return undefined;
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new ConfigError(`${file}: token secret shorter than 32 characters`);
  config.tokenSecret = secret;
  return secret;
}

/**
 * The server's token-signing secret for a verb that only uses it (`token issue`). It never
 * creates one: a secret made in the wrong directory signs tokens the server rejects.
 */
export function readTokenSecret(config: Config): string {
  const secret = existingTokenSecret(config);
  if (secret) return secret;
  throw new ConfigError(
    `no token secret: RELENGD_TOKEN_SECRET is not set and the data dir ${config.dataDir} has no token-secret file. ` +
      "Run this on the server's host with its RELENGD_DATA_DIR, or set RELENGD_TOKEN_SECRET to the server's secret; " +
      "only `relengd serve` and `relengd migrate` create one.",
  );
}

/**
 * The token-signing secret for `serve` and `migrate`: RELENGD_TOKEN_SECRET, else the one kept in
 * DATA_DIR/token-secret, else a new one written there (0600). `warn` is told when a secret is
 * generated, since tokens then only verify on servers sharing that data dir.
 */
export function resolveTokenSecret(config: Config, warn: (msg: string) => void): string {
  const existing = existingTokenSecret(config);
  if (existing) return existing;
  const file = path.join(config.dataDir, "token-secret");
  ensurePrivateDir(config.dataDir);
  const secret = randomBytes(32).toString("base64url");
  // "wx": never overwrite a secret another process just wrote.
  try {
    writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
    warn(`RELENGD_TOKEN_SECRET is not set: generated one into ${file}; set it explicitly in production`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return resolveTokenSecret(config, warn);
  }
  config.tokenSecret = secret;
  return secret;
}

/** Client side (the CLI verbs that talk to a server). */
export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): { url: string; token?: string } {
  const url = (env.RELENGD_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  return env.RELENGD_TOKEN ? { url, token: env.RELENGD_TOKEN } : { url };
}
