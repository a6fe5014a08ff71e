// How client verbs print: pretty JSON for scripts, aligned tables for people.
import { CliError, exitCodes } from "./client.js";

export type OutputFormat = "table" | "json";

/** Checks an --output value before any request is made. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value !== "json" && value !== "table") throw new CliError("--output must be table or json", exitCodes.usage);
  return value;
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
