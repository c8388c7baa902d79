// The chat panel of a notebook view: the notebook's chat sessions (start, pick, rename,
// delete) and one conversation, whose answers stream in token by token (`api.stream` on
// POST /chat/execute). What the AI reads is every source and note of the notebook in full
// unless the user leaves some out (or keeps a source's insights only). The chosen session
// is kept in the address (`?chat=`), so a reload shows the same conversation.

import { allPages, api, stream } from "../api.js";
import { announce, el, field, showError, when } from "../dom.js";

const SOURCE_CHOICES = [["full content", "Full text"], ["insights", "Insights only"], ["not in", "Left out"]];
const NOTE_CHOICES = [["full content", "Included"], ["not in", "Left out"]];

const titleOf = (session) => session.title || "Untitled chat";
const newest = (a, b) => Date.parse(b.updated || b.created || 0) - Date.parse(a.updated || a.created || 0);

/** A link for a cited source (its page) or note (its place in this notebook view). */
function citationLink(citation, nb) {
  const id = citation.id || "";
  const label = citation.title || id || "untitled";
  if (id.startsWith("source:")) return el("a", { href: `/sources/${encodeURIComponent(id)}` }, label);
  if (id.startsWith("note:")) {
    return el("a", {
      href: `/notebooks/${encodeURIComponent(nb.id)}`,
      onclick: (event) => {
        // The note is on this page: go to it rather than reload the view.
        const item = document.querySelector(`li[data-note="${CSS.escape(id)}"]`);
        if (!item) return;
        event.preventDefault();
        item.setAttribute("tabindex", "-1");
        item.scrollIntoView({ block: "center" });
        item.focus({ preventScroll: true });
      },
    }, label);
  }
  return el("span", {}, label);
}

function citationList(citations, nb) {
  if (!Array.isArray(citations) || !citations.length) return null;
  return el("div", { class: "citations" }, el("span", { class: "muted" }, "Cited:"), el("ul", { "aria-label": "Citations" }, citations.map((c) => el("li", {}, citationLink(c, nb)))));
}

/** One message: `content` is its text element (text only, never markup). */
function messageItem(message, nb) {
  const human = message.type === "human";
  const content = el("p", { class: "message-content" }, message.content || "");
  const li = el(
    "li",
    { class: `message ${human ? "human" : "ai"}`, dataset: message.id ? { message: message.id } : {} },
    el("div", { class: "message-head" }, el("strong", {}, human ? "You" : "AI"), message.timestamp ? el("span", { class: "muted" }, when(message.timestamp)) : null),
    content,
    citationList(message.citations, nb),
  );
  return { li, content };
}

