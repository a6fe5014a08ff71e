// `relengd policy lint|test|explain|reload`: check policy files offline, dry-run them on an artifact file, ask the server why.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { appendResultsSchema, ARTIFACT_ID_PATTERN, ciResultItemSchema, parseWith, type Artifact, type CiResultItem, type Parsed } from "../domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../domain/documents/envelope.js";
import { decidePolicy, policyTriggers, type DecisionFacts, type Policy } from "../domain/policy.js";
import { ENVIRONMENTS_FILE } from "../policy/environments.js";
import { checkPolicies } from "../policy/loader.js";
import { checkFactFiles } from "../policy/facts.js";
import type { DecisionRecord } from "../store/decisionRepository.js";
import { describeIssues, readArtifactFile, readJsonFile } from "./artifact.js";
import { apiClient, CliError, exitCodes } from "./client.js";
import { clientVerb, outputFormat, printJson, printTable } from "./output.js";

// Offline verbs never write, so where a repository without a url would point does not matter;
// the loader only needs something to resolve it to.
const OFFLINE_REPO_URL = "data/gitops.git";

const count = (n: number, noun: string, nouns = `${noun}s`) => `${n} ${n === 1 ? noun : nouns}`;

function policiesDirArgument(dir: string | undefined): string {
  const chosen = dir ?? process.env.RELENGD_POLICIES_DIR ?? "./policies";
  let isDirectory = false;
  try {
    isDirectory = statSync(chosen).isDirectory();
  } catch {
    throw new CliError(`${chosen}: no such directory`, exitCodes.usage);
  }
  if (!isDirectory) throw new CliError(`${chosen}: not a directory`, exitCodes.usage);
  return chosen;
}

const resultListSchema = z.array(ciResultItemSchema);

/** A results file: `{"results": [...]}` as POST /api/v1/artifacts/ID/results takes it, or the bare list. */
function readResultsFile(file: string): CiResultItem[] {
  const raw = readJsonFile(file);
  const parsed: Parsed<CiResultItem[]> = Array.isArray(raw)
    ? parseWith(resultListSchema, raw)
    : ((r) => (r.ok ? { ok: true, value: r.value.results } : r))(parseWith(appendResultsSchema, raw));
  if (!parsed.ok) throw new CliError(describeIssues(file, "results file (a list of ci-result items, or {\"results\": [...]})", parsed.issues), exitCodes.rejected);
  return parsed.value;
}

const isoTime = z.iso.datetime({ offset: true });

function instantArgument(flag: string, value: string): Date {
  if (!isoTime.safeParse(value).success) throw new CliError(`${flag} must be an ISO 8601 time with a zone, like 2026-12-01T05:00:00Z; got "${value}"`, exitCodes.usage);
  return new Date(value);
}

function pushedToArgument(values: string[]): Map<string, Date> {
  const pushedAt = new Map<string, Date>();
  for (const v of values) {
    const i = v.indexOf("=");
    const environment = v.slice(0, i);
    if (i <= 0 || !ENVIRONMENT_NAME_PATTERN.test(environment)) throw new CliError(`--pushed-to must be ENVIRONMENT=ISO-TIME, got "${v}"`, exitCodes.usage);
    pushedAt.set(environment, instantArgument("--pushed-to", v.slice(i + 1)));
  }
  return pushedAt;
}

type PolicyEvent = (typeof policyTriggers)[number];

export interface DryRunDecision {
  policy: string;
  environment: string;
  fire: boolean;
  /** True when a later event (a result, the end of a freeze, time) may change the answer. */
  waiting: boolean;
  reason: string;
}

function describeTriggers(policy: Policy): string {
  const s = policy.spec.schedule;
  return policy.spec.on.map((t) => (t === "schedule" && s ? `schedule (${s.cron}, ${s.timezone})` : t)).join(", ");
}

/**
 * What the server would decide for one policy on `event`: the policy's trigger and, for a schedule,
 * its selection, then decidePolicy() as evaluatePolicies runs it.
 */
