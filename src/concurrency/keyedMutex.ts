/**
 * Mutual exclusion per key: callers of the same key run one at a time, in the order they asked
 * (FIFO); callers of different keys do not wait for each other. Not re-entrant: a holder that
 * asks for its own key again waits for itself forever.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // The last holder forgets the key: the map holds only keys someone holds or waits for.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Whether anyone holds or waits for `key`. */
  held(key: string): boolean {
    return this.tails.has(key);
  }
}
