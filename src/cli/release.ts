// `relengd release …`: release an artifact to an environment, and show, list and track releases.
import type { Command } from "commander";
import { isReleaseStatus, releaseStatuses } from "../domain/release.js";
import { apiClient, CliError, exitCodes } from "./client.js";
import { clientVerb, outputFormat, printJson, printNextPage, printTable, wholeNumber } from "./output.js";
import { DEFAULT_WAIT, trackRelease, ulidArgument, waitTimeoutSeconds, type ReleaseView } from "./track.js";

interface ReleaseOptions {
  artifactId?: string;
  environment?: string;
  force?: boolean;
  reason?: string;
  wait?: boolean;
  timeout?: string;
  output: string;
}

const exitCodeHelp = `
Exit codes: 0 done (with --wait: pushed), 1 refused by relengd or the release ended failed,
blocked or superseded, 2 usage error, 3 server error, 4 relengd unreachable, 5 --wait timed out.
RELENGD_URL and RELENGD_TOKEN (role releaser or above) name the server and the token.`;

const trackExitCodeHelp = `
Exit codes: 0 pushed (without --wait: also checking, queued or committed), 1 failed, blocked or superseded,
2 usage error, 3 server error, 4 relengd unreachable, 5 --wait timed out.
RELENGD_URL and RELENGD_TOKEN (any role) name the server and the token.`;

/**
 * `release` is both a verb (with options) and the parent of show/list/track. Options given
 * before a subcommand's name would be taken as `release`'s own; say so instead of ignoring them.
 */
function refuseReleaseOptions(release: Command, subcommand: string): void {
  // --output has a default, so it is always in opts(): only options the user typed count.
  const given = Object.keys(release.opts()).filter((k) => release.getOptionValueSource(k) !== "default");
  if (given.length > 0) {
    const flags = given.map((k) => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()));
    throw new CliError(`${flags.join(", ")} must come after \`release ${subcommand}\`, not before it`, exitCodes.usage);
  }
}

