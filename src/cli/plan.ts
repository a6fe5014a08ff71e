// `relengd plan`: the Koji tag operations that would make Koji (as observed on the bus) hold what the GitOps repository asks for,
// and beside them the operations its merged requests imply and the requests that reached it unreviewed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { simpleGit } from "simple-git";
import { parseDocumentText } from "../domain/documents/index.js";
import { planKojiTags, type DesiredTagBuild, type KojiTagPlan, type ObservedTagBuild } from "../domain/plan.js";
import { operationsOfFiles, type PlannedRequestOperation } from "../domain/requests/operations.js";
import type { UnreviewedDocument } from "../domain/requests/unreviewed.js";
import { listProposedDocumentPaths, readUnreviewedWitnessed } from "../gitops/proposedHistory.js";
import { RemoteUnavailable, Workspace } from "../gitops/workspace.js";
import { apiClient, CliError, exitCodes, type ApiClient } from "./client.js";
import { clientVerb, outputFormat, printJson, printTable } from "./output.js";
import { printable } from "./request.js";

interface PlanOptions {
  environment?: string;
  output: string;
  repo?: string;
  branch?: string;
}

/** What GET /api/v1/environments says of an environment (the fields plan reads). */
interface EnvironmentView {
  name: string;
  kind: string;
  kojiTag?: { tag: string };
  url: string | null;
  branch: string | null;
}

/** What plan reads of one repository's branch: the Koji tag documents and the proposed documents. */
interface BranchRead {
  commit: string | null;
  files: Map<string, string>;
  proposed: Map<string, string>;
  unreviewed: UnreviewedDocument[];
}

/** Where a request operation or an unreviewed document was read. */
interface AtBranch {
  repository: string;
  branch: string;
}

interface PlannedEnvironment {
  name: string;
  tag: string;
  repository: string;
  branch: string;
  /** The commit the documents were read at; null when the branch does not exist yet. */
  commit: string | null;
}

const help = `
The desired state is the KojiTag documents (koji/tags/<tag>/<package>.yaml) on the branch of
each KojiTag environment's repository, read with git from the URL the server reports (or
--repo/--branch: e.g. a merge request's branch, to see what merging it would do). The observed
state is what relengd saw on the Fedora message bus (buildsys.tag, buildsys.untag), from
GET /api/v1/koji-tags/{tag}/observed: builds tagged before relengd listened are not known to it.

For each document: its build is the tag's latest (in sync); or it is not in the tag (tag it); or
builds were tagged after it (untag them, newest first). Packages of the tag that no document
names are listed as unmanaged and get no operation.

Requests on the same branch (BranchRequest and RepoRequest under distgit/, SideTag under
koji/sidetags/, MassBranch under releases/, MassRebuild under rebuilds/, SigRequest under sigs/,
EventRequest under events/, CalendarEntry under calendar/) are listed under two more headings: the operations merged requests imply
(create branch rpms/nethack f44, koji add-sidetag f44-build), and the unreviewed ones: request
documents whose last change on the branch (first parent) is not a merge relengd made: no
Relengd-Request-Id trailer (a push straight to the branch), or a trailer naming a request the
server did not record as merged with exactly that commit (GET /api/v1/requests/{id}): a trailer
is text anyone can type. Neither changes the exit code.

Exit codes: 0 in sync, 1 operations to do (drift), 2 usage error, 3 server error, 4 relengd or
the repository unreachable. RELENGD_URL and RELENGD_TOKEN (any role) name the server and the token.`;