export function dryRunDecision(policy: Policy, artifact: Artifact, event: PolicyEvent, facts: DecisionFacts<unknown>): DryRunDecision {
  const target = policy.spec.release.environment;
  const base = { policy: policy.metadata.name, environment: target };
  if (!policy.spec.on.includes(event)) return { ...base, fire: false, waiting: false, reason: `runs on ${describeTriggers(policy)}, not on ${event}` };
  // A schedule run looks only at the artifacts its query selects (src/flow/runSchedule.ts).
  const select = policy.spec.select;
  if (event === "schedule" && !select) {
    const own = facts.environments.get(target)?.kind === "ComposeRequest";
    return { ...base, fire: false, waiting: false, reason: own ? "not selected: a run requests a compose with an artifact of its own" : "not selected: the policy has no select query" };
  }
  if (event === "schedule" && select && !facts.pushedAt.has(select.pushedTo)) {
    return { ...base, fire: false, waiting: false, reason: `not selected: a run looks only at artifacts pushed to ${select.pushedTo} (give --pushed-to ${select.pushedTo}=TIME)` };
  }
  const decision = decidePolicy(policy, artifact, facts);
  if (!decision.fire) return { ...base, fire: false, waiting: decision.waiting, reason: decision.reason };
  const what = decision.nvrs.length > 0 ? decision.nvrs.join(", ") : `artifact ${artifact.id}`;
  const waived = decision.waived ? `; ${decision.waived.join("; ")}` : "";
  return { ...base, fire: true, waiting: false, reason: `would release ${what} to ${target} (${decision.environment.kind})${waived}` };
}

/** A decision as GET /api/v1/artifacts/ID/decisions answers it: the stored record, its time in ISO 8601. */
type DecisionView = Omit<DecisionRecord, "createdAt"> & { createdAt: string };

export const decisionOutcome = (d: Pick<DecisionView, "fired" | "waiting" | "releaseId" | "reason">): string =>
  d.fired ? `FIRED → ${d.releaseId ?? "?"}${d.reason ? ` (${d.reason})` : ""}` : `SKIPPED${d.waiting ? " (waiting)" : ""} ${d.reason ?? ""}`.trimEnd();

