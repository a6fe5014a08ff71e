// The source package of each broken package, read from the repository's own primary metadata
// (`<rpm:sourcerpm>`) rather than by a second dnf process: `dnf repoquery` costs as much as the
// repoclosure itself (mostly dnf starting and loading the repo again), doubling the check's time
// (bench/README.md, "Repoclosure"). What cannot be read here (a compression this Node.js cannot
// undo, a cache layout not seen) is left to the caller, which asks dnf.
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StringDecoder } from "node:string_decoder";
import { Readable } from "node:stream";
import zlib from "node:zlib";

/** Where a repo's metadata is on disk: the repo itself (file://), else dnf's cached copy. */
export async function repoMetadataDir(url: string, repoId: string, cacheDir: string): Promise<string | undefined> {
  if (url.startsWith("file://")) return fileURLToPath(url);
  let entries: string[];
  try {
    entries = await readdir(cacheDir);
  } catch {
    return undefined;
  }
  // dnf 4 and 5 keep a remote repo's metadata in <cachedir>/<repoid>-<hash>/repodata/; the newest
  // one is what the run just fetched (--refresh).
  let best: { dir: string; at: number } | undefined;
  for (const e of entries) {
    if (!e.startsWith(`${repoId}-`) || !/^[0-9a-f]{8,}$/.test(e.slice(repoId.length + 1))) continue;
    const dir = path.join(cacheDir, e);
    try {
      const at = (await stat(path.join(dir, "repodata", "repomd.xml"))).mtimeMs;
      if (!best || at > best.at) best = { dir, at };
    } catch {
      // Not a metadata folder.
    }
  }
  return best?.dir;
}

type Decompress = () => NodeJS.ReadWriteStream;

// Large chunks: with the 16 KiB defaults, reading 6 MB of metadata took 40-90 ms of hops between
// the file, zlib and this loop, against 12 ms with these.
const CHUNK = 1 << 20;
const MAX_PACKAGE_CHARS = 16 * 1024 * 1024;

function decompressorFor(file: string): Decompress | undefined | null {
  if (file.endsWith(".gz")) return () => zlib.createGunzip({ chunkSize: CHUNK });
  // Node.js 22.15 and later undo zstd (Fedora's metadata since F39); older ones ask dnf.
  const zstd = (zlib as unknown as { createZstdDecompress?: (options: { chunkSize: number }) => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (file.endsWith(".zst")) return zstd ? () => zstd({ chunkSize: CHUNK }) : null;
  if (file.endsWith(".xml")) return undefined;
  return null;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'" };
const unescapeXml = (s: string): string => s.replace(/&(?:amp|lt|gt|quot|apos);/g, (e) => ENTITIES[e] ?? e);

function between(block: string, open: string, close: string): string | undefined {
  const a = block.indexOf(open);
  if (a < 0) return undefined;
  const b = block.indexOf(close, a + open.length);
  return b < 0 ? undefined : block.slice(a + open.length, b);
}

/** The NEVRA dnf prints for a `<package>` block, and its source package's name. */
function readPackage(block: string): { nevra: string; source: string } | undefined {
  const name = between(block, "<name>", "</name>");
  const arch = between(block, "<arch>", "</arch>");
  const version = /<version\s+epoch="([^"]*)"\s+ver="([^"]*)"\s+rel="([^"]*)"/.exec(block);
  const srpm = between(block, "<rpm:sourcerpm>", "</rpm:sourcerpm>");
  if (!name || !arch || !version || !srpm) return undefined;
  const [, epoch, ver, rel] = version;
  const evr = `${epoch && epoch !== "0" ? `${epoch}:` : ""}${ver}-${rel}`;
  const m = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(unescapeXml(srpm).trim());
  if (!m?.[1]) return undefined;
  return { nevra: `${unescapeXml(name)}-${unescapeXml(evr)}.${unescapeXml(arch)}`, source: m[1] };
}

/**
 * The source package of each of `wanted` (NEVRAs as dnf prints them; "all": every package)
 * found in the primary metadata under `repoDir`; undefined when that metadata cannot be read
 * here. Stops reading once every wanted package is found.
 */
export async function sourcesFromPrimary(repoDir: string, wanted: ReadonlySet<string> | "all"): Promise<Map<string, string> | undefined> {
  let repomd: string;
  try {
    repomd = await readFile(path.join(repoDir, "repodata", "repomd.xml"), "utf8");
  } catch {
    return undefined;
  }
  const href = /<data\s+type="primary">[\s\S]*?<location\s+href="([^"]+)"/.exec(repomd)?.[1];
  if (!href || href.includes("..") || href.startsWith("/")) return undefined;
  const file = path.join(repoDir, unescapeXml(href));
  const decompress = decompressorFor(file);
  if (decompress === null) return undefined;
  const found = new Map<string, string>();
  // Most packages are not wanted: their name, read first, skips them (a full read of every block
  // cost as much as a fifth of the repoclosure on 5,000 packages).
  const names = wanted === "all" ? undefined : new Set([...wanted].map((n) => n.replace(/\.[^.]+$/, "").replace(/-[^-]+-[^-]+$/, "")));
  const raw = createReadStream(file, { highWaterMark: CHUNK });
  const stream: Readable = decompress ? raw.pipe(decompress() as unknown as NodeJS.WritableStream & Readable) : raw;
  // pipe() does not carry the file's errors on (a file gone before it opened, replaced by a new
  // createrepo_c run): unlistened, one would end the process. They end the loop below instead.
  if (stream !== raw) raw.on("error", (err) => stream.destroy(err));
  const decoder = new StringDecoder("utf8");
  let pending = "";
  try {
    for await (const chunk of stream) {
      pending += decoder.write(chunk as Buffer);
      let start = 0;
      for (;;) {
        const end = pending.indexOf("</package>", start);
        if (end < 0) break;
        const nameAt = pending.indexOf("<name>", start);
        const nameEnd = nameAt >= 0 && nameAt < end ? pending.indexOf("</name>", nameAt) : -1;
        if (!names || nameEnd < 0 || names.has(unescapeXml(pending.slice(nameAt + 6, nameEnd)))) {
          const pkg = readPackage(pending.slice(start, end));
          if (pkg && (wanted === "all" || wanted.has(pkg.nevra))) found.set(pkg.nevra, pkg.source);
        }
        start = end + "</package>".length;
      }
      pending = pending.slice(start);
      // One package's entry is a few KB; a hostile or broken file that never closes one would
      // otherwise be held in memory whole. What was found stands; dnf is asked for the rest.
      if (pending.length > MAX_PACKAGE_CHARS) break;
      if (wanted !== "all" && found.size === wanted.size) break;
    }
  } catch {
    // A truncated or corrupt file: what was read stands, dnf is asked for the rest.
  } finally {
    raw.destroy();
    stream.destroy();
  }
  return found;
}
