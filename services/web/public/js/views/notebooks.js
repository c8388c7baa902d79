// Notebooks: the list (create, show archived) and one notebook (rename, archive, delete; its
// sources — text, link, upload — with their processing status; its notes; its chat, `chat.js`).
// A notebook's sources and notes come page by page (the API's lists are paginated): the
// first page, then a "Show more" button that appends the next one.

import { api, PAGE_MAX, pager } from "../api.js";
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

/**
 * A list the API answers page by page: `load()` shows the first page; the `more` button
 * ("Show more …", after the list) appends the next page in order, announces "N more loaded",
 * and goes once a page comes back shorter than the limit. Items are kept by id: `add` puts a
 * new one at the top (created in this view, so the next page starts one further), `remove`
 * takes one out (one less), `update` refreshes a shown one in place. An item already shown is
 * never shown twice, should the server's order have moved under us.
 */
function pagedList(ctx, path, { label, noun, empty, render, live = false }) {
  const list = el("ul", { class: "plain", "aria-label": label, "aria-live": live ? "polite" : false });
  const pages = pager(path, { signal: ctx.signal });
  const shown = new Map(); // id → { item, li, json }
  const emptyItem = el("li", { class: "empty" }, empty);
  const more = el("button", { type: "button", class: "secondary more", hidden: true }, `Show more ${noun}`);

  const entry = (item) => ({ item, li: render(item), json: JSON.stringify(item) });
  function settle() {
    more.hidden = pages.done;
    if (!shown.size && pages.done) list.replaceChildren(emptyItem);
    else emptyItem.remove();
  }
  function append(items) {
    const added = [];
    for (const item of items) {
      if (shown.has(item.id)) continue;
      const e = entry(item);
      shown.set(item.id, e);
      list.append(e.li);
      added.push(e.li);
    }
    return added;
  }
  async function load() {
    append(await pages.next());
    settle();
  }
  let loading = false;
  more.addEventListener("click", async () => {
    // Not `disabled` while loading: a disabled button drops the keyboard focus.
    if (loading) return;
    loading = true;
    more.setAttribute("aria-disabled", "true");
    more.setAttribute("aria-busy", "true");
    try {
      const added = append(await pages.next());
      settle();
      announce(added.length ? `${added.length} more loaded` : `No more ${noun}`);
      // The button is gone when the list is complete: keep the keyboard where the reading goes on.
      if (more.hidden && added.length) {
        added[0].setAttribute("tabindex", "-1");
        added[0].focus();
      }
    } catch (e) {
      if (e.name !== "AbortError") showError(e);
    } finally {
      loading = false;
      more.removeAttribute("aria-disabled");
      more.removeAttribute("aria-busy");
    }
  });

  return {
    list,
    more,
    load,
    items: () => [...shown.values()].map((e) => e.item),
    /** A new item, at the top (the server has it first too: newest `updated` first). */
    add(item) {
      if (shown.has(item.id)) return this.update(item);
      const e = entry(item);
      shown.set(item.id, e);
      emptyItem.remove();
      list.prepend(e.li);
      pages.shift(1);
      return e.li;
    },
    remove(id) {
      const e = shown.get(id);
      if (!e) return;
      e.li.remove();
      shown.delete(id);
      pages.shift(-1);
      settle();
    },
    /**
     * Refreshes a shown item where it is, only when it changed (so focus and reading places
     * stay); an item not shown is left to its page.
     */
    update(item) {
      const old = shown.get(item.id);
      if (!old || old.json === JSON.stringify(item)) return old?.li;
      const e = entry(item);
      old.li.replaceWith(e.li);
      shown.set(item.id, e);
      return e.li;
    },
    /** Keeps an item's data current after an edit made in its own element (no re-render). */
    keep(item) {
      const e = shown.get(item.id);
      if (e) Object.assign(e, { item, json: JSON.stringify(item) });
    },
  };
}

const PENDING = new Set(["new", "queued", "running", "submitted", "processing"]);

async function sourcesSection(ctx, nb) {
  const sources = pagedList(ctx, `/sources?notebook_id=${encodeURIComponent(nb.id)}`, {
    label: "Sources",
    noun: "sources",
    empty: "No sources yet.",
    live: true,
    render: (s) =>
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
              sources.remove(s.id);
              announce("Source deleted");
            } catch (e) {
              showError(e);
            }
          },
        }, "Delete"),
      ),
  });
  const list = sources.list;

  // Keep watching while something is still being processed: one read of as many sources as
  // are shown (newest first: where sources being processed are), each changed one refreshed
  // in place; the pages loaded stay loaded, and the next page's offset is not moved.
  let timer;
  function watch() {
    clearTimeout(timer);
    if (ctx.signal.aborted || !sources.items().some((s) => PENDING.has(s.status || "new"))) return;
    timer = setTimeout(async () => {
      try {
        const shown = Math.min(Math.max(sources.items().length, 1), PAGE_MAX);
        const fresh = await pager(`/sources?notebook_id=${encodeURIComponent(nb.id)}`, { limit: shown, signal: ctx.signal }).next();
        for (const s of fresh) sources.update(s);
      } catch (e) {
        if (e.name !== "AbortError") showError(e);
        return; // stop watching, as before: a reload starts again
      }
      watch();
    }, 3000);
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
      const source = await api("/sources", { method: "POST", body: data });
      if (source && source.id) sources.add(source);
      announce("Source added; processing started");
      form.reset();
      watch();
    });
  });
  try {
    await sources.load();
  } catch (e) {
    if (e.name !== "AbortError") showError(e);
  }
  watch();
  return el("section", { class: "card", "aria-labelledby": "sources-title" }, el("h2", { id: "sources-title" }, "Sources"), list, sources.more, el("h3", {}, "Add a source"), form);
}

async function notesSection(ctx, nb) {
  const notes = pagedList(ctx, `/notes?notebook_id=${encodeURIComponent(nb.id)}`, { label: "Notes", noun: "notes", empty: "No notes yet.", render: noteItem });
  const list = notes.list;
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
                notes.remove(note.id);
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
          notes.keep(note);
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

  await notes.load();

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
      notes.add(note);
      form.reset();
      announce("Note saved");
    });
  });
  section.append(el("h2", { id: "notes-title" }, "Notes"), list, notes.more, el("h3", {}, "Write a note"), form);
  return section;
}
