// Notebooks: the list (create, show archived) and one notebook (rename, archive, delete; its
// sources — text, link, upload — with their processing status; its notes; its chat, `chat.js`).

import { api } from "../api.js";
import { announce, badge, el, field, showError, submitting, when } from "../dom.js";
import { chatSection } from "./chat.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export async function notebooksView(ctx) {
  const params = new URLSearchParams(location.search);
  const archived = params.get("archived") === "true";
  const notebooks = await api(`/notebooks?archived=${archived}&order_by=updated%20desc`, { signal: ctx.signal });

  const name = el("input", { type: "text", name: "name", required: true, maxlength: 200 });
  const description = el("textarea", { name: "description", rows: 2 });
  const form = el(
    "form",
    { class: "stack", "aria-labelledby": "new-notebook" },
    el("h2", { id: "new-notebook" }, "New notebook"),
    field("Name", name),
    field("Description (optional)", description),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Create notebook")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async () => {
      const nb = await api("/notebooks", { method: "POST", body: { name: name.value.trim(), description: description.value.trim() } });
      announce(`Notebook “${nb.name}” created`);
      ctx.navigate(`/notebooks/${encodeURIComponent(nb.id)}`);
    });
  });

  const toggle = el("input", { type: "checkbox", id: "show-archived", checked: archived });
  toggle.addEventListener("change", () => ctx.navigate(toggle.checked ? "/notebooks?archived=true" : "/notebooks"));

  const list = notebooks.length
    ? el(
        "ul",
        { class: "plain", "aria-label": "Notebooks" },
        notebooks.map((nb) =>
          el(
            "li",
            {},
            el(
              "div",
              { class: "item-head" },
              el("a", { href: `/notebooks/${encodeURIComponent(nb.id)}` }, el("strong", {}, nb.name)),
              el("span", { class: "muted" }, `${plural(nb.source_count, "source")} · ${plural(nb.note_count, "note")} · updated ${when(nb.updated)}`),
            ),
            nb.description ? el("p", { class: "muted" }, nb.description) : null,
          ),
        ),
      )
    : el("p", { class: "empty" }, archived ? "No archived notebooks." : "No notebooks yet: create the first one.");

  return el(
    "div",
    {},
    el("h1", {}, archived ? "Archived notebooks" : "Notebooks"),
    el("div", { class: "grid two" }, el("section", { class: "card" }, el("div", { class: "row" }, toggle, el("label", { for: "show-archived" }, "Show archived notebooks")), list), el("section", { class: "card" }, form)),
  );
}

export async function notebookView(ctx, id) {
  const path = `/notebooks/${encodeURIComponent(id)}`;
  const nb = await api(path, { signal: ctx.signal });
  const reload = () => ctx.navigate(location.pathname + location.search, { replace: true }); // keeps ?chat=

  // Rename and description.
  const name = el("input", { type: "text", value: nb.name, required: true, maxlength: 200 });
  const description = el("textarea", { rows: 2 }, nb.description || "");
  const edit = el(
    "form",
    { class: "stack", hidden: true, "aria-label": "Rename notebook" },
    field("Name", name),
    field("Description", description),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save"), el("button", { type: "button", class: "secondary", onclick: () => (edit.hidden = true) }, "Cancel")),
  );
  edit.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(edit, async () => {
      await api(path, { method: "PUT", body: { name: name.value.trim(), description: description.value.trim() } });
      announce("Notebook saved");
      reload();
    });
  });

  const actions = el(
    "div",
    { class: "row actions" },
    el("button", { type: "button", class: "secondary", onclick: () => { edit.hidden = false; name.focus(); } }, "Rename"),
    el("button", {
      type: "button",
      class: "secondary",
      onclick: async () => {
        try {
          await api(path, { method: "PUT", body: { archived: !nb.archived } });
          announce(nb.archived ? "Notebook restored" : "Notebook archived");
          reload();
        } catch (e) {
          showError(e);
        }
      },
    }, nb.archived ? "Unarchive" : "Archive"),
    el("button", {
      type: "button",
      class: "danger",
      onclick: async () => {
        if (!confirm(`Delete the notebook “${nb.name}”? Its notes go with it.`)) return;
        try {
          await api(path, { method: "DELETE" });
          announce("Notebook deleted");
          ctx.navigate("/notebooks");
        } catch (e) {
          showError(e);
        }
      },
    }, "Delete"),
  );

  const sources = await sourcesSection(ctx, nb);
  const notes = await notesSection(ctx, nb);
  const chat = await chatSection(ctx, nb);
  return el(
    "div",
    {},
    el("p", {}, el("a", { href: "/notebooks" }, "← Notebooks")),
    el("h1", {}, nb.name, nb.archived ? el("span", { class: "badge" }, " archived") : null),
    nb.description ? el("p", { class: "muted" }, nb.description) : null,
    actions,
    edit,
    el("div", { class: "grid two" }, sources, notes),
    chat,
  );
}

