// Loading the facts approval policies read: files under the policies folder or URLs, refreshed on a schedule, each source's last good value kept; and the SSH allowed-signers file written from them.
import { randomBytes } from "node:crypto";
import { open, realpath } from "node:fs/promises";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  durationMs,
  factSources,
  isFactUrl,
  isRelativeFactPath,
  noFacts,
  parseFactFile,
  renderAllowedSigners,
  type FactSource,
  type FactSourceStatus,
  type Facts,
  type FactsConfig,
  type FactValues,
} from "../domain/requests/facts.js";

export interface FactsLoadOptions {
  /** The policies folder: relative sources are read inside it, never outside (symlinks included). */
  baseDir: string;
  /** For URLs; the global fetch by default. */
  fetch?: typeof fetch;
  /** Stamps loadedAt. */
  now?: () => Date;
  /** How long one URL may take, headers and body (default 30 s). */
  timeoutMs?: number;
  /** The largest facts file read or fetched (default 64 MiB: dist-git's owner alias file is a few MB). */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Why a source did not load, in a sentence (no file content in it). */
export class FactSourceError extends Error {}

const limitWords = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.floor(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`);

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // V8's message quotes the text around the error; only the position is kept.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new FactSourceError(`${where} is not JSON${position === undefined ? "" : ` (at position ${position})`}`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new FactSourceError(`${where} is not UTF-8 text`);
  }
}

async function readLocal(location: string, options: FactsLoadOptions): Promise<unknown> {
  if (!isRelativeFactPath(location)) throw new FactSourceError(`${location} is not a path inside the policies folder`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let base: string;
  let file: string;
  try {
    base = await realpath(options.baseDir);
    file = await realpath(path.join(base, location));
  } catch {
    throw new FactSourceError(`${location} does not exist in ${options.baseDir}`);
  }
  if (!file.startsWith(base + path.sep)) throw new FactSourceError(`${location} leads outside ${options.baseDir}`);
  return readJsonFile(file, location, maxBytes);
}

/**
 * A JSON file of at most `maxBytes` (default 64 MiB), UTF-8: the facts files and the owners file
 * (RELENGD_OWNER_ALIASES) alike. Errors are FactSourceErrors naming `location`, never the content.
 */
export async function readJsonFile(file: string, location: string, maxBytes = DEFAULT_MAX_BYTES): Promise<unknown> {
  const handle = await open(file, "r").catch(() => {
    throw new FactSourceError(`${location} cannot be read`);
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new FactSourceError(`${location} is not a file`);
    if (stat.size > maxBytes) throw new FactSourceError(`${location} is larger than ${limitWords(maxBytes)}`);
    // Read through the handle that was checked, at most one byte past the limit (the file may grow meanwhile).
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new FactSourceError(`${location} is larger than ${limitWords(maxBytes)}`);
      if (length === buffer.length) break;
    }
    return parseJson(decode(buffer.subarray(0, length), location), location);
  } finally {
    await handle.close();
  }
}

async function readUrl(location: string, options: FactsLoadOptions): Promise<unknown> {
  const fetchFn = options.fetch ?? fetch;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new FactSourceError(`${location} did not answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    // Redirects are followed by hand, each target checked first: a source stays on https (or loopback http).
    let res: Response | undefined;
    let target = location;
    for (let hop = 0; ; hop++) {
      try {
        res = await fetchFn(target, { signal: controller.signal, redirect: "manual", headers: { accept: "application/json" } });
      } catch (err) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new FactSourceError(`${location} cannot be fetched: ${(err as Error).message}`);
      }
      const next = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
      if (next === null) break;
      await res.body?.cancel();
      if (hop >= 5) throw new FactSourceError(`${location} redirected more than 5 times`);
      target = new URL(next, target).href;
      if (!isFactUrl(target)) throw new FactSourceError(`${location} redirected to ${target}, which is not an https URL`);
    }
    if (!res.ok) throw new FactSourceError(`${location} answered HTTP ${res.status}`);
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) throw new FactSourceError(`${location} is larger than ${limitWords(maxBytes)}`);
    const chunks: Uint8Array[] = [];
    let length = 0;
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    if (reader) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          length += value.byteLength;
          if (length > maxBytes) {
            await reader.cancel();
            throw new FactSourceError(`${location} is larger than ${limitWords(maxBytes)}`);
          }
          chunks.push(value);
        }
      } catch (err) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw err instanceof FactSourceError ? err : new FactSourceError(`${location} broke off: ${(err as Error).message}`);
      }
    }
    return parseJson(decode(Buffer.concat(chunks, length), location), location);
  } finally {
    clearTimeout(timer);
  }
}

/** One source's value, or why it did not load. Never throws. */
export async function loadFactSource<S extends FactSource>(source: S, location: string, options: FactsLoadOptions): Promise<{ ok: true; value: FactValues[S] } | { ok: false; error: string }> {
  try {
    let raw: unknown;
    if (!/^https?:/i.test(location)) raw = await readLocal(location, options);
    else if (isFactUrl(location)) raw = await readUrl(location, options);
    else throw new FactSourceError(`${location} is not an https URL`);
    const parsed = parseFactFile(source, raw);
    return parsed.ok ? parsed : { ok: false, error: `${location}: ${parsed.error}` };
  } catch (err) {
    return { ok: false, error: err instanceof FactSourceError ? err.message : `${location}: ${(err as Error).message}` };
  }
}

