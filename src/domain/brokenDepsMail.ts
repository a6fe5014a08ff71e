// The broken-dependency report's mail, in releng's spam-o-matic form: one message per source
// package with news (to its owners' alias, Cc the owners of the packages blamed), and one summary
// for a list. News is what changed since the previous mailed report: newly broken, fixed.
import { brokenDepsCounts, renderSourceBlocks, type BrokenDepsDiff, type BrokenDepsReport, type BrokenRow } from "./brokenDeps.js";
import { ownerAddress } from "./owners.js";

export interface MailMessage {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text: string;
}

export interface BrokenDepsMailInput {
  report: BrokenDepsReport;
  diff: BrokenDepsDiff;
  /** The report's page. */
  reportUrl: string;
  from: string;
  /** The list the summary goes to; absent: no summary. */
  list?: string;
  /** The owners' address of a package, `{package}` replaced (owners.ts DEFAULT_OWNER_ADDRESS). */
  ownerAddressTemplate: string;
}

/** Whether the diff holds anything to tell. */
export function hasNews(diff: BrokenDepsDiff): boolean {
  return diff.newlyBroken.length > 0 || diff.fixed.length > 0;
}

/** `On <arch>:` sections of `[<src>]` blocks, arches in first-seen order. */
function byArch(rows: readonly BrokenRow[]): string[] {
  const arches = new Map<string, BrokenRow[]>();
  for (const r of rows) arches.set(r.arch, [...(arches.get(r.arch) ?? []), r]);
  const out: string[] = [];
  for (const [arch, list] of arches) out.push(`On ${arch}:`, ...renderSourceBlocks(list), "");
  return out;
}

function newsSections(diff: BrokenDepsDiff): string[] {
  const out: string[] = [];
  if (diff.newlyBroken.length > 0) out.push("Newly broken:", "", ...byArch(diff.newlyBroken));
  if (diff.fixed.length > 0) out.push("Fixed since the last report:", "", ...byArch(diff.fixed));
  return out;
}

/**
 * The messages for a report's news: one per source package named in it (newly broken or fixed),
 * then the list's summary. Nothing when there is no news.
 */
export function brokenDepsMessages(input: BrokenDepsMailInput): MailMessage[] {
  const { report, diff } = input;
  if (!hasNews(diff)) return [];
  const blameOf = new Map<string, Set<string>>();
  for (const rows of Object.values(report.arches)) for (const r of rows) for (const b of r.blame) blameOf.set(r.source, (blameOf.get(r.source) ?? new Set()).add(b));
  const sources = [...new Set([...diff.newlyBroken, ...diff.fixed].map((r) => r.source))].sort();
  const messages: MailMessage[] = [];
  for (const source of sources) {
    const to = ownerAddress(input.ownerAddressTemplate, source);
    // A source name no package can have came from an RPM header: it is in the summary, never in a header.
    if (!to) continue;
    const own = (rows: readonly BrokenRow[]) => rows.filter((r) => r.source === source);
    const news = { newlyBroken: own(diff.newlyBroken), fixed: own(diff.fixed) };
    const blamed = [...(blameOf.get(source) ?? [])].filter((b) => b !== source).sort();
    const cc = [...new Set(blamed.map((b) => ownerAddress(input.ownerAddressTemplate, b)).filter((a): a is string => a !== undefined && a !== to))];
    const stillBroken = Object.values(report.arches).some((rows) => rows.some((r) => r.source === source));
    const text = [
      stillBroken ? `${source} has broken dependencies in the ${report.tree} tree:` : `${source} has no broken dependencies left in the ${report.tree} tree.`,
      "",
      ...newsSections(news),
      ...(blamed.length > 0 ? [`The builds that last provided what is missing: ${blamed.join(", ")}`, ""] : []),
      `The whole report: ${input.reportUrl}`,
      ...(stillBroken ? ["", "Please resolve this as soon as possible."] : []),
      "",
    ].join("\n");
    messages.push({ from: input.from, to: [to], cc, subject: `Broken dependencies: ${source}`, text });
  }
  if (input.list) messages.push(summaryMessage(input, input.list));
  return messages;
}

function summaryMessage(input: BrokenDepsMailInput, list: string): MailMessage {
  const { report, diff } = input;
  const c = brokenDepsCounts(report);
  const text = [
    `Broken dependencies in ${report.tree} (${report.generatedAt})`,
    c.packages === 0 ? "No broken dependencies." : `${c.dependencies} unresolved dependencies in ${c.packages} packages from ${c.sources} source packages.`,
    "",
    ...newsSections(diff),
    `The whole report: ${input.reportUrl}`,
    "",
  ].join("\n");
  const news = `${count(diff.newlyBroken)} newly broken, ${count(diff.fixed)} fixed`;
  return { from: input.from, to: [list], cc: [], subject: `Broken dependencies in ${report.tree}: ${news}`, text };
}

/** Packages (name and arch) in rows. */
function count(rows: readonly BrokenRow[]): number {
  return new Set(rows.map((r) => `${r.arch}\0${r.nevra}`)).size;
}
