// Use case: a scheduled policy's run for one slot: look at the artifacts it selects (or emit a
// compose request) and release what qualifies, leaving a decision for each.
import { renderArtifact, type Artifact } from "../domain/artifact.js";
import { isReportPolicy, type AnyPolicy, type Policy } from "../domain/policy.js";
import { SCHEDULE_SLOT_CONTEXT_KEY } from "../domain/release.js";
import { evaluatePolicies, type EvaluateDeps } from "./evaluatePolicies.js";
import { storeArtifacts } from "./pushArtifact.js";
import { describeBrokenDepsRun, produceBrokenDepsReport, type ProduceBrokenDepsReportDeps } from "./produceBrokenDepsReport.js";

export interface ScheduleSummary {
  candidates: number;
  fired: number;
  skipped: number;
}

export function describeSummary(s: ScheduleSummary): string {
  return `${s.candidates} candidates, ${s.fired} fired, ${s.skipped} skipped`;
}

/**
 * A scheduled policy's run, whichever its target: releases (runSchedule) or the broken-dependency
 * report (absent `report`: the server runs no checks, and says so in the run's record).
 */
export async function runScheduledPolicy(deps: { evaluate: EvaluateDeps; report?: ProduceBrokenDepsReportDeps }, policy: AnyPolicy, slot: Date): Promise<string> {
  if (!isReportPolicy(policy)) return describeSummary(await runSchedule(deps.evaluate, policy, slot));
  if (!deps.report) throw new Error(`policy ${policy.metadata.name} makes a report, and this server runs no repoclosure checks`);
  return describeBrokenDepsRun(await produceBrokenDepsReport(deps.report, policy));
}

export async function runSchedule(deps: EvaluateDeps, policy: AnyPolicy, slot: Date): Promise<ScheduleSummary> {
  if (isReportPolicy(policy)) throw new Error(`policy ${policy.metadata.name} makes a report, not releases (runScheduledPolicy runs it)`);
  const set = deps.policies();
  const target = set.environments.environments.get(policy.spec.release.environment);
  const select = policy.spec.select;
  let candidates: string[];
  if (select) {
    candidates = await deps.releases.artifactsPushedTo(select.pushedTo, select.limit);
  } else if (target?.kind === "ComposeRequest") {
    candidates = [await composeArtifact(deps, policy, target.compose.release, slot)];
  } else {
    candidates = [];
  }
  let fired = 0;
  let skipped = 0;
  for (const artifactId of candidates) {
    const decisions = await evaluatePolicies(deps, artifactId, "schedule", policy.metadata.name);
    for (const d of decisions) {
      if (d.fired) fired++;
      else skipped++;
    }
  }
  return { candidates: candidates.length, fired, skipped };
}

/**
 * A scheduled compose has no CI artifact behind it: the run records one of its own (one per
 * slot, so a re-run of the slot finds it), which the release and its document point at.
 */
async function composeArtifact(deps: EvaluateDeps, policy: Policy, release: string, slot: Date): Promise<string> {
  const stamp = slot.toISOString().replace(/[-:]/g, "").slice(0, 13);
  const artifact: Artifact = {
    id: `schedule-${policy.metadata.name}-${stamp}Z`,
    package: "compose",
    release,
    source: { repo: `relengd:policy/${policy.metadata.name}`, sha: "0000000", event: "build", message: `scheduled ${policy.spec.schedule?.cron ?? ""} (${policy.spec.schedule?.timezone ?? "UTC"})` },
    items: [],
    context: { [SCHEDULE_SLOT_CONTEXT_KEY]: slot.toISOString() },
  };
  // Stored as a push is: the policies on new artifacts decide about it too.
  const [outcome] = await storeArtifacts(deps, [artifact]);
  if (!outcome) throw new Error(`artifact ${artifact.id} was not stored`);
  if (outcome.status === "conflict") throw new Error(`artifact ${artifact.id} exists with another body: ${renderArtifact(artifact).slice(0, 80)}…`);
  return artifact.id;
}
