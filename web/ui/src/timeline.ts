// One session: a virtualized timeline of its events, filters by type and
// time range, a JSON view of the selected event, live follow over SSE with a
// "new events" marker, and replay over the recorded timing.

import { readLines, request, streamSSE } from "./api";
import { perf, type App, type View } from "./app";
import { jsonView } from "./jsonview";
import { bytes, clock, el, errText, fromInput, parseTime, stamp, toInput, typeColour } from "./util";

/** One event of the session, as the timeline keeps it. */
interface Ev {
  seq: number;
  type: string;
  time: string;
  t: number; // ms since the epoch
  size: number; // bytes of its JSON form
  raw: string; // its JSON form
}

interface Parsed {
  seq: number;
  type?: string;
  time: string;
  data?: unknown;
  meta?: Record<string, string>;
}

const rowH = 26;
const overscan = 10;
const speeds = [0.5, 1, 2, 4, 10];

function toEv(line: string, size: number): Ev | null {
  if (!line) return null;
  try {
    const p = JSON.parse(line) as Parsed;
    if (typeof p.seq !== "number") return null; // a damage record
    return { seq: p.seq, type: p.type ?? "", time: p.time, t: parseTime(p.time), size, raw: line };
  } catch {
    return null;
  }
}

/** preview is the start of the event's data, on one line. */
function preview(raw: string): string {
  try {
    const s = JSON.stringify((JSON.parse(raw) as Parsed).data ?? null);
    return s.length > 160 ? s.slice(0, 160) + "…" : s;
  } catch {
    return "";
  }
}

