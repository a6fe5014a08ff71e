// `relengd request submit|list|show|explain|approve|deny`: requests by merge request, from the command line.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { isRequestStatus, requestStatuses, type RequestStatus } from "../domain/requests/status.js";
import { CliError, exitCodes, type ApiClient, apiClient } from "./client.js";
import { clientVerb, outputFormat, printJson, printNextPage, printTable, wholeNumber, type OutputFormat } from "./output.js";
import { parseDuration } from "../domain/token.js";
import { ulidArgument } from "./track.js";

/** A request as GET /api/v1/requests/{id} answers it (the list leaves out `blob` and `content`). */
export interface RequestView {
  id: string;
  repository: string;
  branch: string;
  revision: string;
  status: RequestStatus;
  kind: string;
  path: string | null;
  documents: { path: string; kind: string; content?: string }[];
  author: string | null;
  verified: boolean;
  source: "api" | "git";
  reasons: string[];
  approvedBy: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  mergeCommit: string | null;
  supersededBy: string | null;
  seenAt: string;
  decidedAt: string | null;
  mergedAt: string | null;
  updatedAt: string;
}

export interface RequestDecisionView {
  policy: string;
  path: string;
  outcome: string;
  reason: string;
  conditions: { name: string; value: boolean | "unknown"; detail: string }[];
  decidedAt: string;
}

/** The statuses `submit --wait` stops at, and the exit code each means. */
const WAIT_ENDS: Partial<Record<RequestStatus, number>> = {
  merged: exitCodes.ok,
  denied: exitCodes.rejected,
  withdrawn: exitCodes.rejected,
  superseded: exitCodes.rejected,
  "needs-review": exitCodes.review,
};

export const DEFAULT_REQUEST_WAIT = "60s";

/** The largest file `submit` reads (the server refuses more: MAX_REQUEST_DOCUMENT_CHARS). */
const MAX_FILE_BYTES = 512 * 1024;

const exitCodeHelp = `
Exit codes: 0 recorded (with --wait: merged), 1 refused by relengd, or denied (with --wait also
withdrawn or superseded), 2 usage error, 3 server error, 4 relengd unreachable, 5 --wait timed
out, 6 (with --wait) needs review: a releaser decides with \`relengd request approve|deny\`.`;


function readDocument(file: string): string {
  let bytes: Buffer;
  try {
    bytes = file === "-" ? readFileSync(0) : readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, exitCodes.usage);
  }
  if (bytes.byteLength > MAX_FILE_BYTES) throw new CliError(`${file} is ${bytes.byteLength} bytes; a request document is at most ${MAX_FILE_BYTES}`, exitCodes.usage);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`${file} is not UTF-8 text`, exitCodes.usage);
  }
}

const shortSha = (sha: string | null) => (sha ? sha.slice(0, 12) : "-");
// One line per value: a reason or a detail may hold newlines (a lint message quoting YAML).
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();

/** `<status> <id>: <path> (<kind>) by <author>, verified|unverified`, then its reasons indented. */
export function requestLines(r: RequestView): string[] {
  const by = r.author ? `by ${r.author}, ${r.verified ? "verified" : "unverified"}` : "by an unknown author";
  const what = r.path ? `${r.path} (${r.kind})` : r.kind;
  const lines = [`${r.status} ${r.id}: ${what} ${by}`];
  if (r.approvedBy) lines.push(`  approved by ${r.approvedBy}`);
  if (r.mergeCommit) lines.push(`  merged as ${r.mergeCommit}`);
  if (r.supersededBy) lines.push(`  superseded by request ${r.supersededBy}`);
  for (const reason of r.reasons) lines.push(`  ${oneLine(reason)}`);
  return lines;
}

/**
 * What a person pushed (a commit's author name, a document, a reason quoting it) reaches the
 * terminal as text: control characters (an ESC that would recolour or retitle it) are shown escaped.
 */
export const printable = (text: string) => text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const print = (lines: string[]) => process.stdout.write(lines.map((l) => printable(l) + "\n").join(""));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follows a request until merged, denied, needs-review, withdrawn or superseded: a line per new
 * status (table), the request as it last was (json). Exits through CliError for every end but merged.
 */
export async function waitForRequest(client: ApiClient, first: RequestView, options: { timeoutSeconds: number; output: OutputFormat; pollMs?: number }): Promise<void> {
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last = first;
  let shown = first.status;
  for (;;) {
    const end = WAIT_ENDS[last.status];
    if (end !== undefined) {
      if (options.output === "json") printJson(last);
      if (end === exitCodes.ok) return;
      const why = last.reasons.at(-1);
      throw new CliError(`request ${last.id} is ${last.status}${why ? `: ${oneLine(why)}` : ""}`, end);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      if (options.output === "json") printJson(last);
      throw new CliError(`gave up waiting for request ${last.id} after ${options.timeoutSeconds}s: it is still ${last.status}; \`relengd request show ${last.id}\` tells where it is`, exitCodes.timeout);
    }
    await sleep(Math.min(pollMs, left));
    try {
      last = (await client.request<RequestView>("GET", `/api/v1/requests/${last.id}`)).body;
    } catch (err) {
      // A server restart or a network blip is waited out; a 4xx is an answer.
      const transient = err instanceof CliError && (err.exitCode === exitCodes.unreachable || err.exitCode === exitCodes.serverError);
      if (!transient) throw err;
      continue;
    }
    if (last.status !== shown && options.output === "table") {
      print(requestLines(last));
      shown = last.status;
    }
  }
}