export function registerPlanCommand(program: Command): void {
  clientVerb(program.command("plan"))
    .description("print the Koji tag/untag operations that would make Koji hold what the GitOps repo asks for, and what its requests imply")
    .option("--environment <env>", "only this KojiTag environment (default: every one)")
    .option("--repo <url>", "read the documents from this repository instead of the environment's")
    .option("--branch <name>", "read the documents from this branch instead of the environment's")
    .addHelpText("after", help)
    .action(async (o: PlanOptions) => {
      const format = outputFormat(o.output);
      if (o.branch !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/.test(o.branch)) throw new CliError(`--branch "${o.branch}" is not a branch name`, exitCodes.usage);
      const client = apiClient();
      const environments = await kojiTagEnvironments(client, o.environment);
      const scratch = mkdtempSync(path.join(tmpdir(), "relengd-plan-"));
      try {
        const planned: PlannedEnvironment[] = [];
        const desired: DesiredTagBuild[] = [];
        const problems: string[] = [];
        const reads = new Map<string, Promise<BranchRead>>();
        const branches: (AtBranch & { read: BranchRead })[] = [];
        for (const env of environments) {
          const repository = o.repo ?? env.url;
          const branch = o.branch ?? env.branch ?? "main";
          if (!repository) throw new CliError(`environment ${env.name} has no repository URL; give --repo`, exitCodes.usage);
          const key = `${repository}\0${branch}`;
          const first = !reads.has(key);
          if (first) reads.set(key, readBranchDocuments(repository, branch, path.join(scratch, `repo-${reads.size}.git`), (ids) => mergesRelengdRecorded(client, ids)));
          const read = await (reads.get(key) as Promise<BranchRead>);
          if (first) branches.push({ repository, branch, read });
          const tag = env.kojiTag?.tag as string;
          planned.push({ name: env.name, tag, repository, branch, commit: read.commit });
          for (const [file, text] of read.files) {
            if (!file.startsWith(`koji/tags/${tag}/`)) continue;
            const doc = parseDocumentText(text, file);
            if (!doc.ok) problems.push(...doc.issues.map((i) => `${file}:${i.line ?? 1}: ${i.path} ${i.message}`));
            else if (doc.value.kind === "KojiTag") desired.push({ tag: doc.value.spec.tag, package: doc.value.spec.package, nvr: doc.value.spec.nvr, path: file });
          }
        }
        const tags = [...new Set(planned.map((p) => p.tag))];
        const observed: ObservedTagBuild[] = [];
        for (const tag of tags) {
          const res = await client.request<{ builds: ObservedTagBuild[] }>("GET", `/api/v1/koji-tags/${encodeURIComponent(tag)}/observed`);
          observed.push(...res.body.builds);
        }
        // Two environments may share a tag: each document counts once.
        const unique = [...new Map(desired.map((d) => [`${d.tag}\0${d.package}`, d])).values()];
        const plan = planKojiTags(unique, observed, tags);
        const requestOperations: (AtBranch & PlannedRequestOperation)[] = [];
        const unreviewed: (AtBranch & UnreviewedDocument)[] = [];
        for (const { repository, branch, read } of branches) {
          const requests = operationsOfFiles(read.proposed);
          requestOperations.push(...requests.operations.map((op) => ({ repository, branch, ...op })));
          problems.push(...requests.problems);
          unreviewed.push(...read.unreviewed.map((u) => ({ repository, branch, ...u })));
        }
        if (format === "json") printJson({ environments: planned, ...plan, problems, requestOperations, unreviewed });
        else {
          printPlan(plan, planned, problems);
          printRequests(requestOperations, unreviewed, branches.length > 1);
        }
        // Requests never change the exit code: it says whether Koji's tags drifted.
        if (plan.operations.length > 0) throw new CliError("", exitCodes.rejected);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
}

async function kojiTagEnvironments(client: ApiClient, only: string | undefined): Promise<EnvironmentView[]> {
  const res = await client.request<{ items: EnvironmentView[] }>("GET", "/api/v1/environments");
  const all = res.body.items;
  if (only !== undefined) {
    const env = all.find((e) => e.name === only);
    if (!env) throw new CliError(`no environment ${only} (known: ${all.map((e) => e.name).join(", ") || "none"})`, exitCodes.usage);
    if (env.kind !== "KojiTag" || !env.kojiTag) throw new CliError(`environment ${only} is a ${env.kind} environment; plan compares Koji tags only`, exitCodes.usage);
    return [env];
  }
  const tagged = all.filter((e) => e.kind === "KojiTag" && e.kojiTag);
  if (tagged.length === 0) throw new CliError("the server declares no KojiTag environment: nothing to plan", exitCodes.usage);
  return tagged;
}

/** A request id as the API names them (a ULID): anything else in a trailer is no request of this server. */
const REQUEST_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Requests asked about at once: a branch with many merged documents is checked in a few seconds, without a flood. */
const WITNESS_CONCURRENCY = 8;

/**
 * Which of the request ids named by trailers the server recorded as merged, and with which
 * commit: a trailer anyone can type, so only the server's record makes a merge reviewed. An id
 * the server does not know (404, or requests off) is not witnessed.
 */
async function mergesRelengdRecorded(client: ApiClient, ids: readonly string[]): Promise<Map<string, string>> {
  const merged = new Map<string, string>();
  const queue = ids.filter((id) => REQUEST_ID.test(id));
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        const res = await client.request<{ status: string; mergeCommit: string | null }>("GET", `/api/v1/requests/${encodeURIComponent(id)}`);
        if (res.body.status === "merged" && res.body.mergeCommit) merged.set(id, res.body.mergeCommit);
      } catch (err) {
        if (!(err instanceof CliError && err.status === 404)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WITNESS_CONCURRENCY, queue.length) }, worker));
  return merged;
}

