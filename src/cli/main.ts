// The `relengd` command line: server verbs and client verbs in one program.
import { CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { CliError, exitCodes } from "./client.js";
import { buildProgram } from "./program.js";

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
