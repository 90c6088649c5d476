// The shell: sign-in with a bearer token, the header, and the hash router
// (#/ sessions, #/s/<id> one session, #/routes/<name> dead letters).

import { clearToken, getJSON, getToken, HttpError, setToken, type Whoami } from "./api";
import type { App, View } from "./app";
import { deadLettersView } from "./deadletters";
import { sessionsView } from "./sessions";
import { sessionView } from "./timeline";
import { el, errText } from "./util";

const mount = document.getElementById("app")!;
let current: View | null = null;

function show(v: View) {
  current?.dispose();
  current = v;
  mount.replaceChildren(header(), v.root);
}

let app: App | null = null;

function header(): HTMLElement {
  const who = app?.who;
  const signOut =
    who?.auth &&
    el(
      "button",
      {
        type: "button",
        id: "sign-out",
        onclick: () => {
          clearToken();
          app = null;
          void start();
        },
      },
      "Sign out",
    );
  return el(
    "header",
    { class: "top" },
    el("a", { href: "#/", class: "brand" }, "eventgate"),
    el("span", { class: "grow" }),
    who && el("span", { class: "who", id: "who", "data-scopes": who.scopes.join(" ") }, who.auth ? `${who.name} · ${who.scopes.join(", ")}` : "no authentication"),
    signOut,
  );
}

function login(message = ""): void {
  current?.dispose();
  current = null;
  const input = el("input", {
    id: "token",
    type: "password",
    autocomplete: "off",
    required: true,
    placeholder: "bearer token",
    "aria-label": "Bearer token",
  });
  const err = el("p", { class: "error", id: "login-error", role: "alert" }, message);
  const form = el(
    "form",
    { class: "login", id: "login" },
    el("h1", {}, "eventgate"),
    el("label", { for: "token" }, "Token"),
    input,
    el("button", { type: "submit" }, "Sign in"),
    err,
    el("p", { class: "muted" }, "The token is kept in this tab only (session storage) and sent in the Authorization header."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    setToken(t);
    void start();
  });
  mount.replaceChildren(form);
  input.focus();
}

function route(): void {
  if (!app) return;
  const h = location.hash.replace(/^#/, "");
  let m: RegExpMatchArray | null;
  if ((m = h.match(/^\/s\/(.+)$/))) {
    show(sessionView(app, decodeURIComponent(m[1])));
  } else if ((m = h.match(/^\/routes\/(.+)$/))) {
    show(deadLettersView(app, decodeURIComponent(m[1])));
  } else {
    show(sessionsView(app));
  }
}

async function start(): Promise<void> {
  let who: Whoami;
  try {
    who = await getJSON<Whoami>("/v1/whoami");
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      const had = getToken() !== "";
      clearToken();
      login(had ? "That token is not valid." : "");
      return;
    }
    mount.replaceChildren(el("p", { class: "error" }, "Cannot reach the server: " + errText(e)));
    return;
  }
  const scopes = new Set(who.scopes);
  app = {
    who,
    can: (s) => scopes.has("admin") || scopes.has(s),
    go: (h) => {
      if (location.hash === h) route();
      else location.hash = h;
    },
  };
  route();
}

window.addEventListener("hashchange", route);
void start();
