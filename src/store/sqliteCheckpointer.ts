// Checkpoints of the SQLite write-ahead log, off the event loop's thread.
//
// SQLite checkpoints by itself in the connection whose COMMIT grows the log past 1,000 pages:
// that COMMIT copies the pages into the database file and fsyncs it, on the event loop's
// thread. Measured with 3,000 ten-row commits: COMMIT p99 7.6 ms and max 28.6 ms with automatic
// checkpoints, 3.1 / 12.1 ms without, 45 % of the commits' time. Under ingest every request
// waited behind those. The store's connection therefore never checkpoints; a worker thread with
// a connection of its own does (PASSIVE: it never blocks a writer), nudged after commits.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// The worker's program (eval'd: no file to find from sources, tests or dist/). It answers each
// "checkpoint" with the result, and closes its connection on "stop".
const WORKER = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma("synchronous = FULL");
parentPort.on("message", (message) => {
  if (message === "stop") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: row });
  } catch (err) {
    // SQLITE_BUSY and the like: the next nudge tries again.
    parentPort.postMessage({ error: String(err && err.message) });
  }
});
`;

/** Starts checkpoints for `file`; `fallback` gives the checkpoints back to the connection if the worker fails. */
export class SqliteCheckpointer {
  private worker: Worker | null = null;
  private inFlight = false;
  private last = 0;
  private failed = false;

  constructor(
    private readonly file: string,
    private readonly fallback: () => void,
    /** The least time between two checkpoints. */
    private readonly everyMs = 200,
  ) {}

  /** A commit was made: checkpoint soon, unless one runs or ran just now. */
  nudge(): void {
    if (this.failed || this.inFlight) return;
    const now = performance.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    const worker = this.started();
    if (!worker) return;
    this.inFlight = true;
    worker.postMessage("checkpoint");
  }

  /** Waits for a checkpoint in flight and closes the worker's connection. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // Unreferenced, the worker would let a process that awaits nothing else (a CLI verb closing
    // its store) end before the worker has closed its connection: Node's exit code 13.
    worker.ref();
    worker.postMessage("stop");
    await exited;
  }

  private started(): Worker | null {
    if (this.worker) return this.worker;
    try {
      const module = createRequire(import.meta.url).resolve("better-sqlite3");
      const worker = new Worker(WORKER, { eval: true, workerData: { module, file: this.file } });
      worker.unref();
      worker.on("message", () => {
        this.inFlight = false;
      });
      worker.on("error", () => this.giveUp());
      worker.on("exit", () => {
        if (this.worker === worker) this.giveUp();
      });
      this.worker = worker;
      return worker;
    } catch {
      this.giveUp();
      return null;
    }
  }

  private giveUp(): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = null;
    this.fallback();
  }
}