export function registerReleaseCommands(program: Command): void {
  const release = clientVerb(program.command("release"))
    .description("release an artifact to an environment (or show, list and track releases)")
    .usage("--artifact-id <id> --environment <env> [--force --reason <text>] [--wait [--timeout 120s]] [--output json]\n       relengd release <show|list|track> …")
    // The subcommands have options of the same names (--environment, --wait): stop parsing
    // release's own options at a subcommand's name.
    .enablePositionalOptions()
    // A stray word is most likely a misspelt subcommand: the action says so, by name.
    .allowExcessArguments()
    .option("--artifact-id <id>", "the artifact to release")
    .option("--environment <env>", "where to release it (GET /api/v1/environments lists them)")
    .option("--force", "release even if this artifact was released there before or the package is held")
    .option("--reason <text>", "why the release is forced (recorded in the commit); required with --force")
    .option("--wait", "follow the release until it is pushed, failed, blocked or superseded")
    .option("--timeout <duration>", `how long --wait waits, e.g. 90s, 10m (default ${DEFAULT_WAIT})`)
    .addHelpText(
      "after",
      `
Examples:
  relengd release --artifact-id 1234 --environment rawhide --wait
  relengd release --artifact-id 1234 --environment rawhide --force --reason "rebuild for CVE-2025-1234"
  relengd release list --environment rawhide --status failed
  relengd release track 01JZ3F6Q2W8M4T9V5X7Y1B3C5D --wait
${exitCodeHelp}`,
    )
    .action(async (o: ReleaseOptions, command: Command) => {
      const [stray] = command.args;
      if (stray !== undefined) throw new CliError(`unknown subcommand "release ${stray}" (known: show, list, track)`, exitCodes.usage);
      if (o.artifactId === undefined && o.environment === undefined) {
        throw new CliError("give --artifact-id and --environment to release, or a subcommand: show, list, track (see --help)", exitCodes.usage);
      }
      if (o.artifactId === undefined) throw new CliError("--artifact-id is required to release", exitCodes.usage);
      if (o.environment === undefined) throw new CliError("--environment is required to release", exitCodes.usage);
      if (o.force && !o.reason?.trim()) throw new CliError("--force needs --reason: a forced release records why in its commit", exitCodes.usage);
      if (!o.force && o.reason !== undefined) throw new CliError("--reason goes with --force (only a forced release records a reason)", exitCodes.usage);
      const timeoutSeconds = waitTimeoutSeconds(o.wait, o.timeout);
      const output = outputFormat(o.output);
      const client = apiClient();
      const res = await client.request<{ id: string; status: string }>("POST", "/api/v1/releases", {
        artifactId: o.artifactId,
        environment: o.environment,
        ...(o.force ? { force: true, reason: o.reason } : {}),
      });
      // With --wait and JSON, the one document printed is the release as tracking left it.
      if (o.wait) {
        if (output === "table") process.stdout.write(`${res.body.status} ${res.body.id}: artifact ${o.artifactId} to ${o.environment}\n`);
        await trackRelease(client, res.body.id, { wait: true, timeoutSeconds, output });
      } else if (output === "json") {
        printJson(res.body);
      } else {
        process.stdout.write(`${res.body.status} ${res.body.id}: artifact ${o.artifactId} to ${o.environment}\n`);
      }
    });

  clientVerb(release.command("show"), ["json"])
    .description("print one release as JSON: status, commit, reason or error, attempts")
    .argument("<id>", "release id")
    .action(async (id: string, o: { output: string }) => {
      refuseReleaseOptions(release, "show");
      outputFormat(o.output, ["json"]);
      const res = await apiClient().request<ReleaseView>("GET", `/api/v1/releases/${ulidArgument("release", id)}`);
      printJson(res.body);
    });

  clientVerb(release.command("list"))
    .description("list releases, newest first")
    .option("--environment <env>")
    .option("--package <name>")
    .option("--status <status>", releaseStatuses.join(", "))
    .option("--artifact-id <id>")
    .option("--limit <n>", "page size (at most 500)", "50")
    .option("--cursor <cursor>", "continue from a previous page")
    .action(async (o: { environment?: string; package?: string; status?: string; artifactId?: string; limit: string; cursor?: string; output?: string }) => {
      refuseReleaseOptions(release, "list");
      const output = outputFormat(o.output);
      if (o.status !== undefined && !isReleaseStatus(o.status)) {
        throw new CliError(`--status must be one of ${releaseStatuses.join(", ")}`, exitCodes.usage);
      }
      const params = new URLSearchParams({ limit: wholeNumber("--limit", o.limit) });
      for (const k of ["environment", "package", "status", "artifactId", "cursor"] as const) {
        const v = o[k];
        if (v !== undefined) params.set(k, v);
      }
      const res = await apiClient().request<{ items: ReleaseView[]; nextCursor: string | null }>("GET", `/api/v1/releases?${params.toString()}`);
      if (output === "json") return printJson(res.body);
      printTable(
        ["ID", "STATUS", "ENVIRONMENT", "PACKAGE", "ARTIFACT", "COMMIT", "TRIGGER", "CREATED"],
        res.body.items.map((r) => [r.id, r.status, r.environment, r.package, r.artifactId, r.commitSha?.slice(0, 7) ?? "-", r.trigger, r.createdAt]),
      );
      printNextPage(res.body.nextCursor);
    });

  clientVerb(release.command("track"))
    .description("print a release's state; with --wait, each change as it happens until it is final")
    .argument("<id>", "release id")
    .option("--wait", "follow the release until it is pushed, failed, blocked or superseded")
    .option("--timeout <duration>", `how long --wait waits, e.g. 90s, 10m (default ${DEFAULT_WAIT})`)
    .addHelpText(
      "after",
      `
Prints one line per state, e.g.
  13:52:01 queued
  13:52:02 pushed abc1234
${trackExitCodeHelp}`,
    )
    .action(async (id: string, o: { wait?: boolean; timeout?: string; output: string }) => {
      refuseReleaseOptions(release, "track");
      const timeoutSeconds = waitTimeoutSeconds(o.wait, o.timeout);
      const output = outputFormat(o.output);
      await trackRelease(apiClient(), ulidArgument("release", id), { wait: o.wait ?? false, timeoutSeconds, output });
    });
}
