// Durability of SQLite commits made without an inline fsync.
//
// With synchronous=FULL every COMMIT fsyncs the write-ahead log on the event loop's thread:
// 2-3 ms each while git writes packs beside it, most of the ingest path's time during a mass
// rebuild. The store's hot transactions commit with synchronous=NORMAL instead (SQLite then
// writes the log but does not sync it) and are answered only after an fdatasync of the log on
// libuv's thread pool: that makes them as durable as FULL would, without blocking, and one sync
// covers every commit written before it started.
import { open } from "node:fs/promises";

export class WalSync {
  private inFlight: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  /** @param sync flushes the log file to stable storage (fdatasync). */
  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once a sync that started after this call has finished. */
  afterCommit(): Promise<void> {
    if (this.next) return this.next;
    const next = (async () => {
      // Yields at least once, so that every commit made until then joins this sync; a sync
      // already running may have started before their log frames were written.
      await (this.inFlight ?? Promise.resolve()).catch(() => undefined);
      this.next = null;
      const running = this.sync();
      this.inFlight = running;
      try {
        await running;
      } finally {
        if (this.inFlight === running) this.inFlight = null;
      }
    })();
    this.next = next;
    return next;
  }
}

/**
 * fdatasync of a file, opened anew each time: SQLite may truncate or recreate its log. No log
 * file means nothing was written to one since the database was last checkpointed and closed.
 */
export function fileSync(file: string): () => Promise<void> {
  return async () => {
    let handle;
    try {
      handle = await open(file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  };
}
