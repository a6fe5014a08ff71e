// `relengd rollback`: release an earlier artifact of a package again and hold it there.
import type { Command } from "commander";
import { apiClient } from "./client.js";
import { holdLine, type HoldView } from "./hold.js";
import { clientVerb, outputFormat, printJson } from "./output.js";
import { DEFAULT_WAIT, trackRelease, waitTimeoutSeconds, type ReleaseView } from "./track.js";

export function registerRollbackCommand(program: Command): void {
  clientVerb(program.command("rollback"))
    .description("roll a package in an environment back to the artifact pushed before the current one (or --to), and hold it there")
    .requiredOption("--environment <env>", "the environment")
    .requiredOption("--package <name>", "the source package")
    .option("--to <artifact-id>", "the artifact to go back to (default: the one pushed before the current one)")
    .option("--reason <text>", "why; recorded in the commit and the hold")
    .option("--wait", "follow the rollback release until it is pushed, failed, blocked or superseded")
    .option("--timeout <duration>", `how long --wait waits, e.g. 90s, 10m (default ${DEFAULT_WAIT})`)
    .addHelpText(
      "after",
      `
The hold keeps policies from releasing a newer artifact over the rollback; lift it with
\`relengd hold remove ID\` once the package is fixed.

Exit codes: 0 done (with --wait: pushed), 1 refused by relengd or the release ended failed,
blocked or superseded, 2 usage error, 3 server error, 4 relengd unreachable, 5 --wait timed out.`,
    )
    .action(async (o: { environment: string; package: string; to?: string; reason?: string; wait?: boolean; timeout?: string; output: string }) => {
      const timeoutSeconds = waitTimeoutSeconds(o.wait, o.timeout);
      const output = outputFormat(o.output);
      const client = apiClient();
      const res = await client.request<{ release: ReleaseView; hold: HoldView }>("POST", "/api/v1/rollbacks", {
        environment: o.environment,
        package: o.package,
        ...(o.to !== undefined ? { artifactId: o.to } : {}),
        ...(o.reason !== undefined ? { reason: o.reason } : {}),
      });
      const { release, hold } = res.body;
      if (output === "json") {
        // One document: the hold, and the release as it is now (or as --wait left it).
        if (!o.wait) return printJson({ release, hold });
        return trackRelease(client, release.id, { wait: true, timeoutSeconds, output, report: (tracked) => printJson({ release: tracked, hold }) });
      }
      process.stdout.write(`${release.status} ${release.id}: rollback of ${release.package} in ${release.environment} to artifact ${release.artifactId}\n`);
      process.stdout.write(holdLine(hold) + "\n");
      if (o.wait) await trackRelease(client, release.id, { wait: true, timeoutSeconds });
    });
}
