// rpm's version order in the writer: a Koji tag never silently goes back to an older
// build, and of the releases waiting for one tag the newest build wins, not the latest arrival.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { Writer, type WriterOptions } from "../../src/gitops/writer.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { pino } from "pino";
import { parseEnvironments } from "../../src/policy/environments.js";
import { startTestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { git } from "../support/remote.js";

const SHIPPED_ENVIRONMENTS = path.resolve(__dirname, "../../policies/environments.yaml");

interface ReleaseView {
  id: string;
  status: string;
  reason: string | null;
  supersededBy: string | null;
  attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testProviders)("rpm version order in the writer on %s", (provider) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A server whose shipped environments write to `remote` (which need not exist yet); no policies. */
  async function start(remote: string, writer: Partial<WriterOptions> = {}) {
    const environments = parseEnvironments(readFileSync(SHIPPED_ENVIRONMENTS, "utf8"), "environments.yaml", remote);
    const t = await startTestApp(provider, { environments, writer: { pollMs: 100, ...writer } });
    cleanups.push(() => t.close());
    const ci = await t.auth("ci");
    const releaser = await t.auth("releaser");
    const push = async (pkg: string, version: string, release: string) => {
      const a = sampleArtifact({ package: pkg, release: "rawhide" });
      a.items = [{ kind: "koji-build", nvr: `${pkg}-${version}-${release}`, target: "f45-candidate" }];
      const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
      expect(res.statusCode, res.body).toBe(201);
      return a.id;
    };
    const release = async (artifactId: string, extra: Record<string, unknown> = {}) => {
      const res = await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId, environment: "rawhide", ...extra }, headers: releaser });
      expect(res.statusCode, res.body).toBe(202);
      return (res.json() as { id: string }).id;
    };
    const get = async (id: string) => {
      const res = await t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser });
      expect(res.statusCode).toBe(200);
      return res.json() as ReleaseView;
    };
    const settled = async (id: string, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await get(id);
        if (r.status !== "queued" && r.status !== "committed") return r;
        if (Date.now() > deadline) throw new Error(`release ${id} still ${r.status} after ${timeoutMs} ms`);
        await sleep(50);
      }
    };
    /** The nvr the tag's document in the remote names for `pkg`. */
    const tagged = (pkg: string) => {
      const text = git(remote, "show", `main:koji/tags/f45/${pkg}.yaml`);
      return (parseYaml(text) as { spec: { nvr: string } }).spec.nvr;
    };
    return { t, push, release, get, settled, tagged, releaser };
  }

  async function freshRemote(): Promise<string> {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-evr-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const remote = path.join(dir, "gitops.git");
    await ensureBareRepository(remote);
    return remote;
  }

  it("blocks a release of an older build than the tag holds, naming both builds; the document keeps the newer one", async () => {
    const s = await start(await freshRemote());
    const newer = await s.release(await s.push("ordered", "2.0", "1.fc45"));
    expect((await s.settled(newer)).status).toBe("pushed");
    const older = await s.settled(await s.release(await s.push("ordered", "1.10", "7.fc45")));
    expect(older).toMatchObject({ status: "blocked", reason: "downgrade: ordered-1.10-7.fc45 < ordered-2.0-1.fc45" });
    expect(s.tagged("ordered")).toBe("ordered-2.0-1.fc45");
  });

  it("orders by rpm, not by text: 2.10 follows 2.9, a ~rc pre-release precedes its final, a ^ snapshot follows it", async () => {
    const s = await start(await freshRemote());
    expect((await s.settled(await s.release(await s.push("tricky", "2.9", "1.fc45")))).status).toBe("pushed");
    expect((await s.settled(await s.release(await s.push("tricky", "2.10", "1.fc45")))).status).toBe("pushed");
    expect(s.tagged("tricky")).toBe("tricky-2.10-1.fc45");
    const rc = await s.settled(await s.release(await s.push("tricky", "2.10~rc1", "1.fc45")));
    expect(rc).toMatchObject({ status: "blocked", reason: "downgrade: tricky-2.10~rc1-1.fc45 < tricky-2.10-1.fc45" });
    expect((await s.settled(await s.release(await s.push("tricky", "2.10^20261125git1a2b3c", "1.fc45")))).status).toBe("pushed");
    expect(s.tagged("tricky")).toBe("tricky-2.10^20261125git1a2b3c-1.fc45");
  });

  it("lets a rollback and a release forced with a reason go back to an older build", async () => {
    const s = await start(await freshRemote());
    const oldArtifact = await s.push("goback", "1.0", "1.fc45");
    expect((await s.settled(await s.release(oldArtifact))).status).toBe("pushed");
    expect((await s.settled(await s.release(await s.push("goback", "1.1", "1.fc45")))).status).toBe("pushed");
    const res = await s.t.app.inject({ method: "POST", url: "/api/v1/rollbacks", payload: { environment: "rawhide", package: "goback", reason: "1.1 breaks the installer" }, headers: s.releaser });
    expect(res.statusCode, res.body).toBe(202);
    expect((await s.settled((res.json() as { release: { id: string } }).release.id)).status).toBe("pushed");
    expect(s.tagged("goback")).toBe("goback-1.0-1.fc45");

    expect((await s.settled(await s.release(await s.push("forced", "3.0", "1.fc45")))).status).toBe("pushed");
    const forced = await s.settled(await s.release(await s.push("forced", "2.0", "1.fc45"), { force: true, reason: "3.0 miscompiled on s390x" }));
    expect(forced.status).toBe("pushed");
    expect(s.tagged("forced")).toBe("forced-2.0-1.fc45");
  });

  it("of releases waiting together, writes the newest build even when an older one arrived last", async () => {
    const remote = await freshRemote();
    const s = await start(remote);
    // Both are queued while no writer runs, so that one batch sees them together.
    await s.t.writer.stop();
    const newest = await s.release(await s.push("stale", "2.10", "1.fc45"));
    const stale = await s.release(await s.push("stale", "2.9", "9.fc45"));
    const writer = new Writer({
      releases: s.t.releases,
      artifacts: new ArtifactRepository(s.t.database.db),
      environments: () => s.t.environments,
      rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
      workspacesDir: mkdtempSync(path.join(tmpdir(), "relengd-evr-ws-")),
      logger: pino({ level: "silent" }),
    });
    cleanups.push(() => writer.stop());
    await writer.start();
    const [a, b] = [await s.settled(newest), await s.settled(stale)];
    expect(a.status).toBe("pushed");
    expect(b).toMatchObject({ status: "superseded", supersededBy: newest });
    expect(s.tagged("stale")).toBe("stale-2.10-1.fc45");
  });
});
