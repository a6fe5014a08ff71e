// `relengd check artifacts`: lists the stored artifacts that break the ingest rules, run on the
// server's host against its database (RELENGD_DATABASE_URL), like `prune`.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { CliError, exitCodes } from "./client.js";
import { outputFormat, printJson } from "./output.js";

export function registerCheckCommands(program: Command): void {
  const check = program.command("check").description("check what the server's database holds (on the server's host)");
  check
    .command("artifacts")
    .description(
      "list the artifacts that break the ingest rules (a build of another package, builds from no side tag, a dist tag that does not fit the release); releases of them are refused. Exit 1 when there are any",
    )
    .option("--output <format>", "table or json", "table")
    .action(async (o: { output: string }) => {
      const format = outputFormat(o.output);
      const config = loadConfig();
      // Loaded here, not up front: client verbs should not pay for Prisma (see server.ts).
      const [{ migrate }, { openStore }, { ArtifactRepository }, { checkArtifacts, describeCheck }] = await Promise.all([
        import("../store/migrator.js"),
        import("../store/store.js"),
        import("../store/artifactRepository.js"),
        import("../flow/checkArtifacts.js"),
      ]);
      await migrate(config.databaseUrl);
      const db = await openStore(config.databaseUrl);
      let breaking = 0;
      try {
        const found: unknown[] = [];
        const report = await checkArtifacts({ artifacts: new ArtifactRepository(db), rules: { rawhideVersion: config.rawhideVersion } }, (a) => {
          if (format === "json") {
            found.push({ id: a.id, package: a.package, release: a.release, createdAt: a.createdAt.toISOString(), violations: a.violations });
            return;
          }
          // A table streams (a database may hold millions of artifacts): one line per broken rule.
          for (const v of a.violations) process.stdout.write(`${a.id}  ${a.package}  ${a.release}  ${v.rule}  ${v.path} ${v.message}\n`);
        });
        breaking = report.breaking;
        if (format === "json") printJson({ ...report, rawhideVersion: config.rawhideVersion, artifacts: found });
        else process.stdout.write(describeCheck(report) + "\n");
      } finally {
        await db.close();
      }
      // The listing and the summary are already on stdout.
      if (breaking > 0) throw new CliError("", exitCodes.rejected);
    });
}
