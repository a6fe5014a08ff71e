// The `relengd` program: every verb, server and client, registered on one commander program.
import { Command } from "commander";
import { registerArtifactCommands } from "./artifact.js";
import { registerBusCommands } from "./bus.js";
import { registerCheckCommands } from "./check.js";
import { registerHoldCommands } from "./hold.js";
import { registerLintCommand } from "./lint.js";
import { registerPlanCommand } from "./plan.js";
import { registerNvrCommands } from "./nvr.js";
import { registerPolicyCommands } from "./policy.js";
import { registerPruneCommand } from "./prune.js";
import { registerReleaseCommands } from "./release.js";
import { registerReportCommands } from "./report.js";
import { registerRequestCommands } from "./request.js";
import { registerRollbackCommand } from "./rollback.js";
import { registerSchemaCommands } from "./schema.js";
import { registerServerCommands } from "./server.js";
import { registerWaiveCommands } from "./waive.js";

export function buildProgram(): Command {
  const program = new Command("relengd")
    .description("release-artifact server for distribution packaging done the GitOps way")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError()
    // Without this, `release list --environment X` would hand --environment to `release` itself:
    // options belong to the command whose name they follow.
    .enablePositionalOptions();
  registerServerCommands(program);
  registerArtifactCommands(program);
  registerReleaseCommands(program);
  registerRollbackCommand(program);
  registerHoldCommands(program);
  registerWaiveCommands(program);
  registerRequestCommands(program);
  registerLintCommand(program);
  registerPlanCommand(program);
  registerBusCommands(program);
  registerNvrCommands(program);
  registerPolicyCommands(program);
  registerPruneCommand(program);
  registerCheckCommands(program);
  registerSchemaCommands(program);
  registerReportCommands(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

