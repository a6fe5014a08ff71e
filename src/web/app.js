// The dashboard's shell: hash routes (#/releases/ID), the session line, live polling, focus on navigation.
import { ApiError, forgetToken, get, storedToken } from "./api.js";
import { h, replaceContent } from "./dom.js";
import { renderArtifact, renderArtifacts } from "./pages/artifacts.js";
import { renderEnvironment, renderEnvironments } from "./pages/environments.js";
import { renderEvents } from "./pages/events.js";
import { renderLogin } from "./pages/login.js";
import { renderOverview } from "./pages/overview.js";
import { renderRelease, renderReleases } from "./pages/releases.js";
import { renderRequest, renderRequests } from "./pages/requests.js";
import { renderShadow } from "./pages/shadow.js";

const routes = [
  { pattern: /^\/$/, nav: "overview", render: renderOverview },
  { pattern: /^\/artifacts$/, nav: "artifacts", render: renderArtifacts },
  { pattern: /^\/artifacts\/([^/]+)$/, nav: "artifacts", render: renderArtifact },
  { pattern: /^\/releases$/, nav: "releases", render: renderReleases },
  { pattern: /^\/releases\/([0-9A-HJKMNP-TV-Z]{26})$/, nav: "releases", render: renderRelease },
  { pattern: /^\/requests$/, nav: "requests", render: renderRequests },
  { pattern: /^\/requests\/([0-9A-HJKMNP-TV-Z]{26})$/, nav: "requests", render: renderRequest },
  { pattern: /^\/environments$/, nav: "environments", render: renderEnvironments },
  { pattern: /^\/environments\/([a-z0-9][a-z0-9._-]{0,63})$/, nav: "environments", render: renderEnvironment },
  { pattern: /^\/events$/, nav: "events", render: renderEvents },
  { pattern: /^\/shadow$/, nav: "shadow", render: renderShadow },
  { pattern: /^\/login$/, nav: null, render: renderLogin },
];

const main = document.getElementById("main");
const announcer = document.getElementById("announcer");
const sessionLine = document.getElementById("session");

/** What the session line says: a token in this tab, anonymous read, or nothing yet. */
const session = { anonymous: false };

function announce(text) {
  // Cleared first so that the same words twice are read twice.
  announcer.textContent = "";
  setTimeout(() => (announcer.textContent = text), 50);
}

function renderSession() {
  const token = storedToken();
  const signOut = () => {
    forgetToken();
    session.anonymous = false;
    announce("Token forgotten");
    renderSession();
    route();
  };
  if (token) replaceContent(sessionLine, h("span", {}, "Signed in with a token"), " ", h("button", { type: "button", class: "link-button", onclick: signOut }, "Sign out"));
  else if (session.anonymous) replaceContent(sessionLine, h("span", {}, "Anonymous read"), " ", h("a", { href: "#/login" }, "Use a token"));
  else replaceContent(sessionLine, h("a", { href: "#/login" }, "Sign in"));
}

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  return { path: decoded, query: new URLSearchParams(q === -1 ? "" : raw.slice(q + 1)), hash: location.hash || "#/" };
}

/** `#/path?k=v` from a path and the non-empty query values. */
function link(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const text = params.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

let current = null;
let firstRender = true;

function showError(err, ctx) {
  const problem = err instanceof ApiError ? err : null;
  return h(
    "div",
    { class: "alert", role: "alert" },
    h("h2", {}, problem?.status === 404 ? "Not found" : "Something went wrong"),
    h("p", {}, err.message),
    problem?.field ? h("p", {}, "Field: ", h("code", {}, problem.field)) : null,
    h("p", {}, h("button", { type: "button", onclick: () => ctx.reload() }, "Try again")),
  );
}

async function route() {
  current?.abort.abort();
  for (const t of current?.timers ?? []) clearTimeout(t.id);
  const { path, query, hash } = parseHash();
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (match && a.getAttribute("data-nav") === match.r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const state = { abort: new AbortController(), timers: [] };
  current = state;
  const ctx = {
    params: match ? match.m.slice(1) : [],
    query,
    hash,
    signal: state.abort.signal,
    link,
    announce,
    get live() {
      return current === state;
    },
    /** GET from the API; a 401 sends the reader to the sign-in form and comes back afterwards. */
    async api(apiPath, q = {}) {
      try {
        const body = await get(apiPath, q, { signal: state.abort.signal });
        if (!storedToken() && !session.anonymous) {
          session.anonymous = true;
          renderSession();
        }
        return body;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && current === state) {
          session.anonymous = false;
          renderSession();
          location.replace(link("/login", { next: hash, reason: err.message }));
        }
        throw err;
      }
    },
    setTitle(title) {
      document.title = `${title} · relengd`;
    },
    /**
     * Runs `fn` every `ms` while this page is shown and the tab is visible; one run at a time,
     * so a slow server is never asked twice at once. `fn` returning false stops it. A failed
     * run is tried again next time (the page keeps what it showed).
     */
    every(ms, fn) {
      const timer = { id: 0 };
      state.timers.push(timer);
      const tick = async () => {
        if (current !== state) return;
        if (!document.hidden) {
          try {
            if ((await fn()) === false) return;
          } catch (err) {
            if (current !== state || err?.name === "AbortError") return;
          }
        }
        if (current === state) timer.id = setTimeout(tick, ms);
      };
      timer.id = setTimeout(tick, ms);
    },
    reload: () => route(),
    /** The token in session storage changed: the session line says so. */
    sessionChanged: () => renderSession(),
  };
  main.setAttribute("aria-busy", "true");
  main.removeAttribute("data-rendered");
  const shown = location.hash;
  try {
    if (!match) {
      ctx.setTitle("Not found");
      replaceContent(main, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, "No page at ", h("code", {}, path), ". ", h("a", { href: "#/" }, "Go to the overview"), "."));
    } else {
      const content = await match.r.render(ctx);
      if (current !== state) return;
      replaceContent(main, content);
    }
  } catch (err) {
    if (current !== state || err?.name === "AbortError") return;
    // Already on its way to the sign-in form.
    if (err instanceof ApiError && err.status === 401) return;
    ctx.setTitle("Error");
    replaceContent(main, h("h1", { tabindex: "-1" }, "Could not load this page"), showError(err, ctx));
  } finally {
    if (current === state) main.removeAttribute("aria-busy");
  }
  // Which route the content shows: tests (and anyone scripting the page) wait for it.
  main.setAttribute("data-rendered", shown);
  // Keyboard and screen-reader users land on the new page's heading, not at the old link.
  if (!firstRender) main.querySelector("h1")?.focus();
  firstRender = false;
}

document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", route);
renderSession();
void route();
