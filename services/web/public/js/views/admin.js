// Admin (only for the users in ADMIN_EMAILS; the API answers 403 to everyone else): every
// user with what they own, deactivate or reactivate, and clear a user's data.

import { api } from "../api.js";
import { announce, el, showError, when } from "../dom.js";

export async function adminView(ctx) {
  if (!ctx.me.is_admin) return el("div", {}, el("h1", {}, "Admin"), el("p", {}, "Only admins can see this page."));
  const users = await api("/admin/users", { signal: ctx.signal });
  const reload = () => ctx.navigate("/admin", { replace: true });
  const act = (label, cls, action) =>
    el("button", {
      type: "button",
      class: cls,
      onclick: async () => {
        try {
          await action();
          reload();
        } catch (e) {
          showError(e);
        }
      },
    }, label);
  const rows = users.map((u) =>
    el(
      "tr",
      { dataset: { user: u.id } },
      el("th", { scope: "row" }, u.email, u.is_admin ? el("span", { class: "badge" }, " admin") : null),
      el("td", {}, u.is_active ? "active" : "inactive"),
      el("td", {}, String(u.notebook_count)),
      el("td", {}, String(u.source_count)),
      el("td", {}, String(u.note_count)),
      el("td", {}, String(u.episode_count)),
      el("td", {}, when(u.created)),
      el(
        "td",
        { class: "row" },
        u.id === ctx.me.id
          ? el("span", { class: "muted" }, "you")
          : [
              act(u.is_active ? "Deactivate" : "Reactivate", "secondary", async () => {
                await api(`/admin/users/${encodeURIComponent(u.id)}`, { method: "PUT", body: { is_active: !u.is_active } });
                announce(u.is_active ? `${u.email} deactivated` : `${u.email} reactivated`);
              }),
              act("Clear data", "danger", async () => {
                if (!confirm(`Delete all of ${u.email}'s notebooks, sources, notes, podcasts and files? The account stays.`)) return;
                const done = await api(`/admin/users/${encodeURIComponent(u.id)}/clear`, { method: "POST" });
                announce(done.message);
              }),
            ],
      ),
    ),
  );
  const head = ["User", "Status", "Notebooks", "Sources", "Notes", "Episodes", "Joined", "Actions"].map((h) => el("th", { scope: "col" }, h));
  return el(
    "div",
    {},
    el("h1", {}, "Admin"),
    el("section", { class: "card" }, el("table", { class: "users", "aria-label": "Users" }, el("thead", {}, el("tr", {}, head)), el("tbody", {}, rows))),
  );
}
