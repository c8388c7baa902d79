// The API client: one fetch wrapper that adds the bearer token, turns every failure into an
// Error with a readable message (the API's and the proxy's `{"detail"}`), and logs out on 401;
// `pager` and `allPages`, for the lists the API answers page by page (`limit`, `offset`);
// and `stream`, the same for calls that answer server-sent events (chat, ask).

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

/** The request's headers: the bearer token when logged in, plus `extra`. */
function headersWith(extra) {
  const headers = { ...extra };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

/**
 * Sends the request; answers the response when it is 2xx, else throws ApiError with the
 * server's `detail` (and logs out on 401).
 */
async function send(path, { method, headers, body, signal }) {
  const hadToken = Boolean(headers.Authorization);
  let response;
  try {
    response = await fetch(`/api${path}`, { method, headers, body, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
  }
  if (response.status === 401 && hadToken) {
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
  return response;
}

/**
 * Calls `/api${path}`. `body` is sent as JSON unless it is FormData. Returns the parsed JSON
 * (or null for 204). Throws ApiError.
 */
export async function api(path, { method = "GET", body, raw = false, signal } = {}) {
  let payload;
  const extra = {};
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    extra["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await send(path, { method, headers: headersWith(extra), body: payload, signal });
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** The lists' page without `limit` (the API's default) and the largest page it answers. */
export const PAGE = 50;
export const PAGE_MAX = 500;

/** `path` (which may already have a query) asking for `limit` items after the first `offset`. */
function pageOf(path, limit, offset) {
  return `${path}${path.includes("?") ? "&" : "?"}limit=${limit}&offset=${offset}`;
}

/**
 * Reads a paginated list (notes, sources: newest `updated` first) one page at a time: each
 * `next()` answers the `limit` items after those read so far; `done` turns true once a page
 * comes back shorter than `limit` (there is no total to ask for). A view that adds items at
 * the top of the list (created there) or removes some calls `shift(+n)` / `shift(-n)` so the
 * next page starts where the shown ones end, without reading everything again.
 */
export function pager(path, { limit = PAGE, signal } = {}) {
  let offset = 0;
  return {
    done: false,
    /** How many items the pages so far covered (the next page's `offset`). */
    get offset() {
      return offset;
    },
    async next() {
      const page = await api(pageOf(path, limit, offset), { signal });
      const items = Array.isArray(page) ? page : [];
      offset += items.length;
      if (items.length < limit) this.done = true;
      return items;
    },
    shift(n) {
      offset = Math.max(0, offset + n);
    },
  };
}

/** Every item of a paginated list, read in pages of `limit` (the largest by default). */
export async function allPages(path, { limit = PAGE_MAX, signal } = {}) {
  const pages = pager(path, { limit, signal });
  const all = [];
  while (!pages.done) all.push(...(await pages.next()));
  return all;
}

/**
 * A server-sent events parser (the WHATWG rules that matter here): feed it text as it
 * arrives, in chunks cut anywhere; it calls `onMessage(data, eventName)` for each event, at
 * the blank line that ends it. `data:` lines of one event are joined with "\n"; comments
 * (`:` lines), `id:` and `retry:` are ignored.
 */
export function sseParser(onMessage) {
  let buffer = "";
  let data = [];
  let name = "";
  const dispatch = () => {
    if (data.length) onMessage(data.join("\n"), name);
    data = [];
    name = "";
  };
  const line = (text) => {
    if (text === "") return dispatch();
    if (text.startsWith(":")) return undefined;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") name = value;
    return undefined;
  };
  return {
    push(chunk) {
      buffer += chunk;
      // A lone "\r" at the end may be the first half of "\r\n": keep it for the next chunk.
      const parts = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = parts.pop();
      for (const part of parts) line(part);
    },
    /** The stream ended: what is left counts as a last event (a server may omit the blank line). */
    end() {
      if (buffer) line(buffer.replace(/\r$/, ""));
      buffer = "";
      dispatch();
    },
  };
}

/** The JSON objects of one event's data; each line on its own when the lines are not one JSON text. */
function parseEvent(data, name) {
  const withType = (value) => (value && typeof value === "object" && !value.type && name ? { ...value, type: name } : value);
  try {
    return [withType(JSON.parse(data))];
  } catch {
    const values = [];
    for (const line of data.split("\n")) {
      try {
        values.push(withType(JSON.parse(line)));
      } catch {
        console.warn("ephitup: an unreadable server-sent event was skipped", line);
      }
    }
    return values;
  }
}

/**
 * POSTs `body` as JSON to `/api${path}` asking for server-sent events and calls
 * `onEvent(object)` for each event's JSON as it arrives (fetch and a stream reader:
 * EventSource can neither POST nor send the bearer token). Resolves when the stream ends;
 * rejects with ApiError on an error status, with an AbortError when `signal` aborts. Should
 * the server answer plain JSON instead of a stream, resolves with that JSON.
 */
export async function stream(path, body, onEvent, { signal } = {}) {
  const headers = headersWith({ "Content-Type": "application/json", Accept: "text/event-stream" });
  const response = await send(path, { method: "POST", headers, body: JSON.stringify(body), signal });
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("text/event-stream")) {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
  const parser = sseParser((data, name) => {
    for (const event of parseEvent(data, name)) onEvent(event);
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
  } catch (e) {
    if (e.name === "AbortError" || signal?.aborted) throw e;
    throw new ApiError(0, "The connection was lost before the answer ended. Try again.");
  } finally {
    reader.releaseLock();
  }
  parser.push(decoder.decode());
  parser.end();
  return null;
}
