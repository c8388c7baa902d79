// One source: its processing status (with Retry when it failed), its text, its insights
// (each can be saved as a note or deleted) and a form to run a transformation on it now.

import { api } from "../api.js";
import { announce, badge, el, field, showError, submitting, when } from "../dom.js";

const PENDING = new Set(["new", "running"]);

export async function sourceView(ctx, id) {
  const path = `/sources/${encodeURIComponent(id)}`;
  const [source, transformations] = await Promise.all([api(path, { signal: ctx.signal }), api("/transformations", { signal: ctx.signal })]);
  const reload = () => ctx.navigate(location.pathname, { replace: true });
  const notebook = source.notebooks && source.notebooks[0];

  const status = el("p", { class: "row" }, "Processing: ", badge(source.status || "new"));
  if (source.status === "failed" || source.status === "completed") {
    status.append(
      el("button", {
        type: "button",
        class: "secondary",
        onclick: async () => {
          try {
            await api(`${path}/retry`, { method: "POST" });
            announce("Processing queued again");
            reload();
          } catch (e) {
            showError(e);
          }
        },
      }, source.status === "failed" ? "Retry" : "Process again"),
    );
  }
  let timer;
  if (PENDING.has(source.status || "new")) timer = setTimeout(reload, 3000);
  ctx.signal.addEventListener("abort", () => clearTimeout(timer));

  const insights = el("ul", { class: "plain", "aria-label": "Insights", "aria-live": "polite" });
  async function refresh() {
    const list = await api(`${path}/insights`, { signal: ctx.signal });
    insights.replaceChildren(...(list.length ? list.map(insightItem) : [el("li", { class: "empty" }, "No insights yet.")]));
  }
  function insightItem(insight) {
    return el(
      "li",
      { dataset: { insight: insight.id } },
      el("div", { class: "item-head" }, el("strong", {}, insight.insight_type), el("span", { class: "muted" }, when(insight.created))),
      el("p", { class: "note-content" }, insight.content),
      el(
        "div",
        { class: "row" },
        el("button", {
          type: "button",
          class: "link",
          onclick: async () => {
            try {
              await api(`/insights/${encodeURIComponent(insight.id)}/save-as-note`, { method: "POST", body: notebook ? { notebook_id: notebook } : {} });
              announce("Insight saved as a note");
            } catch (e) {
              showError(e);
            }
          },
        }, "Save as note"),
        el("button", {
          type: "button",
          class: "link",
          onclick: async () => {
            if (!confirm("Delete this insight?")) return;
            try {
              await api(`/insights/${encodeURIComponent(insight.id)}`, { method: "DELETE" });
              announce("Insight deleted");
              await refresh();
            } catch (e) {
              showError(e);
            }
          },
        }, "Delete"),
      ),
    );
  }

  const choice = el("select", { name: "transformation" }, transformations.map((t) => el("option", { value: t.id }, t.title)));
  const run = el(
    "form",
    { class: "stack", "aria-label": "Run a transformation" },
    field("Transformation", choice, "Runs with your default transformation model."),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Make insight")),
  );
  run.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(run, async () => {
      const made = await api(`${path}/insights`, { method: "POST", body: { transformation_id: choice.value } });
      announce(made && made.insight_type ? `Insight “${made.insight_type}” made` : "The insight is being made");
      await refresh();
    });
  });
  await refresh();

  const text = el("details", {}, el("summary", {}, "Text"), el("p", { class: "note-content" }, source.full_text || "(not extracted yet)"));
  return el(
    "div",
    {},
    el("p", {}, notebook ? el("a", { href: `/notebooks/${encodeURIComponent(notebook)}` }, "← Notebook") : el("a", { href: "/notebooks" }, "← Notebooks")),
    el("h1", {}, source.title || source.asset?.url || "Untitled source"),
    status,
    text,
    el(
      "div",
      { class: "grid two" },
      el("section", { class: "card", "aria-labelledby": "insights-title" }, el("h2", { id: "insights-title" }, "Insights"), insights),
      el("section", { class: "card", "aria-labelledby": "transform-title" }, el("h2", { id: "transform-title" }, "Run a transformation"), run),
    ),
  );
}
