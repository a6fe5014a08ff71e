// Worker-thread entry of bench/release-latency.ts: the client. It posts one release at a time over
// HTTP (keep-alive, 127.0.0.1), polls GET /api/v1/releases/:id until the release is `pushed`, and
// meanwhile polls the remote's ref file, so that neither view's polling runs on the server's
// event loop.
import { readFileSync } from "node:fs";
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

export interface ClientSpec {
  /** Base URL; only 127.0.0.1. */
  url: string;
  token: string;
  environment: string;
  /** The bare remote's ref file of the written branch. */
  remoteRef: string;
  /** Wait between one GET's answer and the next GET. */
  pollMs: number;
}

/** One release as the client and the remote saw it; times are epoch ms (performance.timeOrigin + now). */
export interface ClientSample {
  id: string;
  startedAt: number;
  /** POST sent → its 202 received. */
  postMs: number;
  /** POST sent → a GET answered `pushed`. */
  clientMs: number;
  /** POST sent → the remote's ref file names a new commit. */
  remoteMs: number;
  /** GETs sent until one answered `pushed`. */
  polls: number;
  /** Sum of the GETs' round trips. */
  pollRoundTripMs: number;
}

const spec = workerData as ClientSpec;
if (new URL(spec.url).hostname !== "127.0.0.1") throw new Error(`benchmarks only send traffic to 127.0.0.1, not ${spec.url}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const epoch = () => performance.timeOrigin + performance.now();
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

function request(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, spec.url),
      {
        method,
        agent,
        headers: { authorization: `Bearer ${spec.token}`, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function remoteHead(): string | null {
  try {
    return readFileSync(spec.remoteRef, "utf8").trim();
  } catch {
    return null;
  }
}

async function release(artifactId: string): Promise<ClientSample> {
  const before = remoteHead();
  const t0 = performance.now();
  let remoteAt = 0;
  // The remote's view, every millisecond, beside the client's polls (cheap: one small file read).
  const watch = setInterval(() => {
    if (!remoteAt && remoteHead() !== before) remoteAt = performance.now();
  }, 1);
  try {
    const posted = await request("POST", "/api/v1/releases", { artifactId, environment: spec.environment });
    const postMs = performance.now() - t0;
    if (posted.status !== 202) throw new Error(`release ${artifactId}: ${posted.status} ${posted.body}`);
    const { id } = JSON.parse(posted.body) as { id: string };
    let polls = 0;
    let pollRoundTripMs = 0;
    for (;;) {
      const sent = performance.now();
      const res = await request("GET", `/api/v1/releases/${id}`);
      pollRoundTripMs += performance.now() - sent;
      polls += 1;
      if (res.status !== 200) throw new Error(`GET release ${id}: ${res.status} ${res.body}`);
      const status = (JSON.parse(res.body) as { status: string }).status;
      if (status === "pushed") break;
      if (status !== "queued" && status !== "committed") throw new Error(`release ${id} became ${status}: ${res.body}`);
      if (performance.now() - t0 > 10_000) throw new Error(`release ${id} not pushed after 10 s`);
      await sleep(spec.pollMs);
    }
    const clientMs = performance.now() - t0;
    // Pushed before the ref was seen: the remote's view finishes on its own poll.
    while (!remoteAt) {
      if (remoteHead() !== before) remoteAt = performance.now();
      else if (performance.now() - t0 > 10_000) throw new Error(`release ${id} pushed but not in the remote after 10 s`);
      else await sleep(1);
    }
    return { id, startedAt: performance.timeOrigin + t0, postMs, clientMs, remoteMs: remoteAt - t0, polls, pollRoundTripMs };
  } finally {
    clearInterval(watch);
  }
}

parentPort?.on("message", (msg: { artifactId: string } | { stop: true }) => {
  if ("stop" in msg) {
    agent.destroy();
    parentPort?.close();
    return;
  }
  release(msg.artifactId).then(
    (sample) => parentPort?.postMessage({ ok: true, sample }),
    (err: unknown) => parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
parentPort?.postMessage({ ready: true, at: epoch() });
