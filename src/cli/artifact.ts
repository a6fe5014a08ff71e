// `relengd artifact …`: what a CI pipeline runs to build an artifact file and push it.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  mergeItems,
  parseArtifact,
  sourceEvents,
  type Artifact,
  type ArtifactInput,
  type ArtifactItem,
  type FieldIssue,
} from "../domain/artifact.js";
import { apiClient, CliError, exitCodes } from "./client.js";
import { clientVerb, outputFormat, printJson, printNextPage, printTable } from "./output.js";

/** A file given on the command line that is not what it should be: one line per field. */
export function describeIssues(file: string, what: string, issues: FieldIssue[]): string {
  return [`${file}: not a valid ${what}`, ...issues.map((i) => `  ${i.path}: ${i.message}`)].join("\n");
}

/** Reads a JSON file given on the command line: missing is a usage error, not JSON is a rejected input. */
export function readJsonFile(file: string, hint = ""): unknown {
  if (!existsSync(file)) throw new CliError(`${file}: no such file${hint}`, exitCodes.usage);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (err) {
    throw new CliError(`${file}: not JSON: ${(err as Error).message}`, exitCodes.rejected);
  }
}

/** An artifact file as `relengd artifact create/add` writes it. */
export function readArtifactFile(file: string): Artifact {
  const parsed = parseArtifact(readJsonFile(file, " (create it with `relengd artifact create`)"));
  if (!parsed.ok) throw new CliError(describeIssues(file, "artifact", parsed.issues), exitCodes.rejected);
  return parsed.value;
}

/** Validates, then replaces the file atomically: a pipeline never sees half a file. */
function writeArtifactFile(file: string, input: ArtifactInput): Artifact {
  const parsed = parseArtifact(input);
  if (!parsed.ok) throw new CliError(describeIssues(file, "artifact", parsed.issues), exitCodes.rejected);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(parsed.value, null, 2) + "\n");
  renameSync(tmp, file);
  return parsed.value;
}

