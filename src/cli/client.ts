// HTTP client for the CLI's client verbs: RELENGD_URL + RELENGD_TOKEN, problem+json aware.
import { loadClientConfig } from "../config.js";

/**
 * Exit codes of client verbs, documented in the README. `rejected` is also what `release track`
 * and `lint` exit with when the answer is no: a release failed, was blocked or superseded; a
 * document has problems. `timeout`: `--wait` gave up before the release reached a final state.
 * `review`: `request submit --wait` ended with the request waiting for a person (needs-review).
 */
export const exitCodes = { ok: 0, rejected: 1, usage: 2, serverError: 3, unreachable: 4, timeout: 5, review: 6 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The HTTP status relengd answered, when the error is its answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

interface ProblemLike {
  title?: string;
  detail?: string;
  errors?: { path: string; message: string; in?: string }[];
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      // undici puts the reason in `cause`: a code (ECONNREFUSED, ENOTFOUND) or only a message ("bad port").
      const detail = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = detail?.code ?? detail?.message ?? (err as Error).message;
      throw new CliError(`cannot reach relengd at ${this.baseUrl} (${cause}); check RELENGD_URL`, exitCodes.unreachable);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.status >= 400) throw new CliError(describeFailure(res.status, parsed), res.status >= 500 ? exitCodes.serverError : exitCodes.rejected, res.status);
    return { status: res.status, body: parsed as T };
  }
}

/** The client of the server named by RELENGD_URL, with RELENGD_TOKEN. */
export function apiClient(): ApiClient {
  const c = loadClientConfig();
  return new ApiClient(c.url, c.token);
}

function describeFailure(status: number, body: unknown): string {
  const p = (typeof body === "object" && body !== null ? body : {}) as ProblemLike;
  const lines = [`relengd answered ${status}${p.title ? ` ${p.title}` : ""}: ${p.detail ?? (typeof body === "string" ? body : "")}`.trim()];
  for (const e of p.errors ?? []) lines.push(`  ${e.in ? e.in + " " : ""}${e.path}: ${e.message}`);
  if (status === 401) lines.push("  (set RELENGD_TOKEN to a token from `relengd token issue`)");
  return lines.join("\n");
}
