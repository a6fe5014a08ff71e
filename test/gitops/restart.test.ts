// A writer restarted over a history with more release commits than one statement can bind: it
// goes on pushing, reads only what was written since the store's watermark, and records pushed
// every release whose commit is in the remote, whatever it was recorded as.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { Writer } from "../../src/gitops/writer.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { MAX_BIND_PARAMETERS } from "../../src/store/store.js";
import { releaseFromRow, type ReleaseRecord, type ReleaseRepository } from "../../src/store/releaseRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";

/** More release commits than one statement binds, with room to spare. */
const HISTORY = MAX_BIND_PARAMETERS + 201;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parsed(input: unknown): Artifact {
  const p = parseArtifact(input);
  if (!p.ok) throw new Error("sample artifact does not parse");
  return p.value;
}

/** How many commits of the remote's main carry each release id. */
function releaseIdCounts(remote: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of git(remote, "log", "main", "--format=%B").matchAll(/^Relengd-Release-Id: (\S+)$/gm)) out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + 1);
  return out;
}

describe.each(testProviders)("a writer restarted over a long history on %s", (provider) => {
  let h: TestApp | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await h?.close();
    h = undefined;
  });

  async function queue(artifacts: Artifact[]): Promise<ReleaseRecord[]> {
    const app = h as TestApp;
    const outcomes = await Promise.all(
      artifacts.map((a) => app.releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: a.package, trigger: "user:test", createdBy: "test", force: false })),
    );
    return outcomes.map((o) => {
      if (o.status !== "queued") throw new Error(`expected queued, got ${o.status}`);
      return o.release;
    });
  }

  async function ingest(n: number, prefix: string): Promise<Artifact[]> {
    const app = h as TestApp;
    const artifacts = Array.from({ length: n }, (_, i) => parsed(sampleArtifact({ package: `${prefix}-${i}` })));
    const store = new ArtifactRepository(app.database.db);
    await Promise.all(artifacts.map((a) => store.ingest(a)));
    return artifacts;
  }

  async function statuses(ids: string[]): Promise<Map<string, ReleaseRecord>> {
    const app = h as TestApp;
    const rows = await app.database.db.read((tx) => tx.selectFrom("Release").selectAll().where("repository", "=", "gitops").execute());
    const wanted = new Set(ids);
    return new Map(rows.filter((r) => wanted.has(r.id)).map((r) => [r.id, releaseFromRow(r)]));
  }

  it(`pushes the next release after a restart over ${HISTORY} release commits, reading only what came since, and records pushed the ones in history recorded failed`, async () => {
    h = await startTestApp(provider, { writer: { batchSize: HISTORY, pollMs: 600_000 } });
    const app = h;
    // The history: HISTORY releases, each its own commit, pushed by the writer in one batch.
    const history = await queue(await ingest(HISTORY, "history"));
    app.writer.notify("gitops");
    await waitFor("the history to be pushed", async () => ([...(await statuses(history.map((r) => r.id))).values()].every((r) => r.status === "pushed") ? true : undefined), 50_000);
    expect(Number(git(app.remote, "rev-list", "--count", "main").trim())).toBe(HISTORY);
    await app.writer.stop();

    // As the issue found them after kill -9: in git, recorded failed (and one queued for a retry).
    const inGitButFailed = history.slice(0, 3).map((r) => r.id);
    const inGitButQueued = (history[HISTORY - 10] as ReleaseRecord).id;
    await app.database.db.transaction(async (tx) => {
      await tx.updateTable("Release").set({ status: "failed", attempts: 8, error: "remote unavailable", commitSha: null, pushedAt: null }).where("id", "in", inGitButFailed).execute();
      await tx.updateTable("Release").set({ status: "queued", attempts: 0, commitSha: null, pushedAt: null }).where("id", "=", inGitButQueued).execute();
    });
    const commitOf = new Map(git(app.remote, "log", "main", "--format=%H %(trailers:key=Relengd-Release-Id,valueonly,separator=)").trim().split("\n").map((l) => [l.split(" ")[1] as string, l.split(" ")[0] as string]));

    // The restart: a writer with nothing in memory, its own workspace; the store's releases are
    // watched for how many ids it asks about (what it read of history).
    const asked: number[] = [];
    const watched = new Proxy(app.releases, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop === "notPushed") return (ids: readonly string[]) => (asked.push(ids.length), target.notPushed(ids));
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as ReleaseRepository;
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-restart-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const restarted = new Writer({ releases: watched, artifacts: new ArtifactRepository(app.database.db), environments: () => app.environments, rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION }, workspacesDir: dir, logger: pino({ level: "silent" }) }, { pollMs: 100 });
    cleanups.push(() => restarted.stop());
    await restarted.start();

    const [next] = await queue(await ingest(1, "after-restart"));
    restarted.notify("gitops");
    const nextId = (next as ReleaseRecord).id;
    const settled = await waitFor(
      "the release after the restart to be pushed",
      async () => {
        const s = await statuses([nextId, ...inGitButFailed, inGitButQueued]);
        return [...s.values()].every((r) => r.status !== "queued" && r.status !== "committed") && s.get(nextId)?.status === "pushed" ? s : undefined;
      },
      30_000,
    );
    await restarted.idle();
    expect(settled.get(nextId)).toMatchObject({ status: "pushed", attempts: 0, error: null });
    for (const id of [...inGitButFailed, inGitButQueued]) expect(settled.get(id), id).toMatchObject({ status: "pushed", commitSha: commitOf.get(id), error: null });
    const counts = releaseIdCounts(app.remote);
    expect(counts.size).toBe(HISTORY + 1);
    expect([...counts.values()].every((n) => n === 1), "every release in one commit").toBe(true);
    // Below the watermark nothing was read but what the store does not have as pushed: never
    // the whole history's ids.
    expect(Math.max(0, ...asked), `ids asked about: ${asked.join(", ")}`).toBeLessThanOrEqual(inGitButFailed.length + 1 + 1);
  }, 120_000);
});
