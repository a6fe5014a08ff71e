/**
 * A single-flight drain loop: work that empties a queue, run by whoever is told there is more.
 * At most one pass runs at a time; a wake while a pass runs asks for exactly one more pass
 * after it (what was added meanwhile may have been missed), however many wakes came.
 */
export interface DrainOptions {
  /** Told when a pass throws; the loop then ends, and the next wake starts it again. */
  onError: (err: unknown) => void;
}

/**
 * One pass of the loop. Returning false says the work cannot go on now (no lease, no
 * connection): the loop ends without the pass a wake asked for, until the next wake.
 */
export type DrainPass = () => Promise<boolean | void>;

export class Drain {
  private running: Promise<void> | null = null;
  private again = false;
  private halted = false;

  constructor(
    private readonly pass: DrainPass,
    private readonly options: DrainOptions,
  ) {}

  /** Whether a pass runs or is about to. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Whether stop() was called: a pass checks this between its steps to end early. */
  get stopped(): boolean {
    return this.halted;
  }

  /** There is (or may be) work: run a pass now, or once more after the running one. */
  wake(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Started a microtask later, once `running` is set: a wake from the pass's first
    // synchronous steps must find it running, not start a second loop.
    this.running = Promise.resolve()
      .then(() => this.loop())
      .catch((err: unknown) => this.options.onError(err))
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves when no pass runs (a wake from the last pass's own caller included). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No pass starts from now on; resolves when the running one has ended. */
  async stop(): Promise<void> {
    this.halted = true;
    await this.settled();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.halted || (await this.pass()) === false) return;
    } while (this.again && !this.halted);
  }
}
