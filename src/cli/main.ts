// The `relengd` command line: server verbs and client verbs in one program.
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { registerArtifactCommands } from "./artifact.js";
import { registerBusCommands } from "./bus.js";
import { registerCheckCommands } from "./check.js";
import { CliError, exitCodes } from "./client.js";
import { registerHoldCommands } from "./hold.js";
import { registerLintCommand } from "./lint.js";
import { registerPlanCommand } from "./plan.js";
import { registerNvrCommands } from "./nvr.js";
import { registerPolicyCommands } from "./policy.js";
import { registerPruneCommand } from "./prune.js";
import { registerReleaseCommands } from "./release.js";
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
  registerLintCommand(program);
  registerPlanCommand(program);
  registerBusCommands(program);
  registerNvrCommands(program);
  registerPolicyCommands(program);
  registerPruneCommand(program);
  registerCheckCommands(program);
  registerSchemaCommands(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return exitCodes.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : exitCodes.usage;
    if (err instanceof CliError) {
      // An empty message: the verb has already said everything (lint's problems on stdout).
      if (err.message) process.stderr.write(`relengd: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`relengd: ${err.message}\n`);
      return exitCodes.usage;
    }
    process.stderr.write(`relengd: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

// `relengd release list | head` closes the pipe early: the reader's choice, not a failure.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(exitCodes.ok);
  throw err;
});

const code = await run(process.argv);
// `serve` keeps running (its listeners hold the loop); other verbs end here.
if (code !== 0) process.exit(code);