function splitPair(text: string, what: string): [string, string] {
  const i = text.indexOf("=");
  if (i <= 0 || i === text.length - 1) throw new CliError(`${what} must be KEY=VALUE, got "${text}"`, exitCodes.usage);
  return [text.slice(0, i), text.slice(i + 1)];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const integer = (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new CliError(`"${value}" is not a whole number`, exitCodes.usage);
  return Number(value);
};

// Defaults from the CI system's own variables, so a pipeline step can stay short.
function ciDefault(...names: string[]): string | undefined {
  for (const n of names) if (process.env[n]) return process.env[n];
  return undefined;
}

export function registerArtifactCommands(program: Command): void {
  const artifact = program.command("artifact").description("build, push and find release artifacts");

  artifact
    .command("create")
    .description("write a new artifact file (no items yet); source fields default to GitLab/GitHub CI variables")
    .requiredOption("--file <path>", "artifact file to write")
    .requiredOption("--id <id>", "artifact id, unique (e.g. the pipeline id)")
    .requiredOption("--package <name>", "source package name")
    .requiredOption("--release <release>", "target distro release: rawhide, f41, epel9, …")
    .option("--source-repo <url>", "source repository", ciDefault("CI_PROJECT_URL"))
    .option("--sha <sha>", "source commit", ciDefault("CI_COMMIT_SHA", "GITHUB_SHA"))
    .option("--branch <branch>", "source branch", ciDefault("CI_COMMIT_BRANCH", "GITHUB_REF_NAME"))
    .option("--event <event>", `source event: ${sourceEvents.join(", ")}`, "push")
    .option("--pr <id>", "pull request id", ciDefault("CI_MERGE_REQUEST_IID"))
    .option("--author <name>", "commit author")
    .option("--committer <name>", "committer")
    .option("--message <text>", "commit message", ciDefault("CI_COMMIT_MESSAGE"))
    .option("--url <url>", "link to the pipeline", ciDefault("CI_PIPELINE_URL"))
    .option("--force", "overwrite an existing file")
    .action((o: Record<string, string | boolean | undefined>) => {
      const file = o.file as string;
      if (existsSync(file) && !o.force) throw new CliError(`${file} exists; pass --force to overwrite`, exitCodes.usage);
      if (!o.sourceRepo) throw new CliError("--source-repo is required (no CI_PROJECT_URL in the environment)", exitCodes.usage);
      if (!o.sha) throw new CliError("--sha is required (no CI_COMMIT_SHA/GITHUB_SHA in the environment)", exitCodes.usage);
      const source: Record<string, unknown> = { repo: o.sourceRepo, sha: o.sha, event: o.event };
      for (const k of ["branch", "pr", "author", "committer", "message", "url"] as const) if (o[k]) source[k] = o[k];
      const written = writeArtifactFile(file, {
        id: o.id as string,
        package: o.package as string,
        release: o.release as string,
        source: source as ArtifactInput["source"],
        items: [],
        context: {},
      });
      process.stderr.write(`wrote ${file} (artifact ${written.id})\n`);
    });

  artifact
    .command("add")
    .description("add items or context to an artifact file")
    .requiredOption("--file <path>", "artifact file to change")
    .option("--koji-build <nvr>", "a koji build (repeatable)", collect)
    .option("--build-id <n>", "koji build id of the (single) --koji-build", integer)
    .option("--task-id <n>", "koji task id of the (single) --koji-build", integer)
    .option("--target <target>", "koji target of the --koji-build")
    .option("--side-tag <tag>", "side tag the --koji-build was built in")
    .option("--owner <user>", "owner of the --koji-build")
    .option("--ci-result <testcase=outcome>", "a CI result, e.g. fedora-ci.koji-build.tier0.functional=PASSED (repeatable)", collect)
    .option("--ref-url <url>", "reference URL of the (single) --ci-result")
    .option("--scenario <name>", "scenario of the --ci-result")
    .option("--note <text>", "note on the --ci-result")
    .option("--submitted-at <iso-time>", "when the --ci-result was submitted (RFC 3339); of one testcase and scenario the latest result decides")
    .option("--compose <id>", "a compose id (with --status)")
    .option("--status <status>", "compose status")
    .option("--compose-type <type>", "compose type: nightly, test, production, ci")
    .option("--label <label>", "compose label")
    .option("--link <name=url>", "a named link (repeatable)", collect)
    .option("--context <key=value>", "a CI variable (repeatable)", collect)
    .action((o: Record<string, unknown>) => {
      const file = o.file as string;
      const current = readArtifactFile(file);
      const items: ArtifactItem[] = [];
      const nvrs = (o.kojiBuild as string[] | undefined) ?? [];
      const perBuild = ["buildId", "taskId", "target", "sideTag", "owner"].filter((k) => o[k] !== undefined);
      if (perBuild.length > 0 && nvrs.length !== 1) throw new CliError("--build-id/--task-id/--target/--side-tag/--owner go with exactly one --koji-build", exitCodes.usage);
      for (const nvr of nvrs) {
        const item: Record<string, unknown> = { kind: "koji-build", nvr };
        for (const k of perBuild) item[k] = o[k];
        items.push(item as ArtifactItem);
      }
      const results = (o.ciResult as string[] | undefined) ?? [];
      const perResult = ["refUrl", "scenario", "note", "submittedAt"].filter((k) => o[k] !== undefined);
      if (perResult.length > 0 && results.length !== 1) throw new CliError("--ref-url/--scenario/--note/--submitted-at go with exactly one --ci-result", exitCodes.usage);
      for (const r of results) {
        const [testcase, outcome] = splitPair(r, "--ci-result");
        const item: Record<string, unknown> = { kind: "ci-result", testcase, outcome: outcome.toUpperCase() };
        for (const k of perResult) item[k] = o[k];
        items.push(item as ArtifactItem);
      }
      if (o.compose !== undefined || o.status !== undefined) {
        if (o.compose === undefined || o.status === undefined) throw new CliError("--compose and --status go together", exitCodes.usage);
        items.push({
          kind: "compose",
          composeId: o.compose as string,
          status: (o.status as string).toUpperCase(),
          ...(o.composeType ? { type: o.composeType } : {}),
          ...(o.label ? { label: o.label } : {}),
        } as ArtifactItem);
      }
      for (const l of (o.link as string[] | undefined) ?? []) {
        const [name, url] = splitPair(l, "--link");
        items.push({ kind: "link", name, url });
      }
      const context = { ...current.context };
      const contextPairs = (o.context as string[] | undefined) ?? [];
      for (const c of contextPairs) {
        const [k, v] = splitPair(c, "--context");
        context[k] = v;
      }
      // Judged by the flags given, not by sizes: --context KEY=new replaces a value without adding a key.
      if (items.length === 0 && contextPairs.length === 0) {
        throw new CliError("nothing to add: give --koji-build, --ci-result, --compose, --link or --context", exitCodes.usage);
      }
      const merged = mergeItems(current.items, items);
      writeArtifactFile(file, { ...current, items: merged, context });
      process.stderr.write(`updated ${file}: ${merged.length} items, ${Object.keys(context).length} context entries\n`);
    });

  clientVerb(artifact.command("push"))
    .description("push an artifact file to relengd (RELENGD_URL, RELENGD_TOKEN)")
    .requiredOption("--file <path>", "artifact file")
    .action(async (o: { file: string; output: string }) => {
      const output = outputFormat(o.output);
      const a = readArtifactFile(o.file);
      const res = await apiClient().request<{ id: string; status: string; digest: string }>("POST", "/api/v1/artifacts", a);
      if (output === "json") return printJson(res.body);
      process.stdout.write(`${res.body.status} ${res.body.id} sha256:${res.body.digest}\n`);
    });

  clientVerb(artifact.command("list"))
    .description("list artifacts, newest first")
    .option("--package <name>")
    .option("--release <release>")
    .option("--nvr <nvr>", "artifacts carrying this koji build")
    .option("--sha <sha>")
    .option("--branch <branch>")
    .option("--event <event>")
    .option("--since <iso-time>")
    .option("--until <iso-time>")
    .option("--limit <n>", "page size", "50")
    .option("--cursor <cursor>", "continue from a previous page")
    .action(async (o: Record<string, string | undefined>) => {
      const output = outputFormat(o.output);
      const params = new URLSearchParams();
      for (const k of ["package", "release", "nvr", "sha", "branch", "event", "since", "until", "limit", "cursor"]) {
        const v = o[k];
        if (v !== undefined) params.set(k, v);
      }
      const res = await apiClient().request<{ items: (Artifact & { createdAt: string })[]; nextCursor: string | null }>(
        "GET",
        `/api/v1/artifacts?${params.toString()}`,
      );
      if (output === "json") return printJson(res.body);
      const rows = res.body.items.map((a) => [
        a.id,
        a.package,
        a.release,
        a.items.filter((i) => i.kind === "koji-build").map((i) => (i as { nvr: string }).nvr).join(",") || "-",
        a.source.event,
        a.createdAt,
      ]);
      printTable(["ID", "PACKAGE", "RELEASE", "NVR", "EVENT", "CREATED"], rows);
      printNextPage(res.body.nextCursor);
    });

  clientVerb(artifact.command("show"), ["json"])
    .description("show one artifact with its appended results")
    .argument("<id>", "artifact id")
    .action(async (id: string, o: { output: string }) => {
      outputFormat(o.output, ["json"]);
      const res = await apiClient().request("GET", `/api/v1/artifacts/${encodeURIComponent(id)}`);
      printJson(res.body);
    });
}
