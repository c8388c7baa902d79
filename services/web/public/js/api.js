// The API client: one fetch wrapper that adds the bearer token, turns every failure into an
// Error with a readable message (the API's and the proxy's `{"detail"}`), and logs out on 401.

const TOKEN_KEY = "ephitup.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Readable text for an error answer: `detail` may be a string or a list (FastAPI style). */
function describe(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  if (status === 502 || status === 503) return "The server is starting or unavailable; try again in a moment.";
  return `Request failed (HTTP ${status})`;
}

/**
 * Calls `/api${path}`. `body` is sent as JSON unless it is FormData. Returns the parsed JSON
 * (or null for 204). Throws ApiError.
 */
export async function api(path, { method = "GET", body, raw = false, signal } = {}) {
  const headers = {};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api${path}`, { method, headers, body: payload, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
  }
  if (response.status === 401 && t) {
    token.clear();
    onUnauthorized();
  }
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, describe(response.status, parsed));
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
