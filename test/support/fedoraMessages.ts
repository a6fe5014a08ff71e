// The recorded Fedora bus messages in test/fixtures/fedora-messages, and made-up ones shaped like them.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Envelope } from "../../src/domain/envelope.js";

const ROOT = fileURLToPath(new URL("../fixtures/fedora-messages", import.meta.url));

export interface FixtureMessage {
  /** `buildsys.build.state.change/003.json` */
  file: string;
  /** The envelope's JSON form, without the fixture's `_source` provenance. */
  json: Record<string, unknown>;
}

/** Every fixture file, in a stable order (folder, then file name). */
export function fixtureMessages(): FixtureMessage[] {
  const out: FixtureMessage[] = [];
  for (const dir of readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const name of readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith(".json")).sort()) {
      const { _source: _provenance, ...json } = JSON.parse(readFileSync(path.join(ROOT, dir, name), "utf8")) as Record<string, unknown>;
      out.push({ file: `${dir}/${name}`, json });
    }
  }
  return out;
}

export function fixtureJson(file: string): Record<string, unknown> {
  const found = fixtureMessages().find((m) => m.file === file);
  if (!found) throw new Error(`no fixture ${file}`);
  return found.json;
}

/** A fixture file exactly as it is on disk, `_source` and all (what `relengd bus replay` reads). */
export function fixtureFile(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;
}

/** A Koji build that completed, as koji-fedoramessaging publishes it (trimmed to what relengd reads). */
export function buildCompleteMessage(opts: { id: string; buildId: number; name: string; version: string; release: string; sha?: string; owner?: string; topicPrefix?: string }): Envelope {
  const scm = `git+https://src.fedoraproject.org/rpms/${opts.name}.git#${opts.sha ?? "ddbac739fc9482082b06028e5606f74c06e1db07"}`;
  return {
    id: opts.id,
    topic: `${opts.topicPrefix ?? "org.fedoraproject.prod."}buildsys.build.state.change`,
    headers: { "fedora_messaging_schema": "koji_fedoramessaging.build.BuildStateChangeV1", "sent-at": "2026-11-17T14:42:02+00:00" },
    body: {
      attribute: "state",
      base_url: "https://koji.fedoraproject.org",
      build_id: opts.buildId,
      name: opts.name,
      version: opts.version,
      release: opts.release,
      epoch: null,
      instance: "primary",
      new: 1,
      old: 0,
      owner: opts.owner ?? "packager",
      request: [scm, "rawhide", {}],
      task_id: 139000000 + opts.buildId,
      url: `https://koji.fedoraproject.org/koji/buildinfo?buildID=${opts.buildId}`,
    },
  };
}

/** A Fedora CI result (CI messages spec 1.x) about a koji-build. */
export function ciTestMessage(opts: { id: string; nvr: string; result?: string; state?: "complete" | "error" | "running"; category?: string; type?: string; scratch?: boolean }): Envelope {
  const state = opts.state ?? "complete";
  return {
    id: opts.id,
    topic: `org.centos.prod.ci.koji-build.test.${state}`,
    headers: { "sent-at": "2026-11-17T15:00:00+00:00" },
    body: {
      contact: { name: "Fedora CI", team: "Fedora CI", docs: "https://docs.fedoraproject.org/en-US/ci/", email: "ci@lists.fedoraproject.org" },
      run: { url: `https://artifacts.dev.testing-farm.io/${opts.id}`, log: `https://artifacts.dev.testing-farm.io/${opts.id}/log` },
      artifact: { type: "koji-build", id: 139004033, issuer: "packager", component: opts.nvr.split("-").slice(0, -2).join("-"), nvr: opts.nvr, scratch: opts.scratch ?? false },
      pipeline: { id: `pipeline-${opts.id}`, name: "Fedora CI" },
      test: {
        type: opts.type ?? "tier0",
        category: opts.category ?? "functional",
        namespace: "fedora-ci.koji-build",
        ...(state === "complete" ? { result: opts.result ?? "passed" } : {}),
      },
      ...(state === "error" ? { error: { reason: "Testing Farm request failed: no machine available" } } : {}),
      generated_at: "2026-11-17T15:00:00Z",
      version: "1.1.14",
    },
  };
}
