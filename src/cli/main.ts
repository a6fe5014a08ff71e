// The `relengd` command line: server verbs and client verbs in one program.
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { registerArtifactCommands } from "./artifact.js";
import { CliError, exitCodes } from "./client.js";
import { registerServerCommands } from "./server.js";

export function buildProgram(): Command {
  const program = new Command("relengd")
    .description("release-artifact server for distribution packaging done the GitOps way")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError();
  registerServerCommands(program);
  registerArtifactCommands(program);
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
      process.stderr.write(`relengd: ${err.message}\n`);
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

const code = await run(process.argv);
// `serve` keeps running (its listeners hold the loop); other verbs end here.
if (code !== 0) process.exit(code);