interface TestOptions {
  file: string;
  results?: string;
  dir?: string;
  now?: string;
  pushedTo: string[];
  event?: string;
  output?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerPolicyCommands(program: Command): void {
  const policy = program.command("policy").description("check, dry-run and explain auto-release policies (policies/*.yaml)");

  policy
    .command("lint")
    .description("check environments.yaml and every policy file the way the server loads them (offline)")
    .argument("[dir]", "the policies folder (default: RELENGD_POLICIES_DIR, else ./policies)")
    .addHelpText(
      "after",
      `
Prints one line per problem, file:line: /field: message, then "N policies, M environments, K problems"
(N counts the policy files: release policies, approval policies and the facts configuration). The
facts files the configuration names inside the folder must load; URLs are not fetched.
A broken environments.yaml does not stop the policy files from being checked, only the environment each names.

Exit codes: 0 no problems, 1 problems found, 2 DIR is not a directory.`,
    )
    .action(async (dirArg: string | undefined) => {
      const dir = policiesDirArgument(dirArg);
      if (!existsSync(path.join(dir, ENVIRONMENTS_FILE))) process.stderr.write(`warning: ${dir} has no ${ENVIRONMENTS_FILE}: no environment is declared\n`);
      const check = checkPolicies(dir, OFFLINE_REPO_URL);
      // The facts files in the folder are read too (URLs are left alone: lint is offline).
      const problems = [...check.problems, ...(check.facts ? await checkFactFiles(check.facts, dir) : [])];
      for (const p of problems) process.stdout.write(p + "\n");
      process.stdout.write(`${count(check.files, "policy", "policies")}, ${count(check.environments, "environment")}, ${count(problems.length, "problem")}\n`);
      if (problems.length > 0) throw new CliError("", exitCodes.rejected);
    });

  policy
    .command("test")
    .description("dry run: which policies would release an artifact file, and why not (offline, nothing is written)")
    .requiredOption("--file <path>", "the artifact file (as `relengd artifact create/add` writes it)")
    .option("--results <path>", 'results appended after the push: {"results": [...]} as the API takes, or a list of ci-result items')
    .option("--dir <dir>", "the policies folder (default: RELENGD_POLICIES_DIR, else ./policies)")
    .option("--now <iso-time>", "evaluate at this time (freezes, minimum ages); default: now")
    .option("--pushed-to <env=iso-time>", "this artifact was pushed to ENV at that time, for minAge (repeatable)", collect, [])
    .option("--event <event>", `the event to evaluate on: ${policyTriggers.join(", ")} (default: results with --results, else artifact)`)
    .option("--output <format>", "table or json", "table")
    .addHelpText(
      "after",
      `
Holds, waivers and earlier releases live on the server: a dry run sees none of them.

Example:
  relengd policy test --file artifact.json --results results.json --now 2026-12-02T00:00:00Z \\
    --pushed-to f44-updates-testing=2026-11-20T10:00:00Z

Exit codes: 0 evaluated (whatever the decisions), 1 an input file or the policies are invalid,
2 usage error (a missing file or folder, a bad flag).`,
    )
    .action((o: TestOptions) => {
      const output = outputFormat(o.output);
      const now = o.now === undefined ? new Date() : instantArgument("--now", o.now);
      const pushedAt = pushedToArgument(o.pushedTo);
      if (o.event !== undefined && !(policyTriggers as readonly string[]).includes(o.event)) {
        throw new CliError(`--event must be one of ${policyTriggers.join(", ")}`, exitCodes.usage);
      }
      const event: PolicyEvent = (o.event as PolicyEvent | undefined) ?? (o.results !== undefined ? "results" : "artifact");
      const dir = policiesDirArgument(o.dir);
      const artifact = readArtifactFile(o.file);
      const results = o.results !== undefined ? readResultsFile(o.results) : [];
      const { set, problems } = checkPolicies(dir, OFFLINE_REPO_URL);
      if (!set) {
        for (const p of problems) process.stderr.write(p + "\n");
        throw new CliError(`${dir}: ${count(problems.length, "problem")}; fix them (relengd policy lint) before a dry run`, exitCodes.rejected);
      }
      const { environments, repositories } = set.environments;
      // Waivers, like holds, live on the server: a dry run sees none.
      const facts: DecisionFacts<unknown> = { now, results, waivers: [], environments, repositories, pushedAt, holds: new Map(), standing: new Map() };
      const decisions = set.policies.map((p) => dryRunDecision(p, artifact, event, facts));
      const ownResults = artifact.items.filter((i) => i.kind === "ci-result").length;
      const holds = "none (a dry run does not see the server's holds, waivers or earlier releases)";
      if (output === "json") {
        return printJson({
          dryRun: true,
          artifact: artifact.id,
          package: artifact.package,
          release: artifact.release,
          event,
          now: now.toISOString(),
          holds,
          pushedTo: Object.fromEntries([...pushedAt].map(([env, at]) => [env, at.toISOString()])),
          results: { inArtifact: ownResults, appended: results.length },
          decisions: decisions.map((d) => ({ ...d, decision: d.fire ? "FIRE" : "SKIP" })),
        });
      }
      process.stdout.write(`dry run: artifact ${artifact.id} (${artifact.package}, ${artifact.release}) on event ${event} at ${now.toISOString()}; nothing is written\n`);
      process.stdout.write(`holds: ${holds}\n`);
      process.stdout.write(`results: ${ownResults} in the artifact, ${results.length} appended${o.results !== undefined ? ` from ${o.results}` : ""}\n`);
      if (pushedAt.size > 0) process.stdout.write(`pushed to: ${[...pushedAt].map(([env, at]) => `${env} at ${at.toISOString()}`).join(", ")}\n`);
      process.stdout.write("\n");
      printTable(
        ["POLICY", "DECISION", "ENVIRONMENT", "REASON"],
        decisions.map((d) => [d.policy, d.fire ? "FIRE" : "SKIP", d.environment, `${d.waiting ? "(waiting) " : ""}${d.reason}`]),
      );
      if (decisions.length === 0) process.stderr.write(`${dir} has no policies\n`);
    });

  clientVerb(policy.command("explain"))
    .description("why the server released an artifact or not: every policy decision about it, oldest first")
    .argument("<artifact-id>", "the artifact")
    .addHelpText(
      "after",
      `
Exit codes: 0 shown, 1 no such artifact, 2 usage error, 3 server error, 4 relengd unreachable.
RELENGD_URL and RELENGD_TOKEN (any role) name the server and the token.`,
    )
    .action(async (id: string, o: { output?: string }) => {
      const output = outputFormat(o.output);
      if (!ARTIFACT_ID_PATTERN.test(id)) throw new CliError(`"${id}" is not an artifact id`, exitCodes.usage);
      const res = await apiClient().request<{ items: DecisionView[] }>("GET", `/api/v1/artifacts/${encodeURIComponent(id)}/decisions`);
      if (output === "json") return printJson(res.body);
      printTable(
        ["TIME", "POLICY", "EVENT", "DECISION"],
        res.body.items.map((d) => [d.createdAt, d.policy, d.event, decisionOutcome(d)]),
      );
      if (res.body.items.length === 0) process.stderr.write(`no decisions about ${id} yet: no policy has been evaluated on it\n`);
    });

  clientVerb(policy.command("reload"))
    .description("make the server read its policies folder again (admin); a broken file keeps the old set")
    .addHelpText(
      "after",
      `
Exit codes: 0 reloaded, 1 refused (the problems are printed; the previous set stays), 3 server error,
4 relengd unreachable. RELENGD_URL and RELENGD_TOKEN (role admin) name the server and the token.`,
    )
    .action(async (o: { output: string }) => {
      const output = outputFormat(o.output);
      const res = await apiClient().request<{ policies: number; environments: number }>("POST", "/api/v1/policies/reload");
      if (output === "json") return printJson(res.body);
      process.stdout.write(`reloaded: ${count(res.body.policies, "policy", "policies")}, ${count(res.body.environments, "environment")}\n`);
    });
}
