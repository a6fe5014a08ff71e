// `relengd schema show|export`: the JSON Schemas of relengd's public formats (the artifact, each
// release document kind and each request kind), for CI pipelines, editors and forges.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { artifactJsonSchema } from "../domain/artifact.js";
import { documentJsonSchemas, documentKinds } from "../domain/documents/index.js";
import { isRequestKind, proposedJsonSchemas, requestKinds } from "../domain/requests/index.js";
import { CliError, exitCodes } from "./client.js";

const formats = ["artifact", ...documentKinds, ...requestKinds] as const;
type Format = (typeof formats)[number];

function jsonSchemaOf(format: Format): Record<string, unknown> {
  if (format === "artifact") return artifactJsonSchema();
  return isRequestKind(format) ? proposedJsonSchemas()[format] : documentJsonSchemas()[format];
}

/** `kojitag` finds KojiTag: the names are case-insensitive on the command line. */
function formatNamed(name: string): Format {
  const format = formats.find((f) => f.toLowerCase() === name.toLowerCase());
  if (!format) throw new CliError(`unknown format "${name}" (known: ${formats.join(", ")})`, exitCodes.usage);
  return format;
}

const schemaText = (format: Format) => JSON.stringify(jsonSchemaOf(format), null, 2) + "\n";

export function registerSchemaCommands(program: Command): void {
  const schema = program.command("schema").description("JSON Schemas of relengd's public formats");

  schema
    .command("show")
    .description("print the JSON Schema of a format")
    .argument("<format>", formats.join(", "))
    .action((name: string) => {
      process.stdout.write(schemaText(formatNamed(name)));
    });

  schema
    .command("export")
    .description(`write every schema into DIR: ${formats.map((f) => `${f}.schema.json`).join(", ")}`)
    .argument("<dir>", "directory to write into (created if missing)")
    .action((dir: string) => {
      try {
        mkdirSync(dir, { recursive: true });
        for (const format of formats) {
          const file = path.join(dir, `${format}.schema.json`);
          // Replaced whole: an editor watching the file never reads half of it.
          const tmp = `${file}.tmp-${process.pid}`;
          writeFileSync(tmp, schemaText(format));
          renameSync(tmp, file);
          process.stdout.write(`wrote ${file}\n`);
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (!e.code) throw err;
        throw new CliError(`cannot write schemas into ${dir}: ${e.message}`, exitCodes.rejected);
      }
    });
}
