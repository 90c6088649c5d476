// A collapsible view of a JSON value: objects and arrays are <details>
// elements, open down to a depth, so the keyboard (Tab, Enter) works.

import { el } from "./util";

export function jsonView(v: unknown, openDepth = 2): HTMLElement {
  return el("div", { class: "json" }, node(v, openDepth, 0));
}

function scalar(v: unknown): HTMLElement {
  if (v === null) return el("span", { class: "j-null" }, "null");
  switch (typeof v) {
    case "string":
      return el("span", { class: "j-str" }, JSON.stringify(v));
    case "number":
      return el("span", { class: "j-num" }, String(v));
    case "boolean":
      return el("span", { class: "j-bool" }, String(v));
  }
  return el("span", {}, String(v));
}

function node(v: unknown, openDepth: number, depth: number, key?: string): HTMLElement {
  const label = key !== undefined ? el("span", { class: "j-key" }, JSON.stringify(key) + ": ") : null;
  if (v === null || typeof v !== "object") {
    return el("div", { class: "j-row" }, label, scalar(v));
  }
  const isArr = Array.isArray(v);
  const entries: [string, unknown][] = isArr
    ? (v as unknown[]).map((x, i) => [String(i), x])
    : Object.entries(v as Record<string, unknown>);
  const [open, close] = isArr ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return el("div", { class: "j-row" }, label, open + close);
  }
  const summary = el(
    "summary",
    {},
    label,
    open,
    el("span", { class: "j-count" }, ` ${entries.length} ${isArr ? "items" : "keys"} `),
    close,
  );
  const d = el("details", { class: "j-node" }, summary);
  if (depth < openDepth) d.open = true;
  // Children are built when first opened, so a large value costs nothing closed.
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    const body = el("div", { class: "j-body" });
    for (const [k, x] of entries.slice(0, 2000)) {
      body.append(node(x, openDepth, depth + 1, isArr ? undefined : k));
    }
    if (entries.length > 2000) body.append(el("div", { class: "j-more" }, `… ${entries.length - 2000} more`));
    d.append(body);
  };
  if (d.open) build();
  d.addEventListener("toggle", build);
  return d;
}
