// The Settings page's content part: the content settings (embedding of new sources, dropping
// uploaded files once read), rebuilding the embeddings of everything (with live progress), and
// transformations — the shared defaults, the user's own (create, delete; `apply_default` ones
// run on every new source), and the default prompt.

import { api } from "../api.js";
import { announce, el, field, showError, submitting } from "../dom.js";

export async function contentSettingsSections(ctx, reload) {
  const [settings, transformations, prompt] = await Promise.all([
    api("/settings", { signal: ctx.signal }),
    api("/transformations", { signal: ctx.signal }),
    api("/transformations/default-prompt", { signal: ctx.signal }),
  ]);

  const select = (name, value, options) => el("select", { name }, options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
  const embedding = select("default_embedding_option", settings.default_embedding_option, [["ask", "Ask for each source"], ["always", "Always"], ["never", "Never"]]);
  const autoDelete = select("auto_delete_files", settings.auto_delete_files, [["yes", "Yes"], ["no", "No"]]);
  const settingsForm = el(
    "form",
    { class: "stack", "aria-labelledby": "content-title" },
    el("h2", { id: "content-title" }, "Sources"),
    field("Embed new sources for search", embedding),
    field("Delete uploaded files once their text is read", autoDelete),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save source settings")),
  );
  settingsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(settingsForm, async () => {
      await api("/settings", { method: "PUT", body: { default_embedding_option: embedding.value, auto_delete_files: autoDelete.value } });
      announce("Source settings saved");
    });
  });

  const rebuild = rebuildEmbeddings(ctx);

  const list = el(
    "ul",
    { class: "plain", "aria-label": "Transformations" },
    transformations.map((t) => {
      const shared = ["transformation:summary", "transformation:key_points", "transformation:reflection_questions", "transformation:table_of_contents"].includes(t.id);
      return el(
        "li",
        { dataset: { transformation: t.id } },
        el("div", { class: "item-head" }, el("strong", {}, t.title), el("span", { class: "muted" }, shared ? "default" : t.apply_default ? "yours · runs on every new source" : "yours")),
        t.description ? el("p", { class: "muted" }, t.description) : null,
        shared
          ? null
          : el("button", {
              type: "button",
              class: "link",
              "aria-label": `Delete the transformation ${t.title}`,
              onclick: async () => {
                if (!confirm(`Delete the transformation “${t.title}”?`)) return;
                try {
                  await api(`/transformations/${encodeURIComponent(t.id)}`, { method: "DELETE" });
                  announce("Transformation deleted");
                  reload();
                } catch (e) {
                  showError(e);
                }
              },
            }, "Delete"),
      );
    }),
  );
  const name = el("input", { type: "text", name: "name", required: true, maxlength: 100 });
  const title = el("input", { type: "text", name: "title", required: true, maxlength: 200 });
  const body = el("textarea", { name: "prompt", rows: 4, required: true });
  const always = el("input", { type: "checkbox", name: "apply_default", id: "apply-default" });
  const create = el(
    "form",
    { class: "stack", "aria-label": "New transformation" },
    el("h3", {}, "New transformation"),
    field("Name", name),
    field("Title", title, "Insights it makes are called this."),
    field("Prompt", body),
    el("div", { class: "row" }, always, el("label", { for: "apply-default" }, "Run on every new source")),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Create transformation")),
  );
  create.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(create, async () => {
      await api("/transformations", { method: "POST", body: { name: name.value.trim(), title: title.value.trim(), prompt: body.value, apply_default: always.checked } });
      announce("Transformation created");
      reload();
    });
  });
  const instructions = el("textarea", { name: "transformation_instructions", rows: 5 }, prompt.transformation_instructions);
  const promptForm = el(
    "form",
    { class: "stack", "aria-label": "Default prompt" },
    el("h3", {}, "Default prompt"),
    field("Put before every transformation", instructions),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save default prompt")),
  );
  promptForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(promptForm, async () => {
      await api("/transformations/default-prompt", { method: "PUT", body: { transformation_instructions: instructions.value } });
      announce("Default prompt saved");
    });
  });
  return [
    el("section", { class: "card" }, settingsForm, rebuild),
    el("section", { class: "card", "aria-labelledby": "transformations-title" }, el("h2", { id: "transformations-title" }, "Transformations"), list, create, promptForm),
  ];
}

const FINISHED = new Set(["completed", "failed", "canceled"]);

/**
 * "Rebuild embeddings": one job re-embeds every source, note and insight with the user's
 * default embedding model; its status is polled every second while the page is shown.
 */
function rebuildEmbeddings(ctx) {
  const button = el("button", { type: "button", class: "secondary" }, "Rebuild embeddings");
  const bar = el("progress", { max: 100, "aria-label": "Embeddings rebuilt", hidden: true });
  const status = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const stats = el("p", { class: "muted", hidden: true, "data-rebuild-stats": "" });
  let timer;
  ctx.signal.addEventListener("abort", () => clearTimeout(timer));

  function showStatus(job) {
    const p = job.progress || {};
    const pct = Number.isFinite(Number(p.percentage)) ? Number(p.percentage) : p.total ? (100 * (p.processed || 0)) / p.total : 0;
    bar.hidden = false;
    bar.value = job.status === "completed" ? 100 : pct;
    const counted = p.total !== undefined ? `${p.processed ?? 0} of ${p.total} items (${Math.round(pct)}%)` : "";
    if (job.status === "completed") status.textContent = `Rebuild completed: ${counted || "done"}.`;
    else if (job.status === "failed" || job.status === "canceled") status.textContent = `Rebuild ${job.status}${job.error_message ? `: ${job.error_message}` : "."}`;
    else status.textContent = `Rebuilding (${job.status || "queued"}): ${counted}`;
    status.classList.toggle("error", job.status === "failed" || job.status === "canceled");
    const s = job.stats;
    stats.hidden = !s;
    if (s) stats.textContent = `Sources ${s.sources ?? 0} · notes ${s.notes ?? 0} · insights ${s.insights ?? 0} · failed ${s.failed ?? 0}`;
  }

  async function poll(commandId) {
    let job;
    try {
      job = await api(`/embeddings/rebuild/${encodeURIComponent(commandId)}/status`, { signal: ctx.signal });
    } catch (e) {
      if (e.name === "AbortError") return;
      status.textContent = `Cannot read the rebuild's progress: ${e.message}`;
      status.classList.add("error");
      button.disabled = false;
      return;
    }
    showStatus(job);
    if (FINISHED.has(job.status)) button.disabled = false;
    else if (!ctx.signal.aborted) timer = setTimeout(() => poll(commandId), 1000);
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.classList.remove("error");
    status.textContent = "Starting the rebuild…";
    stats.hidden = true;
    try {
      const started = await api("/embeddings/rebuild", { method: "POST", body: { mode: "all", include_sources: true, include_notes: true, include_insights: true } });
      status.textContent = started.message || `Rebuilding ${started.total_items ?? ""} items…`;
      bar.hidden = false;
      bar.value = 0;
      await poll(started.command_id);
    } catch (e) {
      status.textContent = e.message;
      status.classList.add("error");
      button.disabled = false;
    }
  });

  return el(
    "div",
    { class: "stack rebuild", role: "group", "aria-labelledby": "rebuild-title" },
    el("h3", { id: "rebuild-title" }, "Embeddings"),
    el("p", { class: "hint" }, "Search by meaning (vector search) uses embeddings made with your default embedding model. After choosing or changing that model, rebuild them all: every source, note and insight."),
    el("div", { class: "row" }, button),
    bar,
    status,
    stats,
  );
}
