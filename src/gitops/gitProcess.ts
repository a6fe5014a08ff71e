// Git commands run by a small helper process instead of by the server itself.
//
// Starting a child process forks the parent, and a fork copies its page tables: from a server
// of 370 MB, `spawn()` held the event loop 20 ms at the median (Node 20 and 24 alike, against
// 1-2 ms from a 50 MB process), and a writer batch starts five git commands. Every HTTP request
// waited behind those forks: they were the ingest path's tail latency while the writer ran. The
// helper is a bare Node.js process (no application code, ~40 MB) that forks git on the server's
// behalf; the server only writes a request to a pipe and reads the answer.
import { spawn, type ChildProcess } from "node:child_process";

export interface GitProcessRequest {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Written to the command's standard input, which is then closed. */
  input?: Buffer;
}

export interface GitProcessResult {
  /** Null when a signal ended the command. */
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

// The helper's whole program, run with `node -e`: plain JavaScript with no imports of ours, so
// it starts the same from sources (tsx, vitest) and from dist/. Frames both ways are an 8-byte
// header (JSON length, payload length, big-endian) + JSON + payload (stdin in, stdout out).
const HELPER = String.raw`
"use strict";
const { spawn } = require("node:child_process");
// Chunks are joined only once a whole frame is in: a frame of megabytes arrives in many pieces.
let chunks = [], have = 0, frameLength = 0;
function reply(header, payload) {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(json.length, 0);
  head.writeUInt32BE(payload.length, 4);
  process.stdout.write(Buffer.concat([head, json, payload]));
}
function run(req, input) {
  let child;
  try {
    child = spawn("git", req.args, { cwd: req.cwd, env: req.env, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    reply({ id: req.id, error: String(e && e.message) }, Buffer.alloc(0));
    return;
  }
  const out = [], err = [];
  let done = false;
  child.stdout.on("data", (d) => out.push(d));
  child.stderr.on("data", (d) => err.push(d));
  child.on("error", (e) => {
    if (done) return;
    done = true;
    reply({ id: req.id, error: String(e && e.message) }, Buffer.alloc(0));
  });
  child.on("close", (code, signal) => {
    if (done) return;
    done = true;
    reply({ id: req.id, code, signal, stderr: Buffer.concat(err).toString("utf8") }, Buffer.concat(out));
  });
  child.stdin.on("error", () => {});
  child.stdin.end(input);
}
process.stdin.on("data", (d) => {
  chunks.push(d);
  have += d.length;
  for (;;) {
    if (have < 8) return;
    if (frameLength === 0) {
      const head = chunks[0].length >= 8 ? chunks[0] : Buffer.concat(chunks, have);
      frameLength = 8 + head.readUInt32BE(0) + head.readUInt32BE(4);
    }
    if (have < frameLength) return;
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
    const jsonLength = all.readUInt32BE(0);
    const req = JSON.parse(all.subarray(8, 8 + jsonLength).toString("utf8"));
    const input = Buffer.from(all.subarray(8 + jsonLength, frameLength));
    chunks = all.length > frameLength ? [all.subarray(frameLength)] : [];
    have = all.length - frameLength;
    frameLength = 0;
    run(req, input);
  }
});
// The server is gone: commands already running finish on their own, as they would have.
process.stdin.on("end", () => process.exit(0));
`;

interface Pending {
  resolve: (result: GitProcessResult) => void;
  reject: (err: Error) => void;
}

/** The helper process and the commands it runs for this process; started on first use, again after it exits. */
class GitProcessHelper {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private chunks: Buffer[] = [];
  private have = 0;
  /** The length of the frame being received, once its header is in (0: not yet). */
  private frameLength = 0;

  run(request: GitProcessRequest): Promise<GitProcessResult> {
    const child = this.started();
    const id = this.nextId++;
    const input = request.input ?? Buffer.alloc(0);
    const json = Buffer.from(JSON.stringify({ id, args: request.args, cwd: request.cwd, env: request.env }));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(json.length, 0);
    head.writeUInt32BE(input.length, 4);
    return new Promise<GitProcessResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.hold(true);
      child.stdin?.write(Buffer.concat([head, json, input]));
    });
  }

  private started(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(process.execPath, ["-e", HELPER], { stdio: ["pipe", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "" } });
    this.child = child;
    this.chunks = [];
    this.have = 0;
    this.frameLength = 0;
    child.stdout?.on("data", (d: Buffer) => this.received(d));
    // A write to a helper that has just exited: its exit fails what was in flight.
    child.stdin?.on("error", () => undefined);
    child.on("error", (err) => this.gone(child, `the git helper process failed: ${err.message}`));
    child.on("exit", (code, signal) => this.gone(child, `the git helper process exited (${signal ?? `code ${code}`})`));
    this.hold(false);
    return child;
  }

  /** Keeps this process alive while commands run; lets it exit when none does. */
  private hold(busy: boolean): void {
    const child = this.child;
    if (!child) return;
    const streams = [child.stdin, child.stdout] as unknown as ({ ref?: () => void; unref?: () => void } | null)[];
    if (busy) {
      child.ref();
      for (const s of streams) s?.ref?.();
    } else {
      child.unref();
      for (const s of streams) s?.unref?.();
    }
  }

  private gone(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = null;
    const failed = [...this.pending.values()];
    this.pending.clear();
    for (const p of failed) p.reject(new Error(why));
  }

  private received(data: Buffer): void {
    this.chunks.push(data);
    this.have += data.length;
    for (;;) {
      if (this.have < 8) return;
      if (this.frameLength === 0) {
        const head = (this.chunks[0] as Buffer).length >= 8 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.have);
        this.frameLength = 8 + head.readUInt32BE(0) + head.readUInt32BE(4);
      }
      // Joined only once the whole frame is in: an answer of megabytes comes in many pieces.
      if (this.have < this.frameLength) return;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.have);
      const end = this.frameLength;
      const jsonLength = all.readUInt32BE(0);
      const header = JSON.parse(all.subarray(8, 8 + jsonLength).toString("utf8")) as { id: number; code?: number | null; signal?: string | null; stderr?: string; error?: string };
      const stdout = Buffer.from(all.subarray(8 + jsonLength, end));
      this.chunks = all.length > end ? [all.subarray(end)] : [];
      this.have = all.length - end;
      this.frameLength = 0;
      const p = this.pending.get(header.id);
      if (!p) continue;
      this.pending.delete(header.id);
      if (this.pending.size === 0) this.hold(false);
      if (header.error !== undefined) p.reject(new Error(`cannot run git: ${header.error}`));
      else p.resolve({ code: header.code ?? null, signal: header.signal ?? null, stdout, stderr: header.stderr ?? "" });
    }
  }
}

const helper = new GitProcessHelper();

/** Runs git with `args` in `cwd` through the helper process; resolves whatever its exit code. */
export function runGitProcess(request: GitProcessRequest): Promise<GitProcessResult> {
  return helper.run(request);
}
