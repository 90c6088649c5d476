// The HTTP API: the bearer token (kept in this tab's session storage, sent
// only in the Authorization header), JSON requests, NDJSON and SSE streams
// read with fetch so that they carry the header too.

const tokenKey = "eventgate.token";

export function getToken(): string {
  return sessionStorage.getItem(tokenKey) ?? "";
}

export function setToken(t: string): void {
  sessionStorage.setItem(tokenKey, t);
}

export function clearToken(): void {
  sessionStorage.removeItem(tokenKey);
}

/** An answer other than 2xx, with the server's error message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  const t = getToken();
  if (t) h.set("Authorization", "Bearer " + t);
  return h;
}

/** fetch with the token; throws HttpError unless the answer is 2xx. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(path, { ...init, headers: headers(init.headers), cache: "no-store" });
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    try {
      const body = (await r.json()) as { error?: string };
      if (body.error) msg = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new HttpError(r.status, msg);
  }
  return r;
}

export async function getJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await request(path, { signal });
  return (await r.json()) as T;
}

export async function postJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await request(path, { method: "POST", signal });
  return (await r.json()) as T;
}

/**
 * readLines calls onLine for each line of r's body, with its length in
 * bytes, as the body arrives. It returns when the body ends.
 */
export async function readLines(
  r: Response,
  onLine: (line: string, bytes: number) => void,
  onChunk?: () => void,
): Promise<void> {
  if (!r.body) return;
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let rest: Uint8Array | null = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let buf: Uint8Array = value;
    if (rest) {
      const b = new Uint8Array(rest.length + value.length);
      b.set(rest);
      b.set(value, rest.length);
      buf = b;
      rest = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && buf[end - 1] === 13) end--;
      onLine(dec.decode(buf.subarray(start, end)), nl - start);
      start = nl + 1;
    }
    if (start < buf.length) rest = buf.slice(start);
    onChunk?.();
  }
  if (rest && rest.length > 0) onLine(dec.decode(rest), rest.length);
  onChunk?.();
}

/** One Server-Sent Event. */
export interface SSEMessage {
  id: string;
  event: string;
  data: string;
}

/**
 * streamSSE reads the SSE stream at path, calling onMessage for each event,
 * until signal aborts. A stream that ends or fails is opened again after a
 * second with Last-Event-ID, so no event is lost or repeated. onState tells
 * whether the stream is connected.
 */
export async function streamSSE(
  path: string,
  signal: AbortSignal,
  onMessage: (m: SSEMessage) => void,
  onState?: (connected: boolean, err?: string) => void,
): Promise<void> {
  let lastID = "";
  while (!signal.aborted) {
    try {
      const h: HeadersInit = { Accept: "text/event-stream" };
      if (lastID) (h as Record<string, string>)["Last-Event-ID"] = lastID;
      const r = await request(path, { headers: h, signal });
      onState?.(true);
      let id = "";
      let event = "";
      let data: string[] = [];
      await readLines(r, (line) => {
        if (line === "") {
          if (data.length > 0 || event) {
            if (id) lastID = id;
            onMessage({ id, event: event || "message", data: data.join("\n") });
          }
          id = "";
          event = "";
          data = [];
          return;
        }
        if (line.startsWith(":")) return;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "id") id = value;
        else if (field === "event") event = value;
        else if (field === "data") data.push(value);
      });
      onState?.(false);
    } catch (e) {
      if (signal.aborted) return;
      onState?.(false, e instanceof Error ? e.message : String(e));
      if (e instanceof HttpError && (e.status === 401 || e.status === 403 || e.status === 404)) return;
    }
    await new Promise<void>((res) => {
      const t = setTimeout(res, 1000);
      signal.addEventListener("abort", () => {
        clearTimeout(t);
        res();
      });
    });
  }
}

// The shapes of the API's answers.

export interface Whoami {
  auth: boolean;
  name: string;
  scopes: string[];
}

export interface SessionInfo {
  id: string;
  first: string;
  last: string;
  count: number;
  bytes: number;
  types?: string[];
}

export interface SessionPage {
  sessions: SessionInfo[];
  next_cursor?: string;
  total: number;
}

export interface RouteInfo {
  name: string;
  delivered: number;
  failed_attempts: number;
  dead_lettered: number;
  dropped: number;
  dead_letters: number;
  backlog_events: number;
  backlog_bytes: number;
  in_flight: number;
  lag_seconds: number;
  backlog_full: boolean;
  breaker_state?: string;
  last_error?: string;
  last_error_at?: string;
}

export interface RoutesAnswer {
  routes: RouteInfo[];
  detached: string[];
}

export interface DeadLetter {
  seq?: number;
  event?: unknown;
  error: string;
  kind?: string;
  attempts?: number;
  first_attempt?: string;
  at: string;
  dropped?: unknown;
  damaged?: unknown;
}

export interface RedriveResult {
  delivered: number;
  failed: number;
  skipped: number;
}
