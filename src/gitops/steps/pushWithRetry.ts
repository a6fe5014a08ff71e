// Step: a write whose push the remote rejected (the branch moved) is made again on the fresh
// head, a few times, after a short spread-out wait; any other failure is the caller's.
import { sleep } from "../../concurrency/index.js";
import { PushRejected } from "../workspace.js";

export interface PushRetryOptions {
  /** Rejected pushes tried again; one more rejection is thrown. */
  retries: number;
  /** The wait before the n-th retry (0 the first); none when 0. */
  delayMs: (retry: number) => number;
  /** Told of each rejection that is retried, before the wait. */
  rejected?: (retry: number) => void;
  /** Brings the local view of the remote up to date, after the wait. */
  refresh?: () => Promise<unknown>;
  wait?: (ms: number) => Promise<void>;
}

/** Runs `write(attempt)` (attempt 0 first) until it does not end in PushRejected, or the retries run out. */
export async function pushWithRetry<T>(write: (attempt: number) => Promise<T>, options: PushRetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write(attempt);
    } catch (err) {
      if (!(err instanceof PushRejected) || attempt >= options.retries) throw err;
      options.rejected?.(attempt);
      const ms = options.delayMs(attempt);
      if (ms > 0) await (options.wait ?? sleep)(ms);
      await options.refresh?.();
    }
  }
}
