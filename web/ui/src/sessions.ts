// The sessions page: the route health strip and a paged list of sessions,
// newest activity first, searchable by id prefix, refreshed live.

import { getJSON, type RoutesAnswer, type SessionInfo, type SessionPage } from "./api";
import { perf, type App, type View } from "./app";
import { ago, bytes, el, errText, parseTime, stamp } from "./util";

const pageSize = 50;
const refreshMs = 2000;

/** The search and paging state, kept while the user visits a session. */
const state = { prefix: "", cursors: [""] as string[], focus: 0 };

export function routeStrip(app: App): View {
  const root = el("section", { class: "routes", "aria-label": "Routes" });
  let stopped = false;
  let timer = 0;
  const load = async () => {
    try {
      const a = await getJSON<RoutesAnswer>("/v1/routes");
      if (stopped) return;
      root.replaceChildren();
      if (a.routes.length === 0 && a.detached.length === 0) {
        root.append(el("span", { class: "muted" }, "No routes: events are only logged."));
      }
      for (const r of a.routes) {
        let health = "ok";
        let label = "ok";
        if (r.breaker_state === "open") [health, label] = ["bad", "breaker open"];
        else if (r.backlog_full) [health, label] = ["bad", "backlog full"];
        else if (r.breaker_state === "half-open") [health, label] = ["warn", "breaker half-open"];
        else if (r.dead_letters > 0) [health, label] = ["warn", "dead letters"];
        else if (r.backlog_events > 0) [health, label] = ["busy", "delivering"];
        const facts = el(
          "span",
          { class: "facts" },
          `backlog ${r.backlog_events} · lag ${r.lag_seconds.toFixed(1)} s · breaker ${r.breaker_state || "none"} · `,
          el("span", { class: "dl-count" }, `${r.dead_letters} dead letters`),
        );
        const body = [el("b", {}, r.name), el("span", { class: "state" }, label), facts];
        const chip = app.can("admin")
          ? el(
              "a",
              {
                class: `route ${health}`,
                href: "#/routes/" + encodeURIComponent(r.name),
                "data-route": r.name,
                "data-scope": "admin",
                title: r.last_error ? "last error: " + r.last_error : "dead letters of " + r.name,
              },
              ...body,
            )
          : el("span", { class: `route ${health}`, "data-route": r.name, title: r.last_error ?? "" }, ...body);
        root.append(chip);
      }
      for (const d of a.detached) {
        root.append(el("span", { class: "route warn", "data-route": d }, el("b", {}, d), el("span", { class: "state" }, "detached")));
      }
    } catch (e) {
      if (!stopped) root.replaceChildren(el("span", { class: "error" }, "Routes: " + errText(e)));
    }
    if (!stopped) timer = window.setTimeout(load, 3000);
  };
  void load();
  return {
    root,
    dispose() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export function sessionsView(app: App): View {
  const t0 = performance.now();
  const strip = routeStrip(app);
  const search = el("input", {
    id: "search",
    type: "search",
    placeholder: "Session id starts with…  ( / )",
    "aria-label": "Search sessions by id prefix",
    autocomplete: "off",
    value: state.prefix,
  });
  const info = el("span", { class: "muted", id: "sessions-total" });
  const newer = el("button", { id: "newer", type: "button" }, "← Newer");
  const older = el("button", { id: "older", type: "button" }, "Older →");
  const tbody = el("tbody", { id: "sessions" });
  const table = el(
    "table",
    { class: "sessions", "aria-label": "Sessions" },
    el(
      "thead",
      {},
      el("tr", {}, el("th", {}, "Session"), el("th", {}, "Last activity"), el("th", {}, "Events"), el("th", {}, "Size"), el("th", {}, "First")),
    ),
    tbody,
  );
  const msg = el("p", { class: "error", role: "alert" });
  const root = el(
    "main",
    { class: "page sessions-page" },
    strip.root,
    el("div", { class: "toolbar" }, search, info, el("span", { class: "grow" }), newer, older),
    msg,
    table,
  );

  let stopped = false;
  let timer = 0;
  let ticker = 0;
  let ctrl: AbortController | null = null;
  let rows: { info: SessionInfo; tr: HTMLTableRowElement; last: HTMLElement }[] = [];
  let next = "";

  const open = (id: string) => {
    app.go("#/s/" + encodeURIComponent(id));
  };

  const render = (page: SessionPage) => {
    const hadFocus = tbody.contains(document.activeElement);
    next = page.next_cursor ?? "";
    info.textContent = `${page.total} session${page.total === 1 ? "" : "s"}`;
    newer.disabled = state.cursors.length <= 1;
    older.disabled = next === "";
    rows = page.sessions.map((s, i) => {
      const last = el("td", { class: "last", title: s.last }, ago(parseTime(s.last)));
      const tr = el(
        "tr",
        {
          tabindex: i === state.focus ? 0 : -1,
          "data-id": s.id,
          onclick: () => open(s.id),
          onfocus: () => {
            state.focus = i;
            for (const r of rows) r.tr.tabIndex = r.tr === tr ? 0 : -1;
          },
        },
        el("td", { class: "id" }, el("a", { href: "#/s/" + encodeURIComponent(s.id), tabindex: -1 }, s.id)),
        last,
        el("td", { class: "num" }, String(s.count)),
        el("td", { class: "num" }, bytes(s.bytes)),
        el("td", { class: "muted" }, stamp(parseTime(s.first))),
      );
      return { info: s, tr, last };
    });
    if (state.focus >= rows.length) state.focus = Math.max(0, rows.length - 1);
    tbody.replaceChildren(...rows.map((r) => r.tr));
    if (rows.length === 0) {
      tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, state.prefix ? "No session id starts with that." : "No sessions yet.")));
    }
    if (hadFocus && rows[state.focus]) rows[state.focus].tr.focus();
    if (perf.sessionsFirstPaint === undefined) {
      perf.sessionsFirstPaint = performance.now() - t0; // from the view's start
      perf.sessionsPaintAt = performance.now(); // from the navigation's start
    }
  };

  const load = async () => {
    clearTimeout(timer);
    ctrl?.abort();
    const c = new AbortController();
    ctrl = c;
    const q = new URLSearchParams({ limit: String(pageSize) });
    const cur = state.cursors[state.cursors.length - 1];
    if (cur) q.set("cursor", cur);
    if (state.prefix) q.set("prefix", state.prefix);
    try {
      const page = await getJSON<SessionPage>("/v1/sessions?" + q.toString(), c.signal);
      if (stopped || c.signal.aborted) return;
      msg.textContent = "";
      render(page);
    } catch (e) {
      if (c.signal.aborted) return;
      msg.textContent = "Sessions: " + errText(e);
    }
    if (!stopped && !c.signal.aborted) timer = window.setTimeout(load, refreshMs);
  };

  let debounce = 0;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      state.prefix = search.value.trim();
      state.cursors = [""];
      state.focus = 0;
      void load();
    }, 150);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && rows.length > 0) {
      e.preventDefault();
      rows[Math.min(state.focus, rows.length - 1)].tr.focus();
    }
  });
  newer.addEventListener("click", () => {
    if (state.cursors.length > 1) state.cursors.pop();
    state.focus = 0;
    void load();
  });
  older.addEventListener("click", () => {
    if (!next) return;
    state.cursors.push(next);
    state.focus = 0;
    void load();
  });
  tbody.addEventListener("keydown", (e) => {
    const i = state.focus;
    let j = i;
    switch (e.key) {
      case "ArrowDown":
      case "j":
        j = Math.min(rows.length - 1, i + 1);
        break;
      case "ArrowUp":
      case "k":
        if (i === 0) {
          e.preventDefault();
          search.focus();
          return;
        }
        j = i - 1;
        break;
      case "Home":
        j = 0;
        break;
      case "End":
        j = rows.length - 1;
        break;
      case "Enter":
        if (rows[i]) open(rows[i].info.id);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    rows[j]?.tr.focus();
  });
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "/" && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
      search.select();
    }
  };
  document.addEventListener("keydown", onKey);
  ticker = window.setInterval(() => {
    const now = Date.now();
    for (const r of rows) r.last.textContent = ago(parseTime(r.info.last), now);
  }, 1000);
  void load();
  return {
    root,
    dispose() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(debounce);
      clearInterval(ticker);
      ctrl?.abort();
      strip.dispose();
      document.removeEventListener("keydown", onKey);
    },
  };
}