/**
 * The files under koji/tags/ and the proposed documents at the tip of `branch`, with those that
 * reached it unreviewed (`witness`: which merges relengd recorded), read with a fetch into a scratch bare clone.
 */
async function readBranchDocuments(url: string, branch: string, dir: string, witness: (ids: string[]) => Promise<ReadonlyMap<string, string>>): Promise<BranchRead> {
  const ws = new Workspace(dir, url, branch);
  try {
    await ws.open();
    if (!(await ws.fetch())) return { commit: null, files: new Map(), proposed: new Map(), unreviewed: [] };
  } catch (err) {
    if (err instanceof RemoteUnavailable) throw new CliError(`cannot read the GitOps repository: ${err.message}`, exitCodes.unreachable);
    throw err;
  }
  const head = await ws.head();
  if (!head) return { commit: null, files: new Map(), proposed: new Map(), unreviewed: [] };
  const listing = await simpleGit({ baseDir: dir }).raw(["ls-tree", "-r", "--name-only", head, "--", "koji/tags/"]);
  const paths = listing.split("\n").filter((p) => /\.ya?ml$/.test(p));
  const proposedPaths = await listProposedDocumentPaths(dir, head);
  return {
    commit: head,
    files: await ws.readFiles(head, paths),
    proposed: await ws.readFiles(head, proposedPaths),
    unreviewed: await readUnreviewedWitnessed(dir, head, witness, proposedPaths),
  };
}

/** The two request headings; nothing when the branch holds no request. */
function printRequests(operations: (AtBranch & PlannedRequestOperation)[], unreviewed: (AtBranch & UnreviewedDocument)[], manyBranches: boolean): void {
  const where = (at: AtBranch) => (manyBranches ? [`${at.repository}#${at.branch}`] : []);
  if (operations.length > 0) {
    process.stdout.write("\nOperations merged requests imply\n");
    printTable([...(manyBranches ? ["BRANCH"] : []), "KIND", "PATH", "OPERATION"], operations.map((op) => [...where(op), op.requestKind, op.path, op.text]));
  }
  if (unreviewed.length > 0) {
    process.stdout.write("\nUnreviewed: requests that reached the branch without a relengd merge\n");
    // A trailer naming a request relengd did not merge with that commit is shown: someone copied it, or merged by hand.
    const named = unreviewed.some((u) => u.requestId !== undefined);
    printTable(
      [...(manyBranches ? ["BRANCH"] : []), "PATH", "COMMIT", "SUBJECT", ...(named ? ["TRAILER NAMES"] : [])],
      // Subjects and trailers are whatever a pusher typed: control characters are shown escaped.
      unreviewed.map((u) =>
        [...where(u), u.path, u.commit ? u.commit.slice(0, 12) : "(not in the history)", u.subject ?? "", ...(named ? [u.requestId ? `request ${u.requestId} (not merged by relengd with this commit)` : "-"] : [])].map(printable),
      ),
    );
  }
  if (operations.length > 0 || unreviewed.length > 0) {
    process.stderr.write(`${operations.length} request operation${operations.length === 1 ? "" : "s"}, ${unreviewed.length} unreviewed request document${unreviewed.length === 1 ? "" : "s"} (neither changes the exit code)\n`);
  }
}

function printPlan(plan: KojiTagPlan, planned: PlannedEnvironment[], problems: string[]): void {
  for (const p of problems) process.stderr.write(`problem: ${p}\n`);
  if (plan.operations.length > 0) {
    printTable(
      ["OP", "TAG", "PACKAGE", "NVR", "WHY"],
      plan.operations.map((op) => [op.op, op.tag, op.package, op.nvr, op.reason]),
    );
  } else process.stdout.write(`in sync: ${plan.inSync.length} package${plan.inSync.length === 1 ? "" : "s"} in ${planned.map((p) => p.tag).filter((t, i, a) => a.indexOf(t) === i).join(", ")}\n`);
  const at = planned.map((p) => `${p.name} (${p.tag}) at ${p.commit ? p.commit.slice(0, 7) : "an empty branch"} of ${p.repository}#${p.branch}`);
  process.stderr.write(
    `${plan.operations.length} operation${plan.operations.length === 1 ? "" : "s"}, ${plan.inSync.length} in sync, ${plan.unmanaged.length} unmanaged (no document); ${at.join("; ")}\n`,
  );
}