/**
 * The problems of the facts files a configuration names inside the policies folder, each on the
 * line of its source (`file:line: /spec/sources/<name>: why`); URLs are not fetched.
 */
export async function checkFactFiles(facts: { config: FactsConfig; file: string; lineOf: (path: (string | number)[]) => number | undefined }, baseDir: string): Promise<string[]> {
  const local = factSources.flatMap((source) => {
    const location = facts.config.spec.sources[source];
    return location === undefined || /^https?:/i.test(location) ? [] : [{ source, location }];
  });
  const results = await Promise.all(local.map(async ({ source, location }) => ({ source, result: await loadFactSource(source, location, { baseDir }) })));
  return results.flatMap(({ source, result }) => (result.ok ? [] : [`${facts.file}:${facts.lineOf(["spec", "sources", source]) ?? 1}: /spec/sources/${source}: ${result.error}`]));
}

/** Arms a repeating timer; the default is setInterval, unref'd so it never keeps the process alive. */
export type Every = (ms: number, run: () => void) => { cancel(): void };

const unrefInterval: Every = (ms, run) => {
  const t = setInterval(run, ms);
  t.unref();
  return { cancel: () => clearInterval(t) };
};

/**
 * The current facts, refreshed from the configured sources on the configuration's schedule. A
 * source that fails keeps its last good value (its status says why the refresh failed); one that
 * never loaded stays unknown. Refreshes run one at a time.
 */
export class FactsHolder {
  private current: Facts = noFacts();
  private inFlight: Promise<Facts> | undefined;
  /** The configuration the refresh in flight reads. */
  private inFlightFor: FactsConfig | undefined;
  private started = false;
  private timer: { cancel(): void } | undefined;
  private readonly listeners: ((facts: Facts) => void)[] = [];

  constructor(
    private config: FactsConfig | undefined,
    private readonly options: FactsLoadOptions & { every?: Every },
  ) {}

  get(): Facts {
    return this.current;
  }

  /** Called after every refresh (the request poller rewrites its allowed-signers file). */
  onRefresh(listener: (facts: Facts) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A new configuration (the policies were reloaded). A source no longer configured, or read from
   * elsewhere now, is forgotten; the others keep their values until the next refresh. Once
   * started, the holder refreshes at once and re-arms its timer with the new schedule.
   */
  configure(config: FactsConfig | undefined): void {
    this.config = config;
    const sources = config?.spec.sources ?? {};
    const values: Partial<FactValues> = {};
    const status: FactSourceStatus[] = [];
    for (const s of this.current.status) {
      if (sources[s.source] !== s.location) continue;
      status.push(s);
      const v = this.current.values[s.source];
      if (v !== undefined) (values as Record<FactSource, unknown>)[s.source] = v;
    }
    this.current = { values, status };
    if (this.started) {
      this.stop();
      this.start();
    }
  }

  /**
   * Loads every configured source now; resolves to the facts after it (never rejects). A refresh
   * asked while one runs shares it, unless the configuration changed since: then it runs after.
   */
  refresh(): Promise<Facts> {
    if (this.inFlight && this.inFlightFor === this.config) return this.inFlight;
    const before = this.inFlight ?? Promise.resolve(this.current);
    const run: Promise<Facts> = before
      .then(() => this.load())
      .finally(() => {
        if (this.inFlight === run) this.inFlight = undefined;
      });
    this.inFlight = run;
    this.inFlightFor = this.config;
    return run;
  }

  /** A first refresh now, then one every `spec.refresh` (with no configuration: once there is one). */
  start(): void {
    if (this.timer) return;
    this.started = true;
    if (!this.config) return;
    const ms = durationMs(this.config.spec.refresh) ?? 15 * 60_000;
    void this.refresh();
    this.timer = (this.options.every ?? unrefInterval)(ms, () => void this.refresh());
  }

  stop(): void {
    this.started = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async load(): Promise<Facts> {
    const config = this.config;
    if (!config) return this.current;
    const configured = factSources.flatMap((source) => {
      const location = config.spec.sources[source];
      return location === undefined ? [] : [{ source, location }];
    });
    const results = await Promise.all(configured.map(async ({ source, location }) => ({ source, location, result: await loadFactSource(source, location, this.options) })));
    // The configuration may have changed while loading: only results for what is still configured count.
    if (config !== this.config) return this.current;
    const now = (this.options.now ?? (() => new Date()))();
    const previous = this.current;
    const values: Partial<FactValues> = {};
    const status: FactSourceStatus[] = [];
    for (const { source, location, result } of results) {
      const before = previous.status.find((s) => s.source === source && s.location === location);
      if (result.ok) {
        (values as Record<FactSource, unknown>)[source] = result.value;
        status.push({ source, location, loadedAt: now });
        continue;
      }
      const kept = before ? previous.values[source] : undefined;
      if (kept !== undefined) (values as Record<FactSource, unknown>)[source] = kept;
      status.push(before?.loadedAt && kept !== undefined ? { source, location, loadedAt: before.loadedAt, error: result.error } : { source, location, error: result.error });
    }
    this.current = { values, status };
    for (const l of this.listeners) l(this.current);
    return this.current;
  }
}

/**
 * Writes the SSH allowed-signers file (`<user> namespaces="git" <type> <key>` lines) from the
 * facts' signing keys, atomically (a reader sees the old file or the new one). Unknown signing
 * keys write an empty file: no signature verifies.
 */
export function writeAllowedSigners(facts: Facts, file: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, renderAllowedSigners(facts), { mode: 0o644, flag: "wx" });
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}
