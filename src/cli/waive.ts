// `relengd waive` and `relengd waivers`: waive a failed or missing result of an artifact (or revoke the waiver), and list its waivers.
import type { Command } from "commander";
import { ARTIFACT_ID_PATTERN, TESTCASE_PATTERN } from "../domain/artifact.js";
import { apiClient, CliError, exitCodes } from "./client.js";
import { clientVerb, outputFormat, printJson, printTable } from "./output.js";
import { decisionOutcome } from "./policy.js";

/** A waiver as /api/v1/artifacts/ID/waivers answers it. */
export interface WaiverView {
  id: string;
  artifactId: string | null;
  nvr: string | null;
  testcase: string;
  scenario?: string;
  waived: boolean;
  comment: string;
  username: string;
  source: string;
  environments?: string[];
  waivedAt: string;
  inForce: boolean;
}

interface DecisionView {
  policy: string;
  event: string;
  fired: boolean;
  waiting: boolean;
  releaseId: string | null;
  reason: string | null;
  createdAt: string;
}

const what = (w: WaiverView) => `${w.testcase}${w.scenario !== undefined ? ` (scenario ${w.scenario})` : ""}`;

function artifactArgument(id: string): string {
  if (!ARTIFACT_ID_PATTERN.test(id)) throw new CliError(`"${id}" is not an artifact id`, exitCodes.usage);
  return id;
}

export function registerWaiveCommands(program: Command): void {
  clientVerb(program.command("waive"))
    .description("waive a failed or missing result of an artifact, so that policies gating on it may release it (releaser)")
    .argument("<artifact-id>", "the artifact")
    .requiredOption("--testcase <name>", "the testcase, e.g. fedora-ci.koji-build.tier0.functional")
    .requiredOption("--comment <text>", 'why; every decision it lets through says "waived by <you>: <comment>"')
    .option("--scenario <name>", "waive only this scenario's result (default: every scenario of the testcase)")
    .option("--revoke", "revoke an earlier waiver of the testcase (and scenario) instead")
    .addHelpText(
      "after",
      `
The policies run again at once; the decisions they reach are printed. A token scoped to some
environments makes a waiver that acts only on releases to those environments.

Example:
  relengd waive fedora-ci-1234 --testcase fedora-ci.koji-build.tier0.functional \\
    --comment "Testing Farm outage, see releng#1234"

Exit codes: 0 recorded, 1 refused (role, package scope, no such artifact), 2 usage error,
3 server error, 4 relengd unreachable. RELENGD_URL and RELENGD_TOKEN (role releaser) name the server and the token.`,
    )
    .action(async (idArg: string, o: { testcase: string; comment: string; scenario?: string; revoke?: boolean; output?: string }) => {
      const output = outputFormat(o.output);
      const id = artifactArgument(idArg);
      if (!TESTCASE_PATTERN.test(o.testcase)) throw new CliError(`--testcase must be a testcase name like fedora-ci.koji-build.tier0.functional, got "${o.testcase}"`, exitCodes.usage);
      if (o.comment.trim() === "") throw new CliError("--comment must say why", exitCodes.usage);
      const client = apiClient();
      const path = `/api/v1/artifacts/${encodeURIComponent(id)}`;
      const res = await client.request<WaiverView>("POST", `${path}/waivers`, {
        testcase: o.testcase,
        comment: o.comment,
        ...(o.scenario !== undefined ? { scenario: o.scenario } : {}),
        waived: o.revoke !== true,
      });
      const waiver = res.body;
      // The evaluation the waiver started has been recorded by the time the answer came.
      const decisions = (await client.request<{ items: DecisionView[] }>("GET", `${path}/decisions`)).body.items;
      const latest = [...new Map(decisions.map((d) => [d.policy, d])).values()].filter((d) => d.event === "waiver");
      if (output === "json") return printJson({ waiver, decisions: latest });
      const scope = waiver.environments !== undefined ? ` (acts on releases to ${waiver.environments.join(", ")} only)` : "";
      process.stdout.write(`${waiver.waived ? "waived" : "revoked the waiver of"} ${what(waiver)} on ${id} (waiver ${waiver.id})${scope}\n`);
      if (latest.length === 0) {
        process.stdout.write("no policy runs on results of this artifact\n");
        return;
      }
      printTable(
        ["POLICY", "DECISION"],
        latest.map((d) => [d.policy, decisionOutcome(d)]),
      );
    });

  clientVerb(program.command("waivers"))
    .description("list an artifact's waivers: made on it, and WaiverDB's waivers of its builds, oldest first")
    .argument("<artifact-id>", "the artifact")
    .addHelpText("after", `\nExit codes: 0 shown, 1 no such artifact, 2 usage error, 3 server error, 4 relengd unreachable.`)
    .action(async (idArg: string, o: { output?: string }) => {
      const output = outputFormat(o.output);
      const id = artifactArgument(idArg);
      const res = await apiClient().request<{ items: WaiverView[] }>("GET", `/api/v1/artifacts/${encodeURIComponent(id)}/waivers`);
      if (output === "json") return printJson(res.body);
      printTable(
        ["WAIVED AT", "TESTCASE", "BY", "STATE", "COMMENT"],
        res.body.items.map((w) => [w.waivedAt, what(w), `${w.username} (${w.source})`, w.waived ? (w.inForce ? "in force" : "superseded") : "revocation", w.comment]),
      );
      if (res.body.items.length === 0) process.stderr.write(`no waivers of ${id}\n`);
    });
}
