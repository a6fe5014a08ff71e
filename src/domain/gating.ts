// Greenwave's gating rule: which result of a testcase decides, and which waivers stand. Pure.
import type { CiResultItem } from "./artifact.js";
import { matchesGlob, matchesGlobs } from "./glob.js";

/** A result and when relengd received its current outcome (absent in dry runs: its position in the list tells). */
export type ReceivedResult = CiResultItem & { receivedAt?: Date };

/** A waiver of a failed or missing result (WaiverDB's, or one made through relengd's API). */
export interface Waiver {
  testcase: string;
  /** Absent: every scenario of the testcase. */
  scenario?: string;
  /** false revokes an earlier waiver of the same (testcase, scenario). */
  waived: boolean;
  comment: string;
  /** Who waived. */
  username: string;
  /** When it was made by its own account (a message's sent-at), else when relengd received it. */
  waivedAt: Date;
  /**
   * Globs of the environments whose releases it acts on: the environment scope of the token that
   * made it, which may release only there. Absent: every environment.
   */
  environments?: readonly string[];
}

/** Whether the waiver acts on a policy's decision to release to `environment`. */
export function waiverActsOn(w: Pick<Waiver, "environments">, environment: string): boolean {
  return w.environments === undefined || matchesGlobs(environment, w.environments);
}

/** The results one testcase keeps apart: Greenwave decides per (testcase, scenario). */
export function gatingKey(r: { testcase: string; scenario?: string | undefined }): string {
  return `${r.testcase}\u0000${r.scenario ?? ""}`;
}

/** The result's time: its own (submittedAt) where it tells one, else when relengd received it. */
export function resultTime(r: ReceivedResult): number | undefined {
  if (r.submittedAt !== undefined) {
    const t = Date.parse(r.submittedAt);
    if (!Number.isNaN(t)) return t;
  }
  return r.receivedAt?.getTime();
}

/**
 * Whether `next`, which arrived after `current`, takes its place: yes, unless both tell their
 * time and next's is earlier (a late or redelivered older message). Equal times go to the later
 * arrival.
 */
export function replaces(next: ReceivedResult, current: ReceivedResult): boolean {
  const a = resultTime(next);
  const b = resultTime(current);
  return a === undefined || b === undefined || a >= b;
}

/**
 * The deciding result of each (testcase, scenario): the latest by its own time, else by arrival.
 * Arrival order is the artifact's own items first (in the order listed, received with the
 * artifact at `ownReceivedAt`), then the appended results by when relengd received them.
 */
export function latestResults(own: readonly CiResultItem[], ownReceivedAt: Date | undefined, appended: readonly ReceivedResult[]): ReceivedResult[] {
  const arrived: ReceivedResult[] = own.map((r) => (ownReceivedAt ? { ...r, receivedAt: ownReceivedAt } : r));
  // The store lists results by when they were first added; one updated since arrived again then.
  const timed = appended.every((r) => r.receivedAt !== undefined);
  const ordered = timed ? [...appended].sort((a, b) => (a.receivedAt as Date).getTime() - (b.receivedAt as Date).getTime()) : appended;
  arrived.push(...ordered);
  const latest = new Map<string, ReceivedResult>();
  for (const r of arrived) {
    const key = gatingKey(r);
    const current = latest.get(key);
    if (!current || replaces(r, current)) latest.set(key, r);
  }
  return [...latest.values()];
}

/** The waivers in force: per (testcase, scenario) the latest by its time (ties: the later arrival), unless it revokes. */
export function standingWaivers(waivers: readonly Waiver[]): Waiver[] {
  const latest = new Map<string, Waiver>();
  for (const w of waivers) {
    const key = gatingKey(w);
    const current = latest.get(key);
    if (!current || w.waivedAt.getTime() >= current.waivedAt.getTime()) latest.set(key, w);
  }
  return [...latest.values()].filter((w) => w.waived);
}

/** The standing waiver covering a result of (testcase, scenario): one naming the scenario, else one for every scenario. */
export function waiverOf(standing: readonly Waiver[], testcase: string, scenario: string | undefined): Waiver | undefined {
  return (
    (scenario !== undefined ? standing.find((w) => w.testcase === testcase && w.scenario === scenario) : undefined) ??
    standing.find((w) => w.testcase === testcase && w.scenario === undefined)
  );
}

/** A standing waiver of a testcase the glob names (a required testcase with no result at all). */
export function waiverMatching(standing: readonly Waiver[], testcaseGlob: string): Waiver | undefined {
  return standing.find((w) => matchesGlob(w.testcase, testcaseGlob));
}

export function describeWaiver(w: Pick<Waiver, "username" | "comment">): string {
  return `waived by ${w.username}: ${w.comment}`;
}

/** How a result is named in a decision's reason: the testcase, and its scenario when it has one. */
export function describeTestcase(r: { testcase: string; scenario?: string | undefined }): string {
  return r.scenario !== undefined ? `${r.testcase} (scenario ${r.scenario})` : r.testcase;
}