const PENDING = new Set(["new", "queued", "running", "submitted", "processing"]);

async function sourcesSection(ctx, nb) {
  const list = el("ul", { class: "plain", "aria-label": "Sources", "aria-live": "polite" });
  let timer;
  async function refresh() {
    let sources;
    try {
      sources = await api(`/sources?notebook_id=${encodeURIComponent(nb.id)}`, { signal: ctx.signal });
    } catch (e) {
      if (e.name !== "AbortError") showError(e);
      return;
    }
    list.replaceChildren(
      ...(sources.length
        ? sources.map((s) =>
            el(
              "li",
              { dataset: { source: s.id } },
              el("div", { class: "item-head" }, el("a", { href: `/sources/${encodeURIComponent(s.id)}` }, el("strong", {}, s.title || s.asset?.url || "Untitled source")), badge(s.status || "new")),
              el("span", { class: "muted" }, s.asset?.url ? `${s.asset.url} · ` : "", `added ${when(s.created)}`, s.insights_count ? ` · ${plural(s.insights_count, "insight")}` : ""),
              " ",
              el("button", {
                type: "button",
                class: "link",
                "aria-label": `Delete source ${s.title || ""}`,
                onclick: async () => {
                  if (!confirm("Delete this source?")) return;
                  try {
                    await api(`/sources/${encodeURIComponent(s.id)}`, { method: "DELETE" });
                    announce("Source deleted");
                    refresh();
                  } catch (e) {
                    showError(e);
                  }
                },
              }, "Delete"),
            ),
          )
        : [el("li", { class: "empty" }, "No sources yet.")]),
    );
    // Keep watching while something is still being processed.
    clearTimeout(timer);
    if (sources.some((s) => PENDING.has(s.status || "new")) && !ctx.signal.aborted) timer = setTimeout(refresh, 3000);
  }
  ctx.signal.addEventListener("abort", () => clearTimeout(timer));

  const kind = { value: "text" };
  const title = el("input", { type: "text", name: "title", maxlength: 300 });
  const content = el("textarea", { name: "content", rows: 5 });
  const url = el("input", { type: "url", name: "url", placeholder: "https://…" });
  const file = el("input", { type: "file", name: "file" });
  const panels = {
    text: field("Text", content),
    link: field("Link", url, "A public web page; its text is fetched on the server."),
    upload: field("File", file, "PDF, text, or other documents."),
  };
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Kind of source" });
  for (const [key, label] of [["text", "Text"], ["link", "Link"], ["upload", "Upload"]]) {
    const tab = el("button", { type: "button", role: "tab", "aria-selected": key === "text" ? "true" : "false", dataset: { kind: key } }, label);
    tab.addEventListener("click", () => {
      kind.value = key;
      for (const t of tabs.children) t.setAttribute("aria-selected", t.dataset.kind === key ? "true" : "false");
      for (const [k, panel] of Object.entries(panels)) panel.hidden = k !== key;
    });
    tabs.append(tab);
  }
  panels.link.hidden = true;
  panels.upload.hidden = true;
  let transformations = [];
  try {
    transformations = await api("/transformations", { signal: ctx.signal });
  } catch (e) {
    if (e.name !== "AbortError") showError(e);
  }
  const picks = transformations.map((t) => el("input", { type: "checkbox", name: "transformations", value: t.id, id: `t-${t.id.replace(/[^a-z0-9_-]/gi, "-")}` }));
  const pickList = el(
    "fieldset",
    { class: "stack" },
    el("legend", {}, "Transformations to run (optional)"),
    picks.map((box, i) => el("div", { class: "row" }, box, el("label", { for: box.id }, transformations[i].title))),
  );
  const form = el(
    "form",
    { class: "stack", "aria-label": "Add a source" },
    tabs,
    field("Title (optional)", title),
    panels.text,
    panels.link,
    panels.upload,
    transformations.length ? pickList : null,
    el("div", { class: "row" }, el("button", { type: "submit" }, "Add source")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async () => {
      const data = new FormData();
      data.append("type", kind.value);
      if (title.value.trim()) data.append("title", title.value.trim());
      data.append("notebooks", JSON.stringify([nb.id]));
      data.append("transformations", JSON.stringify(picks.filter((p) => p.checked).map((p) => p.value)));
      if (kind.value === "text") {
        if (!content.value.trim()) throw new Error("Write or paste some text first.");
        data.append("content", content.value);
      } else if (kind.value === "link") {
        if (!url.value.trim()) throw new Error("Enter the link's address first.");
        data.append("url", url.value.trim());
      } else {
        if (!file.files.length) throw new Error("Choose a file first.");
        data.append("file", file.files[0]);
      }
      await api("/sources", { method: "POST", body: data });
      announce("Source added; processing started");
      form.reset();
      await refresh();
    });
  });
  await refresh();
  return el("section", { class: "card", "aria-labelledby": "sources-title" }, el("h2", { id: "sources-title" }, "Sources"), list, el("h3", {}, "Add a source"), form);
}

