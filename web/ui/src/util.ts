// Small DOM and formatting helpers.

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** el builds an element: attributes ("on…" keys become listeners) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      e.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      e.className = String(v);
    } else if (k === "style") {
      e.style.cssText = String(v); // through the CSSOM: the CSP refuses style attributes
    } else if (v === true) {
      e.setAttribute(k, "");
    } else {
      e.setAttribute(k, String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c);
  }
  return e;
}

/** typeColour gives each event type its own stable colour. */
export function typeColour(t: string): string {
  let h = 2166136261;
  for (let i = 0; i < t.length; i++) {
    h ^= t.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  const hue = (h >>> 0) % 360;
  return `hsl(${hue} 55% 40%)`;
}

const timeRE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** parseTime reads an RFC 3339 time (with up to nanoseconds) as milliseconds since the epoch. */
export function parseTime(s: string): number {
  const m = timeRE.exec(s);
  if (!m) return Date.parse(s);
  const base = Date.parse(m[1] + m[3]);
  return m[2] ? base + parseFloat("0" + m[2]) * 1000 : base;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** clock formats ms as HH:MM:SS.mmm in UTC. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** stamp formats ms as YYYY-MM-DD HH:MM:SS UTC. */
export function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

export function bytes(n: number): string {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
  if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + " MiB";
  return (n / 1024 / 1024 / 1024).toFixed(1) + " GiB";
}

/** ago formats the time since ms, e.g. "4 s ago". */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** toLocalInput formats ms for a datetime-local input (UTC). */
export function toInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** fromInput reads a datetime-local value as UTC; NaN when empty. */
export function fromInput(v: string): number {
  if (!v) return NaN;
  return Date.parse(v.length === 16 ? v + ":00Z" : v + "Z");
}
