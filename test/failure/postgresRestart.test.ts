// PostgreSQL restarted under a running server during ingest: 503 problem+json while it is down,
// recovery without restarting relengd, and no artifact acknowledged with 201 missing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../src/auth/tokens.js";
import { sampleArtifact } from "../support/artifacts.js";
import { cleanEnv, freePort, startServerProcess, type ServerProcess } from "../support/serverProcess.js";
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from "./privatePostgres.js";

const SECRET = "failure-test-secret-that-is-long-enough-0123456789";
/** No request may take longer than this, up or down: a hang is a failure. */
const REQUEST_BOUND_MS = 10_000;

type Phase = "up" | "stopping" | "down" | "starting" | "recovered";

interface Attempt {
  id: string;
  sentIn: Phase;
  answeredIn: Phase;
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: unknown;
  ms: number;
}

const unavailable = privatePostgresUnavailable();
if (unavailable) console.warn(`PostgreSQL restart failure test: SKIPPED (${unavailable})`);

describe.skipIf(unavailable !== undefined)("PostgreSQL restarted during ingest", () => {
  let postgres: PrivatePostgres;
  let server: ServerProcess;
  let dataDir: string;
  let authorization: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    dataDir = mkdtempSync(path.join(tmpdir(), "relengd-pgrestart-"));
    server = await startServerProcess({
      ...cleanEnv(),
      RELENGD_DATA_DIR: dataDir,
      RELENGD_DATABASE_URL: postgres.url,
      RELENGD_HOST: "127.0.0.1",
      RELENGD_PORT: String(await freePort()),
      RELENGD_TOKEN_SECRET: SECRET,
      RELENGD_LOG_LEVEL: "warn",
    });
    const issued = await new TokenService(SECRET).issue({ subject: "fedora-ci", role: "ci", ttlSeconds: 3600 });
    authorization = `Bearer ${issued.token}`;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await postgres?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  let phase: Phase = "up";

  async function push(artifact: ReturnType<typeof sampleArtifact>, sentIn: Phase): Promise<Attempt> {
    const started = Date.now();
    try {
      const res = await fetch(`${server.url}/api/v1/artifacts`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify(artifact),
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
      const text = await res.text();
      return {
        id: artifact.id,
        sentIn,
        answeredIn: phase,
        status: res.status,
        contentType: res.headers.get("content-type"),
        retryAfter: res.headers.get("retry-after"),
        body: text ? (JSON.parse(text) as unknown) : undefined,
        ms: Date.now() - started,
      };
    } catch (err) {
      // 0: no answer within the bound (or the connection failed): the server hung or died.
      return { id: artifact.id, sentIn, answeredIn: phase, status: 0, contentType: null, retryAfter: null, body: String(err), ms: Date.now() - started };
    }
  }

  it("answers 503 problem+json while the database is down, recovers without a restart, and keeps every 201", async () => {
    let pushing = true;
    const attempts: Attempt[] = [];
    const readyWhileDown: number[] = [];
    // Four CI jobs pushing back to back, as a mass rebuild would.
    const sent = new Map<string, ReturnType<typeof sampleArtifact>>();
    const pushers = Array.from({ length: 4 }, async () => {
      while (pushing) {
        const artifact = sampleArtifact();
        sent.set(artifact.id, artifact);
        attempts.push(await push(artifact, phase));
      }
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    await sleep(1500);
    phase = "stopping";
    await postgres.stop();
    phase = "down";
    await sleep(2000);
    const whileDown = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) }).catch((err: unknown) => {
      throw new Error(`the server did not answer /readyz while PostgreSQL was down; server output:\n${server.output().slice(-4000)}`, { cause: err });
    });
    readyWhileDown.push(whileDown.status);
    phase = "starting";
    await postgres.start();
    phase = "recovered";
    await sleep(2500);
    pushing = false;
    await Promise.all(pushers);

    const count = (status: number) => attempts.filter((a) => a.status === status).length;
    console.log(`pushes: ${attempts.length}, 201: ${count(201)}, 503: ${count(503)}, slowest: ${Math.max(...attempts.map((a) => a.ms))} ms`);
    const context = () => `server output:\n${server.output().slice(-4000)}`;
    // Nothing but 201 (stored) or 503 (try again): no 500, no hang, no dropped connection.
    const unexpected = attempts.filter((a) => a.status !== 201 && a.status !== 503);
    expect(unexpected, context()).toEqual([]);
    expect(Math.max(...attempts.map((a) => a.ms))).toBeLessThan(REQUEST_BOUND_MS);

    // A push sent late in the outage may wait for a connection until PostgreSQL is back and then
    // be stored (201, counted with the others below); one answered while it is still down is a 503.
    const sentWhileDown = attempts.filter((a) => a.sentIn === "down" && a.answeredIn === "down");
    expect(sentWhileDown.length).toBeGreaterThan(0);
    for (const a of sentWhileDown) {
      expect(a.status).toBe(503);
      expect(a.contentType).toMatch(/^application\/problem\+json/);
      expect(a.retryAfter).toMatch(/^[1-9][0-9]*$/);
      expect(a.body).toMatchObject({ status: 503, title: "Service unavailable", type: expect.stringContaining("database-unavailable") });
    }
    expect(readyWhileDown).toEqual([503]);

    // Recovered without a restart: the same process answers, and the last pushes are stored.
    const beforeStop = attempts.filter((a) => a.answeredIn === "up");
    expect(beforeStop.length).toBeGreaterThan(0);
    expect(beforeStop.map((a) => a.status)).toEqual(beforeStop.map(() => 201));
    const afterRestart = attempts.filter((a) => a.sentIn === "recovered");
    const lastQuarter = afterRestart.slice(Math.floor(afterRestart.length * 0.75));
    expect(lastQuarter.length).toBeGreaterThan(0);
    expect(lastQuarter.map((a) => a.status)).toEqual(lastQuarter.map(() => 201));
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(process.kill(server.pid, 0)).toBe(true);

    // Every acknowledged artifact is in the database.
    const acknowledged = attempts.filter((a) => a.status === 201).map((a) => a.id);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const stored = new Set((await client.query<{ id: string }>(`SELECT "id" FROM "Artifact"`)).rows.map((r) => r.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await client.end();
    }

    // A 503 is safe to retry: the same body again is stored now (or was, if its commit won the race).
    const refused = attempts.filter((a) => a.status === 503).slice(0, 5);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      const again = await push(sent.get(a.id) as ReturnType<typeof sampleArtifact>, "recovered");
      expect([200, 201]).toContain(again.status);
    }
  }, 60_000);
});