function waitSeconds(wait: boolean | undefined, timeout: string | undefined): number {
  if (timeout !== undefined && !wait) throw new CliError("--timeout goes with --wait", exitCodes.usage);
  const text = timeout ?? DEFAULT_REQUEST_WAIT;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new CliError(`--timeout "${text}" is not a duration like 60s or 10m`, exitCodes.usage);
  return seconds;
}

/** A condition's value as explain prints it, padded to one width. */
const conditionWord = (v: boolean | "unknown") => (v === "unknown" ? "unknown" : v ? "true" : "false");

export function decisionLines(d: RequestDecisionView): string[] {
  const lines = [`${d.policy} on ${d.path}: ${d.outcome} (${oneLine(d.reason)})`];
  for (const c of d.conditions) lines.push(`  ${conditionWord(c.value).padEnd(7)}  ${c.name}: ${oneLine(c.detail)}`);
  return lines;
}

export function registerRequestCommands(program: Command): void {
  const request = program
    .command("request")
    .description("requests by merge request: a new branch, a new package, a side tag, approved by policy or by a releaser");

  clientVerb(request.command("submit"))
    .description("submit one proposed document (BranchRequest, RepoRequest, SideTag, MassBranch, MassRebuild, SigRequest, EventRequest, CalendarEntry): relengd makes its requests/ branch, judges it and prints the answer")
    .argument("<file>", "the YAML document ('-' reads standard input)")
    .option("--path <path>", "where it goes in the GitOps repo: required for a CalendarEntry (calendar/<calendar>/<date>-<slug>.yaml), optional for a SideTag")
    .option("--wait", "follow the request until it is merged, denied, needs review, withdrawn or superseded")
    .option("--timeout <duration>", `how long --wait waits, e.g. 90s, 10m (default ${DEFAULT_REQUEST_WAIT})`)
    .addHelpText(
      "after",
      `
Example:
  relengd request submit distgit/branches/rpms/python-requests/f44.yaml --wait
${exitCodeHelp}`,
    )
    .action(async (file: string, o: { wait?: boolean; timeout?: string; path?: string; output: string }) => {
      const output = outputFormat(o.output);
      const timeoutSeconds = waitSeconds(o.wait, o.timeout);
      const document = readDocument(file);
      const client = apiClient();
      const res = await client.request<RequestView>("POST", "/api/v1/requests", { document, ...(o.path === undefined ? {} : { path: o.path }) });
      if (output === "table") print(requestLines(res.body));
      if (o.wait) return waitForRequest(client, res.body, { timeoutSeconds, output });
      if (output === "json") printJson(res.body);
      // The policies' answer is known at once: a denied request is a refusal even without --wait.
      if (res.body.status === "denied") throw new CliError(`request ${res.body.id} is denied`, exitCodes.rejected);
    });

  clientVerb(request.command("list"))
    .description("list requests, newest first")
    .option("--kind <kind>", "BranchRequest, RepoRequest, SideTag, MassBranch, MassRebuild, SigRequest, EventRequest or CalendarEntry")
    .option("--status <status>", requestStatuses.join(", "))
    .option("--author <name>")
    .option("--limit <n>", "page size (at most 500)", "50")
    .option("--cursor <cursor>", "continue from a previous page")
    .action(async (o: { kind?: string; status?: string; author?: string; limit: string; cursor?: string; output: string }) => {
      const output = outputFormat(o.output);
      if (o.status !== undefined && !isRequestStatus(o.status)) throw new CliError(`--status must be one of ${requestStatuses.join(", ")}`, exitCodes.usage);
      const params = new URLSearchParams({ limit: wholeNumber("--limit", o.limit) });
      for (const k of ["kind", "status", "author", "cursor"] as const) {
        const v = o[k];
        if (v !== undefined) params.set(k, v);
      }
      const res = await apiClient().request<{ items: RequestView[]; nextCursor: string | null }>("GET", `/api/v1/requests?${params.toString()}`);
      if (output === "json") return printJson(res.body);
      printTable(
        ["ID", "STATUS", "KIND", "PATH", "AUTHOR", "VERIFIED", "APPROVED BY", "MERGE", "SEEN"],
        res.body.items.map((r) => [r.id, r.status, r.kind, r.path ?? "-", r.author ?? "-", r.verified ? "yes" : "no", r.approvedBy ?? "-", shortSha(r.mergeCommit), r.seenAt].map((cell) => printable(oneLine(cell)))),
      );
      printNextPage(res.body.nextCursor);
    });

  clientVerb(request.command("show"))
    .description("print a request: status, author, reasons, its documents")
    .argument("<id>", "request id")
    .action(async (id: string, o: { output: string }) => {
      const output = outputFormat(o.output);
      const r = (await apiClient().request<RequestView>("GET", `/api/v1/requests/${ulidArgument("request", id)}`)).body;
      if (output === "json") return printJson(r);
      const lines = requestLines(r);
      lines.push(`  branch ${r.branch} at ${r.revision} (${r.source === "api" ? "submitted through the API" : "pushed"}) in ${r.repository}`);
      lines.push(`  seen ${r.seenAt}${r.decidedAt ? `, decided ${r.decidedAt}` : ""}${r.mergedAt ? `, merged ${r.mergedAt}` : ""}`);
      for (const d of r.documents) {
        lines.push("", `--- ${d.path} (${d.kind})`);
        if (d.content !== undefined) lines.push(...d.content.replace(/\n$/, "").split("\n"));
      }
      print(lines);
    });

  clientVerb(request.command("explain"))
    .description("why a request has its status: each approval policy's outcome and each condition true, false or unknown")
    .argument("<id>", "request id")
    .action(async (id: string, o: { output: string }) => {
      const output = outputFormat(o.output);
      const client = apiClient();
      const checked = ulidArgument("request", id);
      const r = (await client.request<RequestView>("GET", `/api/v1/requests/${checked}`)).body;
      const decisions = (await client.request<{ items: RequestDecisionView[] }>("GET", `/api/v1/requests/${checked}/decisions`)).body.items;
      if (output === "json") return printJson({ request: r, decisions });
      const lines = requestLines(r);
      if (decisions.length === 0) lines.push("", "no approval policy was evaluated (a lint failure, or no proposed document)");
      for (const d of decisions) lines.push("", ...decisionLines(d));
      print(lines);
    });

  clientVerb(request.command("agreement"))
    .description("whether relengd's approval policies agree with the request processor on the real releng/fedora-scm-requests tickets (the shadow repository)")
    .option("--since <time>", "only tickets closed at or after: an ISO time (2026-05-01T00:00:00Z) or a duration back from now (7d, 12h)")
    .action(async (o: { since?: string; output: string }) => {
      const output = outputFormat(o.output);
      const params = new URLSearchParams();
      if (o.since !== undefined) params.set("since", agreementSince(o.since));
      const query = params.size > 0 ? `?${params.toString()}` : "";
      const body = (await apiClient().request<AgreementView>("GET", `/api/v1/shadow/agreement${query}`)).body;
      if (output === "json") return printJson(body);
      const { agreed, disagreed, undecidable } = body.totals;
      const lines = [`${agreed} agreed, ${disagreed} disagreed, ${undecidable} undecidable${body.since ? ` since ${body.since}` : ""}`];
      if (body.counts.length > 0) lines.push("");
      print(lines);
      if (body.counts.length > 0) printTable(["KIND", "OUTCOME", "TICKETS"], body.counts.map((c) => [c.kind, c.outcome, String(c.count)]));
      const more: string[] = [];
      for (const d of body.disagreements) {
        more.push("", `ticket ${d.ticketId} (${d.branch}) ${d.kind ?? "no request"} ${d.path ?? ""}: ${d.title}`.trimEnd());
        more.push(`  relengd: ${oneLine(d.relengd)}`, `  bot:     ${oneLine(d.bot)}`);
      }
      print(more);
    });

  for (const approve of [true, false]) {
    const verb = approve ? "approve" : "deny";
    clientVerb(request.command(verb))
      .description(approve ? "approve a request that needs review (releaser): relengd merges it" : "deny a request that is open (releaser)")
      .argument("<id>", "request id")
      .requiredOption("--reason <text>", "why; recorded with the decision")
      .action(async (id: string, o: { reason: string; output: string }) => {
        const output = outputFormat(o.output);
        if (!o.reason.trim()) throw new CliError("--reason must say why", exitCodes.usage);
        const r = (await apiClient().request<RequestView>("POST", `/api/v1/requests/${ulidArgument("request", id)}/${verb}`, { reason: o.reason })).body;
        if (output === "json") return printJson(r);
        print(requestLines(r));
      });
  }
}

/** GET /api/v1/shadow/agreement's answer. */
export interface AgreementView {
  since: string | null;
  totals: { agreed: number; disagreed: number; undecidable: number };
  counts: { kind: string; outcome: string; count: number }[];
  disagreements: { ticketId: number; branch: string; title: string; kind: string | null; path: string | null; relengd: string; bot: string; comparedAt: string }[];
}

/** --since as an ISO time for the API: a time as given, or a duration back from now. */
export function agreementSince(value: string, now = new Date()): string {
  const seconds = parseDuration(value);
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new CliError(`--since must be an ISO time like 2026-05-01T00:00:00Z or a duration like 7d, not ${JSON.stringify(value)}`, exitCodes.usage);
}
