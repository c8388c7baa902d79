// The ephitup web UI: a small single-page app on plain ES modules (no build step). Routes are
// real paths (/notebooks/notebook:abc); the proxy answers unknown paths with index.html, so a
// reload or a shared link lands on the same view.

import { api, token, whenUnauthorized } from "./api.js";
import { announce, clearError, el, showError } from "./dom.js";
import { loginView, registerView } from "./views/auth.js";
import { notebooksView, notebookView } from "./views/notebooks.js";
import { settingsView } from "./views/settings.js";
import { podcastsView, episodeView } from "./views/podcasts.js";
import { sourceView } from "./views/sources.js";
import { adminView } from "./views/admin.js";
import { searchView } from "./views/search.js";

const main = document.getElementById("main");
const header = document.getElementById("top");
let me = null;
// Each render gets a fresh controller; views stop their polling when it aborts.
let current = new AbortController();

const routes = [
  [/^\/login$/, loginView, false],
  [/^\/register$/, registerView, false],
  [/^\/(notebooks)?$/, notebooksView, true],
  [/^\/notebooks\/([^/]+)$/, notebookView, true],
  [/^\/sources\/([^/]+)$/, sourceView, true],
  [/^\/search$/, searchView, true],
  [/^\/settings$/, settingsView, true],
  [/^\/admin$/, adminView, true],
  [/^\/podcasts$/, podcastsView, true],
  [/^\/podcasts\/episodes\/([^/]+)$/, episodeView, true],
];

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

async function loadMe() {
  if (!token.get()) return null;
  try {
    me = await api("/auth/me");
  } catch (e) {
    me = null;
    if (e.status !== 401) showError(e);
  }
  return me;
}

// While a view loads, the one on screen is marked busy (`aria-busy`): assistive technology
// waits for the new one, and so can a test, rather than typing into a form about to go.
async function render() {
  current.abort();
  current = new AbortController();
  const mine = current;
  main.setAttribute("aria-busy", "true");
  try {
    await renderView();
  } finally {
    if (current === mine) main.removeAttribute("aria-busy");
  }
}

async function renderView() {
  clearError();
  const path = decodeURIComponent(location.pathname);
  const match = routes.find(([re]) => re.test(path));
  if (!match) {
    main.replaceChildren(el("h1", { tabindex: "-1" }, "Page not found"), el("p", {}, el("a", { href: "/notebooks" }, "Back to notebooks")));
    return;
  }
  const [re, view, needsLogin] = match;
  if (needsLogin && !me && !(await loadMe())) {
    navigate("/login", { replace: true });
    return;
  }
  if (!needsLogin && me) {
    navigate("/notebooks", { replace: true });
    return;
  }
  header.hidden = !me;
  document.getElementById("admin-link").hidden = !(me && me.is_admin);
  document.getElementById("who").textContent = me ? me.display_name || me.email : "";
  for (const link of header.querySelectorAll("nav a")) {
    const active = path === link.getAttribute("href") || path.startsWith(`${link.getAttribute("href")}/`);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const args = path.match(re).slice(1);
  const ctx = { me, navigate, signal: current.signal, setUser };
  try {
    const content = await view(ctx, ...args);
    if (current.signal.aborted && content === undefined) return;
    main.replaceChildren(content);
  } catch (e) {
    if (e.name === "AbortError") return;
    main.replaceChildren(el("h1", { tabindex: "-1" }, "Something went wrong"), el("p", { class: "error" }, e.message));
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    document.title = `${heading.textContent} · ephitup`;
    if (document.activeElement === document.body || document.activeElement === main || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

function setUser(user, accessToken) {
  if (accessToken) token.set(accessToken);
  me = user;
}

whenUnauthorized(() => {
  me = null;
  showError(new Error("Your session has ended. Please log in again."));
  navigate("/login", { replace: true });
});

document.getElementById("logout").addEventListener("click", () => {
  token.clear();
  me = null;
  announce("Logged out");
  navigate("/login");
});

// Same-origin links navigate inside the app.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download") || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", render);
render();
