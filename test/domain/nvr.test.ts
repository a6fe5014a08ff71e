import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNvr, renderNvr } from "../../src/domain/nvr.js";

// A copy of ../shared/fixtures (real Fedora bus messages from public test suites; see its README).
const FIXTURES = path.resolve(__dirname, "../fixtures");

function fixtureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? fixtureFiles(p) : p.endsWith(".json") ? [p] : [];
  });
}

/**
 * Every NVR the fixtures carry: values of "nvr" keys, and name/version/release triples of koji
 * messages (buildsys.*) put together the way koji does.
 */
function nvrsIn(value: unknown, found: { nvr: string; parts?: { name: string; version: string; release: string } }[]): void {
  if (Array.isArray(value)) return value.forEach((v) => nvrsIn(v, found));
  if (value === null || typeof value !== "object") return;
  const o = value as Record<string, unknown>;
  if (typeof o.nvr === "string" && o.nvr !== "") found.push({ nvr: o.nvr });
  if (typeof o.name === "string" && typeof o.version === "string" && typeof o.release === "string") {
    found.push({ nvr: `${o.name}-${o.version}-${o.release}`, parts: { name: o.name, version: o.version, release: o.release } });
  }
  for (const v of Object.values(o)) nvrsIn(v, found);
}

describe("parseNvr", () => {
  it("splits at the last two dashes, leaving dashes in the name", () => {
    expect(parseNvr("golang-github-SAP-go-hdb-0.14.1-1.fc29")).toEqual({
      ok: true,
      nvr: { name: "golang-github-SAP-go-hdb", version: "0.14.1", release: "1.fc29" },
    });
  });

  it("reads a koji-style epoch in front of the name", () => {
    expect(parseNvr("2:vim-9.1.0-1.fc41")).toEqual({ ok: true, nvr: { name: "vim", version: "9.1.0", release: "1.fc41", epoch: "2" } });
  });

  it("reads an rpm-style epoch in front of the version", () => {
    expect(parseNvr("vim-2:9.1.0-1.fc41")).toEqual({ ok: true, nvr: { name: "vim", version: "9.1.0", release: "1.fc41", epoch: "2" } });
  });

  it("accepts rpm's tilde and caret in versions", () => {
    expect(parseNvr("python38-3.8.0~b1-1.fc29").ok).toBe(true);
    expect(parseNvr("foo-1.0^20240101git1234-1.fc41").ok).toBe(true);
  });

  it.each([
    ["", "is empty"],
    ["foo", "no release"],
    ["foo-1.0", "no version"],
    ["foo--1", "no version"],
    ["foo-1.0-", "no release"],
    ["-1.0-1", "name"],
    ["foo/bar-1.0-1", "name"],
    ["foo-1.0-1 fc41", "release"],
    ["x:foo-1.0-1", "epoch"],
    ["1:foo-2:1.0-1", "two epochs"],
    ["../../etc-1-1", "name"],
  ])("rejects %j (%s)", (input, reason) => {
    const r = parseNvr(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it("renders what it parses", () => {
    for (const nvr of ["kernel-6.11.4-301.fc41", "1:foo-1.0-1.el9", "golang-github-jfrazelle-go-0-0.1.git6e461eb.fc23"]) {
      const r = parseNvr(nvr);
      expect(r.ok && renderNvr(r.nvr)).toBe(nvr);
    }
  });

  it("parses every NVR in the Fedora message fixtures", () => {
    const found: { file: string; nvr: string; parts?: { name: string; version: string; release: string } }[] = [];
    for (const file of fixtureFiles(FIXTURES)) {
      const hits: { nvr: string; parts?: { name: string; version: string; release: string } }[] = [];
      nvrsIn(JSON.parse(readFileSync(file, "utf8")), hits);
      found.push(...hits.map((h) => ({ file: path.relative(FIXTURES, file), ...h })));
    }
    // The corpus has dozens of builds; a walker that finds few means the walk broke.
    expect(found.length).toBeGreaterThan(40);
    const failures = found.flatMap((f) => {
      const r = parseNvr(f.nvr);
      if (!r.ok) return [`${f.file}: ${f.nvr} ${r.reason}`];
      if (f.parts && (r.nvr.name !== f.parts.name || r.nvr.version !== f.parts.version || r.nvr.release !== f.parts.release)) {
        return [`${f.file}: ${f.nvr} split as ${JSON.stringify(r.nvr)}`];
      }
      return [];
    });
    expect(failures).toEqual([]);
  });
});
