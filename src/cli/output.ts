// How client verbs print: pretty JSON for scripts, aligned tables (or a line) for people.
import type { Command } from "commander";
import { CliError, exitCodes } from "./client.js";

export type OutputFormat = "table" | "json";
const ALL_FORMATS: readonly OutputFormat[] = ["table", "json"];

const clientVerbs = new WeakSet<Command>();

/**
 * Makes `command` a client verb (it talks to a relengd server, RELENGD_URL): it takes
 * `--output table|json`, the first of `formats` by default. A verb whose answer is a document
 * (`release show`) prints JSON only and has `formats` ["json"].
 */
export function clientVerb(command: Command, formats: readonly OutputFormat[] = ALL_FORMATS): Command {
  clientVerbs.add(command);
  const help = formats.length === 1 ? `${formats[0]} (the only format)` : formats.join(" or ");
  return command.option("--output <format>", help, formats[0]);
}

/** Whether `command` was made with clientVerb. */
export const isClientVerb = (command: Command): boolean => clientVerbs.has(command);

/** Checks an --output value before any request is made. */
export function outputFormat(value: string | undefined, formats: readonly OutputFormat[] = ALL_FORMATS): OutputFormat {
  const found = formats.find((f) => f === value);
  if (!found) throw new CliError(`--output must be ${formats.join(" or ")}`, exitCodes.usage);
  return found;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Columns padded to their widest cell; the last column is not padded. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd() + "\n");
}

/** Tells the reader of a table how to get the next page (stderr: stdout stays the table). */
export function printNextPage(nextCursor: string | null): void {
  if (nextCursor) process.stderr.write(`more: --cursor ${nextCursor}\n`);
}

/** A positive whole number option, checked before any request is made. */
export function wholeNumber(flag: string, value: string): string {
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new CliError(`${flag} must be a whole number, got "${value}"`, exitCodes.usage);
  return value;
}
