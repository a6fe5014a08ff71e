// Group commit: requests that arrive while a transaction is being written wait and go into the
// next one together, so N concurrent writers pay for one commit (one fsync) instead of N.

export class GroupCommit<In, Out> {
  private pending: { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  /** Batches being written now. */
  private writing = 0;

  /**
   * @param write       commits a whole batch in one transaction and returns one result per item,
   *                    in order. If it throws, each item is retried alone, so that one bad item
   *                    (or a race lost to another replica) does not fail its neighbours.
   * @param concurrent  batches written at once. On SQLite (one writer) a second batch overlaps the first's log
   *                    sync (see pushArtifact.ts). On PostgreSQL a
   *                    transaction is a string of round trips during which the server mostly
   *                    waits; a second batch on another connection starts meanwhile instead of
   *                    waiting for the first one's commit (each batch still shares one commit).
   * @param extraAfter  items that must be waiting before a batch beside a running one starts:
   *                    each transaction costs its round trips and a commit, so a few pushes wait
   *                    to share the next one rather than each opening its own.
   */
  constructor(
    private readonly write: (batch: In[]) => Promise<Out[]>,
    private readonly maxBatch = 256,
    private readonly concurrent = 1,
    private readonly extraAfter = 1,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.writing === 0 || (this.writing < this.concurrent && this.pending.length >= this.extraAfter)) void this.drain();
    });
  }

  /** Resolves once everything submitted so far has been written. */
  async idle(): Promise<void> {
    while (this.writing > 0 || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.writing += 1;
    try {
      while (this.pending.length > 0) {
        // Let the requests whose bytes already arrived reach submit() first: the SQLite driver
        // is synchronous, so without this yield each request would commit alone.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.pending.splice(0, this.maxBatch);
        if (batch.length === 0) break;
        try {
          const outs = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(outs[i] as Out));
        } catch {
          for (const b of batch) {
            try {
              const [out] = await this.write([b.item]);
              b.resolve(out as Out);
            } catch (err) {
              b.reject(err);
            }
          }
        }
      }
    } finally {
      this.writing -= 1;
    }
  }
}
