// Use case: a report policy's scheduled run: check its repositories afresh, keep the report, and
// mail what changed since the last mailed report of its tree (never the same news twice).
import { diffBrokenDeps, type BrokenDepsDiff } from "../domain/brokenDeps.js";
import { brokenDepsMessages, hasNews, type MailMessage } from "../domain/brokenDepsMail.js";
import { reportTarget, type ReportPolicy } from "../domain/policy.js";
import { brokenDepsReportUrl } from "../domain/reportLinks.js";
import type { BrokenDepsReportRecord, BrokenDepsReportRepository } from "../store/brokenDepsReportRepository.js";
import type { RepoclosureCheckInput } from "./checkRepoclosure.js";

export interface ReportMailConfig {
  from: string;
  /** The summary's list; absent: no summary. */
  list?: string;
  /** `{package}-owner@fedoraproject.org` (owners.ts DEFAULT_OWNER_ADDRESS). */
  ownerAddressTemplate: string;
}

export interface ProduceBrokenDepsReportDeps {
  /** RepoclosureChecks.check. */
  check: (input: RepoclosureCheckInput, options: { fresh?: boolean }) => Promise<BrokenDepsReportRecord>;
  reports: Pick<BrokenDepsReportRepository, "previous" | "claimMailing" | "releaseMailing">;
  mailer: { send(messages: readonly MailMessage[]): Promise<void> };
  publicUrl?: string;
  mailConfig: ReportMailConfig;
  now?: () => Date;
  /** Told how many messages went, or that they could not. */
  onMailed?: (outcome: "sent" | "failed", messages: number) => void;
}

export interface BrokenDepsRun {
  report: BrokenDepsReportRecord;
  /** Against the previous mailed report of the tree; absent when the check could not run. */
  news?: BrokenDepsDiff;
  mailed: number;
  /** Why the mail did not go (it goes with the next report's news then). */
  mailError?: string;
}

export async function produceBrokenDepsReport(deps: ProduceBrokenDepsReportDeps, policy: ReportPolicy): Promise<BrokenDepsRun> {
  const { tree, target } = reportTarget(policy);
  // A schedule asks for today's state: a gate's result from minutes ago is not reused.
  const record = await deps.check({ tree, origin: `policy/${policy.metadata.name}`, target }, { fresh: true });
  if (!record.report) return { report: record, mailed: 0 };
  // The baseline is what was last told, not the last report: a report in between (the gate's) was never mailed.
  const baseline = await deps.reports.previous(record, { mailed: true });
  const news = diffBrokenDeps(baseline?.report ?? undefined, record.report);
  const now = deps.now ?? (() => new Date());
  // Claimed before sending: a second run of the same report (another replica) finds it taken.
  if (!(await deps.reports.claimMailing(record.id, now()))) return { report: record, news, mailed: 0 };
  if (!hasNews(news)) return { report: record, news, mailed: 0 };
  const messages = brokenDepsMessages({
    report: record.report,
    diff: news,
    reportUrl: brokenDepsReportUrl(deps.publicUrl, record.id),
    from: deps.mailConfig.from,
    ownerAddressTemplate: deps.mailConfig.ownerAddressTemplate,
    ...(deps.mailConfig.list ? { list: deps.mailConfig.list } : {}),
  });
  try {
    await deps.mailer.send(messages);
  } catch (err) {
    // Given back: the next report diffs against the last report whose mail went, so this news is told then.
    await deps.reports.releaseMailing(record.id);
    deps.onMailed?.("failed", messages.length);
    return { report: record, news, mailed: 0, mailError: (err as Error).message };
  }
  deps.onMailed?.("sent", messages.length);
  return { report: record, news, mailed: messages.length };
}

/** One line for the schedule run's record and the log. */
export function describeBrokenDepsRun(run: BrokenDepsRun): string {
  const r = run.report;
  if (r.status === "error") return `report ${r.id}: the check could not run: ${r.error ?? "unknown error"}`;
  const state = r.status === "ok" ? "no broken dependencies" : `${r.dependencies} unresolved in ${r.packages} packages from ${r.sources} sources`;
  const news = run.news ? `; ${run.news.newlyBroken.length} newly broken, ${run.news.fixed.length} fixed` : "";
  const mail = run.mailError ? `; mail failed (${run.mailError}), told with the next report` : `; ${run.mailed} messages`;
  return `report ${r.id}: ${state}${news}${mail}`;
}
