// `relengd lint DIR`: checks a checkout of a GitOps repo offline, the way a forge's CI checks a
// hand-written merge request: every document (relengd's release documents and people's requests)
// valid, at the path its content names.
import { lstatSync, readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { parseAnyDocumentText } from "../domain/documentFile.js";
import { isSafeRepoPath, isSafeSegment } from "../domain/paths.js";
import { CliError, exitCodes } from "./client.js";

/**
 * The folders of a GitOps repo that hold documents: release documents (DESIGN.md, "Request
 * document") and proposed documents (distgit/, koji/sidetags/ inside koji/, releases/,
 * rebuilds/, sigs/, events/ and calendar/).
 */
export const documentRoots = ["koji", "bodhi", "composes", "distgit", "releases", "rebuilds", "sigs", "events", "calendar"] as const;

export interface LintProblem {
  /** Repo-relative, "/"-separated. */
  path: string;
  line: number;
  /** JSON pointer of the field at fault; absent when the whole file is. */
  field?: string;
  message: string;
}

export interface LintReport {
  documents: number;
  problems: LintProblem[];
  /** Which of documentRoots the checkout has. */
  roots: string[];
}

const isDocumentName = (name: string) => /\.ya?ml$/.test(name);
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Non-ASCII and control characters as \uXXXX, so a look-alike or a newline is seen for what it is. */
const visible = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
/** Control characters would break the one-line `path:line:` format; other characters stay as they are. */
const printablePath = (p: string) => p.replace(/[\x00-\x1f\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

function unsafePathMessage(relPath: string): string {
  const parts = relPath.split("/");
  const bad = parts.find((p, i) => !isSafeSegment(i === parts.length - 1 ? p.replace(/\.ya?ml$/, "") : p)) ?? relPath;
  return `path segment "${visible(bad)}" is not allowed: a segment is ASCII letters, digits and ._+- (starting with a letter, digit or _), at most 128 characters, without ".."`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function lintDocument(dir: string, relPath: string): LintProblem[] {
  if (!isSafeRepoPath(relPath)) return [{ path: relPath, line: 1, message: unsafePathMessage(relPath) }];
  let text: string;
  try {
    text = utf8.decode(readFileSync(path.join(dir, relPath)));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return [{ path: relPath, line: 1, message: e.code ? `cannot read: ${e.message}` : "not UTF-8 text" }];
  }
  const parsed = parseAnyDocumentText(text, relPath);
  if (parsed.ok) return [];
  return parsed.issues
    .map((issue) => ({ path: relPath, line: issue.line ?? 1, ...(issue.path !== "/" ? { field: issue.path } : {}), message: issue.message }))
    .sort((a, b) => a.line - b.line);
}

/** Walks one folder under a document root; symlinks are problems, never followed. */
function walk(dir: string, relDir: string, report: LintReport): void {
  for (const entry of readdirSync(path.join(dir, relDir), { withFileTypes: true }).sort(byName)) {
    const relPath = `${relDir}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      report.problems.push({ path: relPath, line: 1, message: "a symbolic link: documents are regular files, and a link could point outside the repo" });
    } else if (entry.isDirectory()) {
      if (entry.name !== ".git") walk(dir, relPath, report);
    } else if (isDocumentName(entry.name)) {
      report.documents++;
      if (entry.isFile()) report.problems.push(...lintDocument(dir, relPath));
      else report.problems.push({ path: relPath, line: 1, message: "not a regular file" });
    }
  }
}

/** Checks every document under the documentRoots of a checkout; nothing else is read. */
export function lintCheckout(dir: string): LintReport {
  const report: LintReport = { documents: 0, problems: [], roots: [] };
  // In path order, as a forge lists the files of a merge request.
  for (const root of [...documentRoots].sort()) {
    let stat;
    try {
      stat = lstatSync(path.join(dir, root));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    if (stat.isSymbolicLink()) {
      report.roots.push(root);
      report.problems.push({ path: root, line: 1, message: "a symbolic link: documents are regular files, and a link could point outside the repo" });
    } else if (stat.isDirectory()) {
      report.roots.push(root);
      walk(dir, root, report);
    }
  }
  return report;
}

export function lintProblemLine(p: LintProblem): string {
  return `${printablePath(p.path)}:${p.line}: ${p.field ? `${p.field} ` : ""}${p.message}`;
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export function registerLintCommand(program: Command): void {
  program
    .command("lint")
    .description("check a checkout of a GitOps repo: every document and request valid and at the path its content names (offline)")
    .argument("<dir>", "the checkout (its koji/, bodhi/, composes/, distgit/, releases/, rebuilds/, sigs/, events/ and calendar/ are read)")
    .addHelpText(
      "after",
      `
Prints one line per problem, path:line: /field message, then "N documents, M problems".
YAML files (.yaml, .yml) under koji/, bodhi/, composes/, distgit/, releases/, rebuilds/, sigs/,
events/ and calendar/ are documents; other files are not read, and symbolic links under those
folders are problems. Each is checked as its kind says: KojiTag, BodhiUpdate, ComposeRequest
(written by relengd), or the requests people write: BranchRequest, RepoRequest (under distgit/),
SideTag (koji/sidetags/<owner>/<label>.yaml), MassBranch (releases/f<N>/branching.yaml),
MassRebuild (rebuilds/f<N>.yaml), SigRequest (sigs/<group>.yaml), EventRequest
(events/<slug>.yaml) and CalendarEntry (calendar/<calendar>/<date>-<slug>.yaml).

Exit codes: 0 no problems, 1 problems found, 2 usage error (DIR is not a directory).`,
    )
    .action((dir: string) => {
      let isDirectory = false;
      try {
        // DIR itself may be a link to the checkout; what is inside it is never followed.
        isDirectory = statSync(dir).isDirectory();
      } catch {
        throw new CliError(`${dir}: no such directory`, exitCodes.usage);
      }
      if (!isDirectory) throw new CliError(`${dir}: not a directory`, exitCodes.usage);
      const report = lintCheckout(dir);
      if (report.roots.length === 0) process.stderr.write(`warning: ${dir} has none of ${documentRoots.map((r) => r + "/").join(", ")}; nothing to check\n`);
      for (const p of report.problems) process.stdout.write(lintProblemLine(p) + "\n");
      process.stdout.write(`${count(report.documents, "document")}, ${count(report.problems.length, "problem")}\n`);
      // The problems are on stdout already: nothing more to say on stderr.
      if (report.problems.length > 0) throw new CliError("", exitCodes.rejected);
    });
}
