// `relengd prune`: retention, run on the server's host against its database (RELENGD_DATABASE_URL).
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { parseDuration } from "../domain/token.js";
import { CliError, exitCodes } from "./client.js";
import { outputFormat, printJson } from "./output.js";

export function registerPruneCommand(program: Command): void {
  program
    .command("prune")
    .description("delete artifacts older than a duration that no release references (with their builds, results and decisions)")
    .requiredOption("--older-than <duration>", "age of the artifacts that go: 180d, 26w, 12h")
    .option("--dry-run", "list what would go and count it; delete nothing")
    .option("--output <format>", "table or json", "table")
    .action(async (o: { olderThan: string; dryRun?: boolean; output: string }) => {
      const olderThanSeconds = parseDuration(o.olderThan);
      if (olderThanSeconds === undefined) throw new CliError(`--older-than "${o.olderThan}" is not a duration like 180d`, exitCodes.usage);
      const format = outputFormat(o.output);
      const config = loadConfig();
      // Loaded here, not up front: client verbs should not pay for Prisma (see server.ts).
      const [{ migrate }, { openStore }, { PruneRepository }, { describePrune, pruneArtifacts }] = await Promise.all([
        import("../store/migrator.js"),
        import("../store/store.js"),
        import("../store/pruneRepository.js"),
        import("../flow/prune.js"),
      ]);
      const { describeReportPrune, pruneBrokenDepsReports } = await import("../flow/prune.js");
      await migrate(config.databaseUrl);
      const db = await openStore(config.databaseUrl);
      try {
        const dryRun = o.dryRun === true;
        const listed: { id: string; package: string; release: string; createdAt: string }[] = [];
        const report = await pruneArtifacts(
          { store: new PruneRepository(db) },
          {
            olderThanSeconds,
            dryRun,
            ...(dryRun
              ? {
                  onArtifact: (a) => {
                    const row = { id: a.id, package: a.package, release: a.release, createdAt: a.createdAt.toISOString() };
                    // A table streams (a dry run may list millions); JSON is one document at the end.
                    if (format === "json") listed.push(row);
                    else process.stdout.write(`${row.id}  ${row.package}  ${row.release}  ${row.createdAt}\n`);
                  },
                }
              : {}),
          },
        );
        // Broken-dependency reports go with the same cutoff (issue 18).
        const reports = await pruneBrokenDepsReports({ store: new PruneRepository(db) }, { olderThanSeconds, dryRun });
        if (format === "json") {
          const { cutoff, ...counts } = report;
          printJson({ ...counts, reports: reports.reports, cutoff: cutoff.toISOString(), ...(dryRun ? { wouldDelete: listed } : {}) });
        } else {
          process.stdout.write(describePrune(report) + "\n");
          if (reports.reports > 0) process.stdout.write(describeReportPrune(reports) + "\n");
        }
      } finally {
        await db.close();
      }
    });
}
