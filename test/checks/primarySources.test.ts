// Source packages read from the repositories' primary metadata instead of a second dnf process:
// from a file:// repo, from dnf's cache of an http:// repo, with an epoch, and dnf asked only for
// what the metadata cannot give (a compression Node.js does not read).
import { chmodSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRepoclosure, type RepoclosureRunnerOptions } from "../../src/checks/repoclosure.js";
import { sourcesFromPrimary } from "../../src/checks/primarySources.js";
import type { RepoclosureTarget } from "../../src/domain/repoclosure.js";
import { haveRpmTools, makeRepo, type SpecPackage } from "../support/rpmRepo.js";

const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;

const packages: SpecPackage[] = [
  // A subpackage broken, built from a source of another name, with an epoch.
  { name: "kernel-tools-src", epoch: 2, subpackages: [{ name: "perf-helper", requires: ["libtraceevent.so.9()(64bit)"] }] },
  { name: "plain", noarch: true, requires: ["absent-thing"] },
];

maybe("sources of broken packages", () => {
  let dir: string;
  let server: Server;
  let baseUrl: string;
  let log: string;
  let dnf: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-primary-"));
    makeRepo(dir, "gz", packages);
    makeRepo(dir, "xz", packages, "xz");
    // A static file server for an http:// repo: dnf downloads it into its cache.
    server = createServer((req, res) => {
      const file = path.join(dir, "gz", decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      if (!file.startsWith(path.join(dir, "gz")) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200);
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    // A dnf that records which subcommand ran, then runs the real one.
    log = path.join(dir, "dnf.log");
    dnf = path.join(dir, "recording-dnf");
    writeFileSync(dnf, `#!/bin/sh\necho "$1" >> "${log}"\nexec dnf "$@"\n`);
    chmodSync(dnf, 0o755);
  }, 120_000);
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (): RepoclosureRunnerOptions => ({ dnf, workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 });
  const subcommands = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  const run = async (url: string) => {
    writeFileSync(log, "");
    const target: RepoclosureTarget = { arches: ["x86_64"], repos: [{ id: "main", url }], lookaside: [] };
    const result = await runRepoclosure(target, options());
    expect(result.ok).toBe(true);
    return result.ok ? (result.arches.x86_64 ?? []).map((r) => ({ source: r.source, nevra: r.nevra })) : [];
  };
  const expected = [
    { source: "kernel-tools-src", nevra: "perf-helper-2:1.0-1.fc45.x86_64" },
    { source: "plain", nevra: "plain-1.0-1.fc45.noarch" },
  ];

  it("reads them from a file:// repo's gzip metadata: one dnf process, no repoquery", async () => {
    expect(await run(`file://${dir}/gz`)).toEqual(expected);
    expect(subcommands()).toEqual(["repoclosure"]);
  }, 120_000);

  it("reads them from dnf's cache of an http:// repo", async () => {
    expect(await run(`${baseUrl}/`)).toEqual(expected);
    expect(subcommands()).toEqual(["repoclosure"]);
  }, 120_000);

  it("asks dnf when the metadata's compression cannot be read here (xz), with the same answer", async () => {
    expect(await run(`file://${dir}/xz`)).toEqual(expected);
    expect(subcommands()).toEqual(["repoclosure", "repoquery"]);
  }, 120_000);

  it("a primary file that is gone (a createrepo_c run replaced it) is no source, and no crash", async () => {
    const gone = path.join(dir, "gone");
    makeRepo(dir, "gone", [{ name: "g", noarch: true }]);
    const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(readFileSync(path.join(gone, "repodata", "repomd.xml"), "utf8"))?.[1] ?? "";
    rmSync(path.join(gone, href));
    expect((await sourcesFromPrimary(gone, new Set(["g-1.0-1.fc45.noarch"])))?.size ?? 0).toBe(0);
    expect((await sourcesFromPrimary(gone, "all"))?.size ?? 0).toBe(0);
  }, 120_000);

  it("stops reading at a package entry too large to be one, keeping what it found before", async () => {
    const huge = path.join(dir, "huge");
    makeRepo(dir, "huge", [{ name: "h", noarch: true }]);
    // After the real package: an entry of 40 MB (gzipped to little), then one more package that
    // the read must not reach: the entry is not held in memory whole to find its end.
    const primary = path.join(huge, "repodata", "primary.xml.gz");
    const real = gunzipSync(readFileSync(path.join(huge, /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(readFileSync(path.join(huge, "repodata", "repomd.xml"), "utf8"))?.[1] ?? ""))).toString("utf8");
    const head = real.slice(0, real.lastIndexOf("</package>") + "</package>".length);
    const late = head.slice(head.lastIndexOf('<package type="rpm">')).replace(/<name>h<\/name>/, "<name>late</name>").replace(/h-1\.0-1\.fc45\.src\.rpm/, "late-1.0-1.fc45.src.rpm");
    writeFileSync(primary, gzipSync(Buffer.from(`${head}<package type="rpm"><name>${"x".repeat(40 * 1024 * 1024)}</name></package>${late}</metadata>`)));
    const repomd = path.join(huge, "repodata", "repomd.xml");
    writeFileSync(repomd, readFileSync(repomd, "utf8").replace(/(<data type="primary">[\s\S]*?<location href=")[^"]+/, "$1repodata/primary.xml.gz"));
    const found = await sourcesFromPrimary(huge, "all");
    expect(found?.get("h-1.0-1.fc45.noarch")).toBe("h");
    expect(found?.has("late-1.0-1.fc45.noarch")).toBe(false);
    expect(found?.size).toBe(1);
    // The same file with the entry of a sane size reads through to the end.
    writeFileSync(primary, gzipSync(Buffer.from(`${head}<package type="rpm"><name>${"x".repeat(1024)}</name></package>${late}</metadata>`)));
    expect((await sourcesFromPrimary(huge, "all"))?.get("late-1.0-1.fc45.noarch")).toBe("late");
  }, 120_000);

  it("finds nothing in a folder without metadata, or with a location outside the repo", async () => {
    expect(await sourcesFromPrimary(path.join(dir, "nowhere"), new Set(["x-1-1.noarch"]))).toBeUndefined();
    const evil = path.join(dir, "evil");
    makeRepo(dir, "evil", [{ name: "e", noarch: true }]);
    const repomd = path.join(evil, "repodata", "repomd.xml");
    writeFileSync(repomd, readFileSync(repomd, "utf8").replace(/(<data type="primary">[\s\S]*?<location href=")[^"]+/, "$1../../../etc/passwd"));
    expect(await sourcesFromPrimary(evil, new Set(["e-1.0-1.fc45.noarch"]))).toBeUndefined();
  }, 120_000);
});
