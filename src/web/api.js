// Talking to relengd's JSON API with the token kept in session storage (gone when the tab closes).

const TOKEN_KEY = "relengd.token";

export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer that was not 2xx: the problem+json detail, and the field it names when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    const field = problem?.errors?.[0];
    super(problem?.detail ?? `the server answered ${status}`);
    this.status = status;
    this.problem = problem;
    this.field = field ? `${field.in} ${field.path}` : null;
  }
}

/** GET a path under the server root; `query` values that are empty are left out. */
export async function get(path, query = {}, options = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const url = params.size > 0 ? `${path}?${params}` : path;
  const token = options.token ?? storedToken();
  const res = await fetch(url, { headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: options.signal });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}
