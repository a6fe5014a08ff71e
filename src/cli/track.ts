// Following one release through its lifecycle ((checking →) queued → committed → pushed, or failed, blocked,
// superseded): one line per state change, and the exit code its final state means.
import { isFinalStatus, RELEASE_STATUS, type ReleaseStatus } from "../domain/release.js";
import { parseDuration } from "../domain/token.js";
import { CliError, exitCodes, type ApiClient } from "./client.js";
import { printJson, type OutputFormat } from "./output.js";

/** A release as GET /api/v1/releases/{id} answers it. */
export interface ReleaseView {
  id: string;
  artifactId: string;
  environment: string;
  package: string;
  trigger: string;
  createdBy: string;
  force: boolean;
  forceReason: string | null;
  status: ReleaseStatus;
  reason: string | null;
  supersededBy: string | null;
  error: string | null;
  attempts: number;
  nextAttemptAt: string | null;
  commitSha: string | null;
  createdAt: string;
  updatedAt: string;
  pushedAt: string | null;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Checks a release, hold or request id before it is put in a URL. */
export function ulidArgument(what: "release" | "hold" | "request", id: string): string {
  if (!ULID.test(id)) throw new CliError(`"${id}" is not a ${what} id (26 characters, like 01JZ3F6Q2W8M4T9V5X7Y1B3C5D)`, exitCodes.usage);
  return id;
}

export const DEFAULT_WAIT = "120s";

/** --timeout in seconds; only meaningful with --wait. */
export function waitTimeoutSeconds(wait: boolean | undefined, timeout: string | undefined): number {
  if (timeout !== undefined && !wait) throw new CliError("--timeout goes with --wait", exitCodes.usage);
  const text = timeout ?? DEFAULT_WAIT;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new CliError(`--timeout "${text}" is not a duration like 120s or 10m`, exitCodes.usage);
  return seconds;
}

const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);
const shortSha = (sha: string | null) => (sha ? sha.slice(0, 7) : "(no commit)");
// A git error can span lines; a state is one line.
const oneLine = (text: string | null, fallback: string) => (text ?? fallback).replace(/\s*\n\s*/g, " ").trim();

/** The line for the state a release is in, stamped with when it got there (local time). */
export function releaseStateLine(r: ReleaseView): string {
  const at = clock(r.updatedAt);
  switch (r.status) {
    case RELEASE_STATUS.checking:
      return `${at} checking: repoclosure runs before it is queued`;
    case RELEASE_STATUS.queued:
      if (r.attempts === 0 || !r.error) return `${at} queued`;
      return `${at} queued, attempt ${r.attempts} failed: ${oneLine(r.error, "")}${r.nextAttemptAt ? `; next attempt at ${clock(r.nextAttemptAt)}` : ""}`;
    case RELEASE_STATUS.committed:
      return `${at} committed ${shortSha(r.commitSha)}`;
    case RELEASE_STATUS.pushed:
      return `${at} pushed ${shortSha(r.commitSha)}`;
    case RELEASE_STATUS.blocked:
      return `${at} blocked: ${oneLine(r.reason, "no reason recorded")}`;
    case RELEASE_STATUS.superseded:
      return `${at} superseded by release ${r.supersededBy ?? "(unknown)"}`;
    case RELEASE_STATUS.failed:
      return `${at} failed after ${r.attempts} attempt${r.attempts === 1 ? "" : "s"}: ${oneLine(r.error, "no error recorded")}`;
  }
}

export interface TrackOptions {
  /** Follow the release until a final state; otherwise print its state once. */
  wait: boolean;
  timeoutSeconds: number;
  pollMs?: number;
  /**
   * json: no state lines; `report` (by default: print it as JSON) gets the release as it last
   * was, once, when tracking ends, however it ends.
   */
  output?: OutputFormat;
  report?: (release: ReleaseView) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Prints the release's state, and with `wait` each change until it is final. Resolves when it
 * is pushed, or still on its way without `wait`; throws CliError `rejected` when it ended failed,
 * blocked or superseded, `timeout` when --wait ran out first.
 */
export async function trackRelease(client: ApiClient, id: string, options: TrackOptions): Promise<void> {
  const pollMs = options.pollMs ?? 250;
  const json = options.output === "json";
  // In JSON, stdout carries one document whatever the outcome; the exit code and stderr say the rest.
  const finish = () => {
    if (json && last) (options.report ?? printJson)(last);
  };
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let lastKey: string | undefined;
  let last: ReleaseView | undefined;
  let outage: CliError | undefined;
  for (;;) {
    try {
      last = (await client.request<ReleaseView>("GET", `/api/v1/releases/${id}`)).body;
      outage = undefined;
    } catch (err) {
      // While waiting, a server restart or a network blip is waited out; a 4xx is an answer.
      const transient = err instanceof CliError && (err.exitCode === exitCodes.unreachable || err.exitCode === exitCodes.serverError);
      if (!options.wait || !transient) throw err;
      if (!outage) process.stderr.write(`relengd: ${err.message}; still waiting\n`);
      outage = err;
    }
    if (last && !outage) {
      // Attempts count too: a retry after a failed push is news to the person waiting.
      const key = `${last.status}|${last.commitSha ?? ""}|${last.attempts}`;
      if (key !== lastKey) {
        if (!json) process.stdout.write(releaseStateLine(last) + "\n");
        lastKey = key;
      }
      if (isFinalStatus(last.status)) {
        finish();
        if (last.status === RELEASE_STATUS.pushed) return;
        throw new CliError(`release ${id} was not pushed: it is ${last.status}`, exitCodes.rejected);
      }
      if (!options.wait) return finish();
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      finish();
      const state = last ? `it is still ${last.status}` : "its state is unknown";
      const why = outage ? ` (last error: ${outage.message.split("\n")[0]})` : "";
      throw new CliError(`gave up waiting for release ${id} after ${options.timeoutSeconds}s: ${state}${why}; \`relengd release track ${id} --wait\` follows it further`, exitCodes.timeout);
    }
    await sleep(Math.min(pollMs, left));
  }
}