export async function chatSection(ctx, nb) {
  const section = el("section", { class: "card chat", "aria-labelledby": "chat-title" }, el("h2", { id: "chat-title" }, "Chat"));
  let sessions;
  try {
    sessions = await api(`/chat/sessions?notebook_id=${encodeURIComponent(nb.id)}`, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    section.append(el("p", { class: "error" }, `The chat is unavailable: ${e.message}`));
    return section;
  }
  sessions.sort(newest);
  let selected = null; // the session shown, with its messages
  let running = null; // the AbortController of the answer being streamed
  // The user's context choices by id; an item not chosen is in, in full.
  const choices = { sources: new Map(), notes: new Map() };
  const known = new Map(); // id → title, for the "context cut" note

  // --- sessions -------------------------------------------------------------------------
  const list = el("ul", { class: "plain sessions", "aria-label": "Chat sessions" });
  function renderSessions() {
    list.replaceChildren(
      ...(sessions.length
        ? sessions.map((s) =>
            el(
              "li",
              { dataset: { session: s.id } },
              el("button", { type: "button", class: "session", "aria-current": selected && selected.id === s.id ? "true" : false, onclick: () => select(s.id) }, titleOf(s)),
              el("span", { class: "muted" }, ` ${s.message_count ?? 0} messages · ${when(s.updated || s.created)}`),
            ),
          )
        : [el("li", { class: "empty" }, "No chats yet.")]),
    );
  }
  async function refreshSessions() {
    try {
      sessions = (await api(`/chat/sessions?notebook_id=${encodeURIComponent(nb.id)}`, { signal: ctx.signal })).sort(newest);
      renderSessions();
    } catch (e) {
      if (e.name !== "AbortError") showError(e);
    }
  }

  const newTitle = el("input", { type: "text", name: "title", maxlength: 200 });
  const newForm = el(
    "form",
    { class: "stack", "aria-label": "New chat" },
    field("Chat title (optional)", newTitle),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Start chat")),
  );
  newForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = newForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const body = { notebook_id: nb.id };
      if (newTitle.value.trim()) body.title = newTitle.value.trim();
      const session = await api("/chat/sessions", { method: "POST", body });
      newForm.reset();
      sessions.unshift(session);
      announce(`Chat “${titleOf(session)}” started`);
      await select(session.id);
      message.focus();
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  });

  // --- one conversation -----------------------------------------------------------------
  const heading = el("h3", { id: "chat-session-title" });
  const messages = el("ol", { class: "messages", "aria-label": "Messages" });
  const status = el("p", { class: "chat-status", role: "status", "aria-live": "polite" });
  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };

  const renameInput = el("input", { type: "text", required: true, maxlength: 200 });
  const renameForm = el(
    "form",
    { class: "stack", hidden: true, "aria-label": "Rename chat" },
    field("Chat title", renameInput),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save title"), el("button", { type: "button", class: "secondary", onclick: () => (renameForm.hidden = true) }, "Cancel")),
  );
  renameForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const title = renameInput.value.trim();
      await api(`/chat/sessions/${encodeURIComponent(selected.id)}`, { method: "PUT", body: { title } });
      selected.title = title;
      const listed = sessions.find((s) => s.id === selected.id);
      if (listed) listed.title = title;
      renameForm.hidden = true;
      heading.textContent = title;
      renderSessions();
      announce("Chat renamed");
    } catch (err) {
      showError(err);
    }
  });
  const sessionActions = el(
    "div",
    { class: "row" },
    el("button", {
      type: "button",
      class: "secondary",
      onclick: () => {
        renameInput.value = selected.title || "";
        renameForm.hidden = false;
        renameInput.focus();
      },
    }, "Rename chat"),
    el("button", {
      type: "button",
      class: "danger",
      onclick: async () => {
        if (!confirm(`Delete the chat “${titleOf(selected)}” and its messages?`)) return;
        try {
          running?.abort();
          await api(`/chat/sessions/${encodeURIComponent(selected.id)}`, { method: "DELETE" });
          sessions = sessions.filter((s) => s.id !== selected.id);
          announce("Chat deleted");
          if (sessions.length) await select(sessions[0].id);
          else show(null);
        } catch (err) {
          showError(err);
        }
      },
    }, "Delete chat"),
  );

  // What the AI reads: filled when opened, from the notebook's current sources and notes.
  const contextBody = el("div", { class: "stack context-choices" });
  const contextPanel = el("details", { class: "context" }, el("summary", {}, "What the AI reads"), contextBody);
  async function notebookItems() {
    const q = `notebook_id=${encodeURIComponent(nb.id)}`;
    const [sources, notes] = await Promise.all([allPages(`/sources?${q}`, { signal: ctx.signal }), allPages(`/notes?${q}`, { signal: ctx.signal })]);
    for (const s of sources) known.set(s.id, s.title || s.asset?.url || "Untitled source");
    for (const n of notes) known.set(n.id, n.title || (n.content || "").slice(0, 40) || "Untitled note");
    return { sources, notes };
  }
  contextPanel.addEventListener("toggle", async () => {
    if (!contextPanel.open) return;
    contextBody.replaceChildren(el("p", { class: "muted" }, "Loading…"));
    try {
      const { sources, notes } = await notebookItems();
      const picker = (kind, item, options) => {
        const select = el("select", { dataset: { item: item.id } }, options.map(([value, label]) => el("option", { value, selected: (choices[kind].get(item.id) || "full content") === value }, label)));
        select.addEventListener("change", () => choices[kind].set(item.id, select.value));
        return field(known.get(item.id), select);
      };
      contextBody.replaceChildren(
        el("p", { class: "hint" }, "Everything is in, in full, unless you choose otherwise; a long context is cut to fit the model."),
        el("fieldset", { class: "stack" }, el("legend", {}, "Sources"), sources.length ? sources.map((s) => picker("sources", s, SOURCE_CHOICES)) : el("p", { class: "empty" }, "No sources.")),
        el("fieldset", { class: "stack" }, el("legend", {}, "Notes"), notes.length ? notes.map((n) => picker("notes", n, NOTE_CHOICES)) : el("p", { class: "empty" }, "No notes.")),
      );
    } catch (e) {
      if (e.name !== "AbortError") contextBody.replaceChildren(el("p", { class: "error" }, e.message));
    }
  });
  async function contextConfig() {
    const { sources, notes } = await notebookItems();
    const config = { sources: {}, notes: {} };
    for (const s of sources) config.sources[s.id] = choices.sources.get(s.id) || "full content";
    for (const n of notes) config.notes[n.id] = choices.notes.get(n.id) || "full content";
    return config;
  }

  const message = el("textarea", { name: "message", rows: 3, required: true });
  message.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendForm.requestSubmit();
    }
  });
  const sendButton = el("button", { type: "submit" }, "Send");
  const stopButton = el("button", { type: "button", class: "secondary", hidden: true, onclick: () => running?.abort() }, "Stop");
  const sendForm = el(
    "form",
    { class: "stack", "aria-label": "Send a message" },
    field("Message", message, "Enter sends; Shift+Enter starts a new line."),
    el("div", { class: "row" }, sendButton, stopButton),
  );
  sendForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = message.value.trim();
    if (!text || running || !selected) return;
    send(text);
  });

  const conversation = el("div", { class: "chat-main" });
  const placeholder = el("p", { class: "empty" }, "Start a chat to ask about this notebook's sources and notes.");
  function show(session) {
    selected = session;
    renderSessions();
    renameForm.hidden = true;
    say("");
    if (!session) {
      conversation.replaceChildren(placeholder);
      return;
    }
    heading.textContent = titleOf(session);
    messages.replaceChildren(...(session.messages || []).map((m) => messageItem(m, nb).li));
    conversation.replaceChildren(el("div", { class: "item-head" }, heading, sessionActions), renameForm, messages, status, contextPanel, sendForm);
    messages.scrollTop = messages.scrollHeight;
    // Keep the choice in the address (no new history entry, no re-render).
    if (!ctx.signal.aborted) history.replaceState(null, "", `${location.pathname}?chat=${encodeURIComponent(session.id)}`);
  }
  async function select(id) {
    running?.abort();
    try {
      show(await api(`/chat/sessions/${encodeURIComponent(id)}`, { signal: ctx.signal }));
    } catch (e) {
      if (e.name !== "AbortError") showError(e);
    }
  }

  // --- streaming an answer --------------------------------------------------------------
  async function send(text) {
    const session = selected;
    const controller = new AbortController();
    running = controller;
    const leave = () => controller.abort();
    ctx.signal.addEventListener("abort", leave);
    sendButton.disabled = true;
    stopButton.hidden = false;
    message.value = "";
    messages.append(messageItem({ type: "human", content: text, timestamp: new Date().toISOString() }, nb).li);
    const answer = messageItem({ type: "ai", content: "" }, nb);
    answer.li.dataset.streaming = "";
    answer.li.setAttribute("aria-busy", "true");
    messages.append(answer.li);
    const follow = () => {
      // Follow the answer unless the user scrolled up to read.
      if (messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80) messages.scrollTop = messages.scrollHeight;
    };
    follow();
    say("Answering…");
    let finished = false;
    let failed = false;
    try {
      const context = await contextConfig();
      const body = { session_id: session.id, message: text, context };
      const whole = await stream("/chat/execute", body, (event) => {
        if (event.type === "token") {
          answer.content.append(String(event.content ?? ""));
          follow();
        } else if (event.type === "context") {
          const cut = Array.isArray(event.cut) ? event.cut : [];
          if (cut.length) {
            const names = cut.map((c) => (typeof c === "string" ? known.get(c) || c : c.title || known.get(c.id) || c.id || String(c)));
            // The server names the first few left out and counts them all.
            const named = cut.filter((c) => c?.how === "left out").length;
            const more = Number.isInteger(event.left_out) ? event.left_out - named : 0;
            const rest = more > 0 ? ` and ${more.toLocaleString()} more` : "";
            answer.li.append(el("p", { class: "hint context-cut" }, `Context cut to fit the model: ${names.join(", ")}${rest}`));
          }
        } else if (event.type === "done") {
          finished = true;
          // The saved message replaces the streamed text (the same words, once whole).
          const saved = event.message?.content;
          answer.content.textContent = typeof saved === "string" && saved ? saved : answer.content.textContent;
          if (event.message?.id) answer.li.dataset.message = event.message.id;
          const citations = citationList(event.message?.citations, nb);
          if (citations) answer.li.append(citations);
          const time = event.message?.timestamp;
          if (time) answer.li.querySelector(".message-head").append(el("span", { class: "muted" }, when(time)));
        } else if (event.type === "error") {
          failed = true;
          say(event.message || "The answer failed.", true);
        }
      }, { signal: controller.signal });
      if (whole && Array.isArray(whole.messages)) {
        // A server that answered the whole conversation at once.
        finished = true;
        if (selected === session) show({ ...session, messages: whole.messages });
      }
      if (finished && !failed) say("Answer complete.");
      else if (!failed) say("The answer ended before it was complete.", true);
    } catch (e) {
      if (e.name === "AbortError") {
        if (!ctx.signal.aborted) say("Stopped.");
        answer.li.append(el("p", { class: "hint" }, "(stopped)"));
      } else {
        failed = true;
        say(e.message, true);
        if (!message.value) message.value = text;
      }
    } finally {
      ctx.signal.removeEventListener("abort", leave);
      if (running === controller) running = null;
      delete answer.li.dataset.streaming;
      answer.li.removeAttribute("aria-busy");
      if (!answer.content.textContent && failed) answer.li.remove();
      sendButton.disabled = false;
      stopButton.hidden = true;
    }
    if (!ctx.signal.aborted) await refreshSessions();
  }

  section.append(
    el(
      "div",
      { class: "chat-layout" },
      el("div", { class: "chat-side" }, el("h3", {}, "Conversations"), list, newForm),
      conversation,
    ),
  );
  const wanted = new URLSearchParams(location.search).get("chat");
  const first = sessions.find((s) => s.id === wanted) || sessions[0];
  if (first) await select(first.id);
  else show(null);
  return section;
}
