// A route's dead letters with their reasons, and redrive (admin scope).

import { getJSON, postJSON, type DeadLetter, type RedriveResult } from "./api";
import type { App, View } from "./app";
import { jsonView } from "./jsonview";
import { el, errText, parseTime, stamp } from "./util";
import { routeStrip } from "./sessions";

export function deadLettersView(app: App, route: string): View {
  const strip = routeStrip(app);
  const msg = el("p", { id: "dl-message", role: "status" });
  const tbody = el("tbody", { id: "dead-letters" });
  const redrive = app.can("admin")
    ? el("button", { type: "button", id: "redrive", class: "danger", "data-scope": "admin" }, "Redrive all")
    : null;
  const root = el(
    "main",
    { class: "page dl-page" },
    strip.root,
    el("div", { class: "toolbar" }, el("a", { href: "#/", class: "back" }, "← Sessions"), el("h1", {}, `Dead letters of ${route}`), el("span", { class: "grow" }), redrive),
    msg,
    el(
      "table",
      { class: "dead" },
      el("thead", {}, el("tr", {}, el("th", {}, "Seq"), el("th", {}, "At"), el("th", {}, "Kind"), el("th", {}, "Attempts"), el("th", {}, "Reason"), el("th", {}, "Event"))),
      tbody,
    ),
  );
  const base = "/v1/routes/" + encodeURIComponent(route);
  let stopped = false;

  const load = async () => {
    if (!app.can("admin")) {
      msg.textContent = "Dead letters need a token with the admin scope.";
      return;
    }
    try {
      const a = await getJSON<{ dead_letters: DeadLetter[] }>(base + "/dead-letters");
      if (stopped) return;
      tbody.replaceChildren(
        ...a.dead_letters.map((d) =>
          el(
            "tr",
            { "data-seq": d.seq ?? "" },
            el("td", { class: "num" }, d.seq !== undefined ? String(d.seq) : "–"),
            el("td", {}, stamp(parseTime(d.at))),
            el("td", {}, d.kind ?? ""),
            el("td", { class: "num" }, String(d.attempts ?? "")),
            el("td", { class: "reason" }, d.error),
            el("td", {}, d.event !== undefined ? jsonView(d.event, 0) : jsonView(d.dropped ?? d.damaged ?? null, 0)),
          ),
        ),
      );
      if (a.dead_letters.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No dead letters.")));
      if (redrive) redrive.disabled = a.dead_letters.length === 0;
    } catch (e) {
      if (!stopped) msg.textContent = errText(e);
    }
  };

  redrive?.addEventListener("click", async () => {
    redrive.disabled = true;
    msg.textContent = "Redriving…";
    try {
      const r = await postJSON<RedriveResult>(base + "/redrive");
      msg.textContent = `Redrive: ${r.delivered} delivered, ${r.failed} failed again, ${r.skipped} skipped.`;
    } catch (e) {
      msg.textContent = "Redrive: " + errText(e);
    }
    await load();
  });
  void load();
  return {
    root,
    dispose() {
      stopped = true;
      strip.dispose();
    },
  };
}
