/** Delays that grow exponentially between retries, up to a cap, optionally spread at random. */
export interface BackoffOptions {
  /** The delay before the first retry (retry 0). */
  firstMs: number;
  /** No delay is longer (before jitter). */
  maxMs: number;
  /**
   * Spread each delay by up to this fraction either way (0.2: 80 %–120 %), so that many
   * clients that failed together do not retry together. 0 or absent: no spread.
   */
  jitter?: number;
  /** A number in [0, 1); Math.random unless a test fixes it. */
  random?: () => number;
}

/** Growth stops here: beyond it the cap decides anyway, and 2 ** n would overflow. */
const MAX_EXPONENT = 30;

/** The delay before the `retry`-th retry (0 the first), in whole milliseconds. */
export function backoff(options: BackoffOptions): (retry: number) => number {
  const { firstMs, maxMs, jitter = 0 } = options;
  const random = options.random ?? Math.random;
  return (retry) => {
    const base = Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, retry), MAX_EXPONENT));
    return Math.round(jitter > 0 ? base * (1 - jitter + 2 * jitter * random()) : base);
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