async function notesSection(ctx, nb) {
  const notes = await api(`/notes?notebook_id=${encodeURIComponent(nb.id)}`, { signal: ctx.signal });
  const list = el("ul", { class: "plain", "aria-label": "Notes" });
  const section = el("section", { class: "card", "aria-labelledby": "notes-title" });

  function noteItem(note) {
    const li = el("li", { dataset: { note: note.id } });
    const show = () =>
      li.replaceChildren(
        el("div", { class: "item-head" }, el("strong", {}, note.title || "Untitled note"), el("span", { class: "muted" }, when(note.updated))),
        el("p", { class: "note-content" }, note.content),
        el(
          "div",
          { class: "row" },
          el("button", { type: "button", class: "link", onclick: editMode }, "Edit"),
          el("button", {
            type: "button",
            class: "link",
            onclick: async () => {
              if (!confirm("Delete this note?")) return;
              try {
                await api(`/notes/${encodeURIComponent(note.id)}`, { method: "DELETE" });
                li.remove();
                announce("Note deleted");
              } catch (e) {
                showError(e);
              }
            },
          }, "Delete"),
        ),
      );
    function editMode() {
      const t = el("input", { type: "text", value: note.title || "" });
      const c = el("textarea", { rows: 5, required: true }, note.content);
      const form = el(
        "form",
        { class: "stack", "aria-label": "Edit note" },
        field("Title", t),
        field("Content", c),
        el("div", { class: "row" }, el("button", { type: "submit" }, "Save note"), el("button", { type: "button", class: "secondary", onclick: show }, "Cancel")),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        submitting(form, async () => {
          note = await api(`/notes/${encodeURIComponent(note.id)}`, { method: "PUT", body: { title: t.value.trim(), content: c.value } });
          announce("Note saved");
          show();
        });
      });
      li.replaceChildren(form);
      c.focus();
    }
    show();
    return li;
  }

  if (notes.length) list.append(...notes.map(noteItem));
  else list.append(el("li", { class: "empty" }, "No notes yet."));

  const title = el("input", { type: "text", name: "title", maxlength: 300 });
  const content = el("textarea", { name: "content", rows: 4, required: true });
  const form = el(
    "form",
    { class: "stack", "aria-label": "Write a note" },
    field("Title (optional)", title),
    field("Note", content),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save note")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async () => {
      if (!content.value.trim()) throw new Error("The note is empty.");
      const note = await api("/notes", { method: "POST", body: { title: title.value.trim() || null, content: content.value, note_type: "human", notebook_id: nb.id } });
      list.querySelector(".empty")?.remove();
      list.prepend(noteItem(note));
      form.reset();
      announce("Note saved");
    });
  });
  section.append(el("h2", { id: "notes-title" }, "Notes"), list, el("h3", {}, "Write a note"), form);
  return section;
}
