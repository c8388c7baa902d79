// The Settings page's content part: the content settings (embedding of new sources, dropping
// uploaded files once read) and transformations — the shared defaults, the user's own
// (create, delete; `apply_default` ones run on every new source), and the default prompt.

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
    el("section", { class: "card" }, settingsForm),
    el("section", { class: "card", "aria-labelledby": "transformations-title" }, el("h2", { id: "transformations-title" }, "Transformations"), list, create, promptForm),
  ];
}