export function sessionView(app: App, id: string): View {
  const t0 = performance.now();
  const abort = new AbortController();
  const events: Ev[] = [];
  const types = new Set<string>();
  let view: number[] = []; // indices into events that pass the filters
  let selected = -1; // index into view
  let follow = true; // keep the newest event in sight
  let unseen = 0; // events that arrived while scrolled up
  let typeFilter = "";
  let since = NaN;
  let until = NaN;
  let loaded = false;

  // Replay: events[0..shown) are visible.
  let replaying = false;
  let shown = Infinity;

  const back = el("a", { href: "#/", class: "back" }, "← Sessions");
  const title = el("h1", {}, id);
  const status = el("span", { class: "muted", id: "timeline-status" }, "loading…");
  const live = el("span", { class: "live off", id: "live", title: "live follow" }, "live");
  const typeSel = el("select", { id: "type-filter", "aria-label": "Filter by type" }, el("option", { value: "" }, "All types"));
  const sinceIn = el("input", { id: "since", type: "datetime-local", step: "1", "aria-label": "From (UTC)" });
  const untilIn = el("input", { id: "until", type: "datetime-local", step: "1", "aria-label": "Until (UTC)" });
  const clearBtn = el("button", { type: "button", id: "clear-filters" }, "Clear");
  const replayBtn = el("button", { type: "button", id: "replay" }, "Replay");
  const del = app.can("admin")
    ? el("button", { type: "button", id: "delete-session", class: "danger", "data-scope": "admin" }, "Delete session")
    : null;

  const spacer = el("div", { class: "spacer" });
  const list = el(
    "div",
    { class: "vlist", id: "timeline", tabindex: 0, role: "listbox", "aria-label": "Events" },
    spacer,
  );
  const marker = el("button", { type: "button", class: "new-events", id: "new-events", hidden: true });
  const detail = el("aside", { class: "detail", id: "detail", "aria-label": "Event" }, el("p", { class: "muted" }, "Select an event (↑ ↓, Enter)."));

  // Replay controls.
  const play = el("button", { type: "button", id: "play" }, "▶ Play");
  const seek = el("input", { id: "seek", type: "range", min: 0, max: 1000, value: 0, "aria-label": "Position" });
  const speedSel = el("select", { id: "speed", "aria-label": "Speed" });
  for (const s of speeds) speedSel.append(el("option", { value: String(s), selected: s === 1 }, s + "×"));
  const rpos = el("span", { class: "muted", id: "replay-pos" });
  const rstat = el("span", { id: "replay-status" });
  const exitReplay = el("button", { type: "button", id: "exit-replay" }, "Exit replay");
  const replayBar = el("div", { class: "toolbar replay", id: "replay-bar", hidden: true }, play, seek, speedSel, rpos, rstat, el("span", { class: "grow" }), exitReplay);

  const root = el(
    "main",
    { class: "page session-page" },
    el("div", { class: "toolbar" }, back, title, status, live, el("span", { class: "grow" }), del),
    el(
      "div",
      { class: "toolbar filters" },
      el("label", {}, "Type ", typeSel),
      el("label", {}, "From ", sinceIn),
      el("label", {}, "Until ", untilIn),
      clearBtn,
      el("span", { class: "grow" }),
      replayBtn,
    ),
    replayBar,
    el("div", { class: "split" }, el("div", { class: "listwrap" }, list, marker), detail),
  );

  // ---- the virtualized list ----

  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };

  const visibleCount = () => {
    if (!replaying) return view.length;
    // view is sorted by index; count those below shown
    let lo = 0;
    let hi = view.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (view[m] < shown) lo = m + 1;
      else hi = m;
    }
    return lo;
  };

  let rendered = new Map<number, HTMLElement>();
  const render = () => {
    const n = visibleCount();
    spacer.style.height = n * rowH + "px";
    if (follow && n > 0) list.scrollTop = n * rowH;
    const top = list.scrollTop;
    const h = list.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowH) - overscan);
    const last = Math.min(n, Math.ceil((top + h) / rowH) + overscan);
    const next = new Map<number, HTMLElement>();
    for (let i = first; i < last; i++) {
      const ev = events[view[i]];
      let row = rendered.get(view[i]);
      if (!row) {
        row = el(
          "div",
          { class: "row", role: "option", "data-seq": ev.seq, "data-type": ev.type, id: "ev-" + ev.seq },
          el("span", { class: "seq" }, String(ev.seq)),
          el("span", { class: "time", title: ev.time }, clock(ev.t)),
          el("span", { class: "type", style: `background:${typeColour(ev.type)}` }, ev.type || "(none)"),
          el("span", { class: "size" }, bytes(ev.size)),
          el("span", { class: "preview" }, preview(ev.raw)),
        );
        list.append(row);
      }
      row.style.top = i * rowH + "px";
      row.classList.toggle("sel", i === selected);
      row.setAttribute("aria-selected", String(i === selected));
      row.dataset.index = String(i);
      next.set(view[i], row);
    }
    for (const [k, row] of rendered) if (!next.has(k)) row.remove();
    rendered = next;
    if (selected >= 0 && selected < n) list.setAttribute("aria-activedescendant", "ev-" + events[view[selected]].seq);
    else list.removeAttribute("aria-activedescendant");
    marker.hidden = unseen === 0;
    marker.textContent = `↓ ${unseen} new event${unseen === 1 ? "" : "s"}`;
    const all = events.length;
    status.textContent = (loaded ? "" : "loading… ") + (n === all ? `${all} events` : `${n} of ${all} events`);
    status.dataset.count = String(n);
  };

  list.addEventListener("scroll", () => {
    const n = visibleCount();
    const atBottom = list.scrollTop + list.clientHeight >= n * rowH - rowH;
    if (atBottom) {
      follow = true;
      unseen = 0;
    } else if (!programmatic) {
      follow = false;
    }
    programmatic = false;
    schedule();
  });
  let programmatic = false;

  const passes = (e: Ev) =>
    (!typeFilter || e.type === typeFilter) && (isNaN(since) || e.t >= since) && (isNaN(until) || e.t < until);

  const refilter = () => {
    const keep = selected >= 0 && selected < view.length ? view[selected] : -1;
    view = [];
    for (let i = 0; i < events.length; i++) if (passes(events[i])) view.push(i);
    selected = keep >= 0 ? view.indexOf(keep) : -1;
    for (const row of rendered.values()) row.remove();
    rendered.clear();
    follow = selected < 0;
    unseen = 0;
    if (!follow) scrollTo(selected);
    schedule();
  };

  const addType = (t: string) => {
    if (types.has(t)) return;
    types.add(t);
    const opts = [...types].sort();
    const cur = typeSel.value;
    typeSel.replaceChildren(el("option", { value: "" }, "All types"), ...opts.map((x) => el("option", { value: x }, x || "(none)")));
    typeSel.value = cur;
  };

  const add = (e: Ev, isLive: boolean) => {
    if (events.length > 0 && e.seq <= events[events.length - 1].seq) return;
    events.push(e);
    addType(e.type);
    if (passes(e)) {
      view.push(events.length - 1);
      if (isLive && !follow && (!replaying || events.length - 1 < shown)) unseen++;
    }
  };

  const scrollTo = (i: number) => {
    const y = i * rowH;
    if (y < list.scrollTop) {
      programmatic = true;
      list.scrollTop = y;
    } else if (y + rowH > list.scrollTop + list.clientHeight) {
      programmatic = true;
      list.scrollTop = y + rowH - list.clientHeight;
    }
  };

  const showDetail = () => {
    if (selected < 0 || selected >= view.length) return;
    const ev = events[view[selected]];
    let p: Parsed;
    try {
      p = JSON.parse(ev.raw) as Parsed;
    } catch (e) {
      detail.replaceChildren(el("p", { class: "error" }, errText(e)));
      return;
    }
    detail.replaceChildren(
      el("h2", {}, el("span", { class: "type", style: `background:${typeColour(ev.type)}` }, ev.type || "(none)"), ` #${ev.seq}`),
      el("p", { class: "muted" }, `${ev.time} · ${bytes(ev.size)}`),
      el("h3", {}, "data"),
      jsonView(p.data ?? null),
      el("h3", {}, "meta"),
      jsonView(p.meta ?? {}),
    );
  };

  const select = (i: number) => {
    const n = visibleCount();
    if (n === 0) return;
    selected = Math.max(0, Math.min(n - 1, i));
    follow = selected === n - 1 && follow;
    scrollTo(selected);
    showDetail();
    schedule();
  };

  list.addEventListener("click", (e) => {
    const row = (e.target as HTMLElement).closest(".row") as HTMLElement | null;
    if (!row) return;
    list.focus();
    select(Number(row.dataset.index));
  });
  list.addEventListener("keydown", (e) => {
    const page = Math.max(1, Math.floor(list.clientHeight / rowH) - 1);
    const cur = selected < 0 ? (e.key === "ArrowUp" || e.key === "k" ? visibleCount() : -1) : selected;
    switch (e.key) {
      case "ArrowDown":
      case "j":
        select(cur + 1);
        break;
      case "ArrowUp":
      case "k":
        select(cur - 1);
        break;
      case "PageDown":
        select(cur + page);
        break;
      case "PageUp":
        select(cur - page);
        break;
      case "Home":
        select(0);
        break;
      case "End":
        select(visibleCount() - 1);
        break;
      case "Enter":
        if (selected >= 0) {
          const d = detail.querySelector("details");
          if (d) d.open = !d.open;
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  });
  marker.addEventListener("click", () => {
    follow = true;
    unseen = 0;
    schedule();
    list.focus();
  });

  // ---- filters ----

  typeSel.addEventListener("change", () => {
    typeFilter = typeSel.value;
    refilter();
  });
  const onRange = () => {
    since = fromInput(sinceIn.value);
    until = fromInput(untilIn.value);
    refilter();
  };
  sinceIn.addEventListener("change", onRange);
  untilIn.addEventListener("change", onRange);
  clearBtn.addEventListener("click", () => {
    typeSel.value = "";
    sinceIn.value = "";
    untilIn.value = "";
    typeFilter = "";
    since = until = NaN;
    refilter();
  });

  // ---- replay ----

  let rel: number[] = []; // ms from the first event, never decreasing
  let pos = 0; // ms of recorded time
  let playing = false;
  let wallStart = 0;
  let posStart = 0;
  let timer = 0;
  let runStart = -1; // performance.now() when a run from the start began

  const speed = () => Number(speedSel.value);
  const duration = () => (rel.length ? rel[rel.length - 1] : 0);
  const countAt = (p: number) => {
    let lo = 0;
    let hi = rel.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (rel[m] <= p) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const updateReplayUI = () => {
    const d = duration();
    seek.value = String(d > 0 ? Math.round((pos / d) * 1000) : shown >= rel.length ? 1000 : 0);
    rpos.textContent = `${(pos / 1000).toFixed(2)} s / ${(d / 1000).toFixed(2)} s · ${Math.min(shown, rel.length)} of ${rel.length}`;
    play.textContent = playing ? "❚❚ Pause" : "▶ Play";
  };
  const tick = () => {
    if (!playing) return;
    const now = performance.now();
    pos = Math.min(duration(), posStart + (now - wallStart) * speed());
    shown = countAt(pos);
    if (shown >= rel.length) {
      playing = false;
      pos = duration();
      if (runStart >= 0) {
        const ms = now - runStart;
        rstat.dataset.elapsedMs = ms.toFixed(1);
        rstat.textContent = `played in ${(ms / 1000).toFixed(2)} s`;
        perf.replayMs = ms;
        runStart = -1;
      }
    } else {
      const wait = (rel[shown] - pos) / speed();
      timer = window.setTimeout(tick, Math.max(0, wait));
    }
    follow = true;
    updateReplayUI();
    render();
  };
  const startPlay = () => {
    if (rel.length === 0) return;
    if (shown >= rel.length) {
      pos = 0;
      shown = 0;
    }
    playing = true;
    wallStart = performance.now();
    posStart = pos;
    runStart = pos === 0 ? wallStart : -1;
    rstat.textContent = "";
    delete rstat.dataset.elapsedMs;
    tick();
  };
  const pause = () => {
    playing = false;
    clearTimeout(timer);
    runStart = -1;
    updateReplayUI();
  };
  const enterReplay = () => {
    replaying = true;
    rel = [];
    const base = events.length ? events[0].t : 0;
    let prev = 0;
    for (const e of events) {
      // to the microsecond, so float error does not move an event past its time
      prev = Math.max(prev, Math.round((e.t - base) * 1000) / 1000);
      rel.push(prev);
    }
    pos = 0;
    shown = 0;
    selected = -1;
    follow = true;
    unseen = 0;
    replayBar.hidden = false;
    replayBtn.hidden = true;
    for (const row of rendered.values()) row.remove();
    rendered.clear();
    updateReplayUI();
    render();
    play.focus();
  };
  const leaveReplay = () => {
    pause();
    replaying = false;
    shown = Infinity;
    replayBar.hidden = true;
    replayBtn.hidden = false;
    follow = true;
    schedule();
    replayBtn.focus();
  };
  replayBtn.addEventListener("click", enterReplay);
  exitReplay.addEventListener("click", leaveReplay);
  play.addEventListener("click", () => (playing ? pause() : startPlay()));
  speedSel.addEventListener("change", () => {
    if (playing) {
      posStart = pos;
      wallStart = performance.now();
      runStart = -1;
      clearTimeout(timer);
      tick();
    }
  });
  seek.addEventListener("input", () => {
    const was = playing;
    const to = (Number(seek.value) / 1000) * duration();
    pause();
    pos = to;
    shown = countAt(pos);
    follow = true;
    updateReplayUI();
    render();
    if (was) {
      playing = true;
      wallStart = performance.now();
      posStart = pos;
      tick();
    }
  });

  // ---- delete (admin) ----

  del?.addEventListener("click", async () => {
    if (!confirm(`Delete session ${id} and all its events?`)) return;
    try {
      await request("/v1/sessions/" + encodeURIComponent(id), { method: "DELETE" });
      app.go("#/");
    } catch (e) {
      status.textContent = "delete: " + errText(e);
    }
  });

  const onKey = (e: KeyboardEvent) => {
    const tag = (document.activeElement?.tagName ?? "").toLowerCase();
    if (e.key === "Escape" && tag !== "input" && tag !== "select") {
      if (replaying) leaveReplay();
      else app.go("#/");
    }
  };
  document.addEventListener("keydown", onKey);

  // ---- loading and following ----

  const path = "/v1/sessions/" + encodeURIComponent(id);
  const run = async () => {
    try {
      const r = await request(path + "/events?format=ndjson", { signal: abort.signal });
      let firstRows = false;
      await readLines(
        r,
        (line, size) => {
          const e = toEv(line, size);
          if (e) add(e, false);
        },
        () => {
          if (!firstRows && events.length > 0) {
            firstRows = true;
            render();
            perf.timelineFirstRows = performance.now() - t0;
            perf.timelineStartAt = t0;
          } else {
            schedule();
          }
        },
      );
      loaded = true;
      if (events.length > 0) {
        sinceIn.placeholder = toInput(events[0].t);
        untilIn.placeholder = toInput(events[events.length - 1].t);
        title.title = `${stamp(events[0].t)} – ${stamp(events[events.length - 1].t)}`;
      }
      render();
      perf.timelineLoaded = performance.now() - t0;
      root.dataset.loaded = "1";
    } catch (e) {
      if (abort.signal.aborted) return;
      status.textContent = errText(e);
      status.classList.add("error");
      return;
    }
    const after = events.length ? events[events.length - 1].seq : 0;
    await streamSSE(
      path + "/stream?after_seq=" + after,
      abort.signal,
      (m) => {
        if (m.event === "error") return;
        const e = toEv(m.data, new TextEncoder().encode(m.data).length);
        if (!e) return;
        add(e, true);
        if (replaying) rel.push(Math.max(duration(), Math.round((e.t - events[0].t) * 1000) / 1000));
        schedule();
      },
      (ok, err) => {
        live.classList.toggle("off", !ok);
        live.title = ok ? "following live" : "not connected" + (err ? ": " + err : "");
      },
    );
  };
  void run();

  return {
    root,
    dispose() {
      abort.abort();
      clearTimeout(timer);
      document.removeEventListener("keydown", onKey);
    },
  };
}
