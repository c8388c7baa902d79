// Search and ask: a text (full-text, with highlights) or vector (by meaning) search of the
// user's sources, insights and notes; and "ask", where the server plans searches, answers
// each and writes a final answer, streamed as server-sent events (`api.stream`).

import { api, stream } from "../api.js";
import { el, field, submitting } from "../dom.js";

/**
 * A match's text with the server's highlight markers as <mark> elements. The text between
 * the markers is the user's own, unescaped: it becomes text nodes, never markup.
 */
export function highlighted(text) {
  const parts = [];
  let marked = false;
  for (const piece of String(text ?? "").split(/(<mark>|<\/mark>)/)) {
    if (piece === "<mark>") marked = true;
    else if (piece === "</mark>") marked = false;
    else if (piece) parts.push(marked ? el("mark", {}, piece) : document.createTextNode(piece));
  }
  return parts;
}

/** What kind of item a search result is, from its id's table. */
function kindOf(result) {
  const table = String(result.id || "").split(":")[0];
  if (table === "source") return "source";
  if (table === "note") return "note";
  if (table.includes("insight")) return "insight";
  if (table.includes("embedding") || table.includes("chunk")) return "source passage";
  return table.replace(/_/g, " ");
}

function resultItem(result) {
  const source = [result.parent_id, result.id].find((id) => typeof id === "string" && id.startsWith("source:"));
  const title = result.title || "Untitled";
  const score = Number(result.score);
  return el(
    "li",
    { dataset: { result: result.id } },
    el(
      "div",
      { class: "item-head" },
      source ? el("a", { href: `/sources/${encodeURIComponent(source)}` }, el("strong", {}, title)) : el("strong", {}, title),
      el("span", { class: "muted" }, kindOf(result), Number.isFinite(score) ? ` · score ${score.toFixed(2)}` : ""),
    ),
    Array.isArray(result.matches) && result.matches.length ? el("ul", { class: "matches", "aria-label": `Matches in ${title}` }, result.matches.map((m) => el("li", {}, highlighted(m)))) : null,
  );
}

const notebookOptions = (notebooks) => [el("option", { value: "" }, "All notebooks"), notebooks.map((nb) => el("option", { value: nb.id }, nb.name))];

export async function searchView(ctx) {
  const [notebooks, models, defaults] = await Promise.all([
    api("/notebooks?archived=false&order_by=name%20asc", { signal: ctx.signal }),
    api("/models", { signal: ctx.signal }),
    api("/models/defaults", { signal: ctx.signal }),
  ]);
  const language = models.filter((m) => m.type === "language");

  // --- search ---------------------------------------------------------------------------
  const query = el("input", { type: "search", name: "query", required: true, maxlength: 1000 });
  const kind = el("select", { name: "type" }, el("option", { value: "text" }, "Text: the words"), el("option", { value: "vector" }, "Vector: the meaning"));
  const inSources = el("input", { type: "checkbox", id: "search-sources", checked: true });
  const inNotes = el("input", { type: "checkbox", id: "search-notes", checked: true });
  const searchNotebook = el("select", { name: "notebook_id" }, notebookOptions(notebooks));
  const summary = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const results = el("ul", { class: "plain results", "aria-label": "Results" });
  const searchForm = el(
    "form",
    { class: "stack", "aria-label": "Search" },
    field("Search for", query),
    field("Kind of search", kind, "A vector search needs a default embedding model (Settings) and embedded sources."),
    el("fieldset", { class: "row" }, el("legend", {}, "Look in"), inSources, el("label", { for: inSources.id }, "Sources"), inNotes, el("label", { for: inNotes.id }, "Notes")),
    field("Notebook", searchNotebook),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Search")),
  );
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(searchForm, async () => {
      if (!inSources.checked && !inNotes.checked) throw new Error("Look in sources, notes, or both.");
      const body = { query: query.value.trim(), type: kind.value, limit: 50, search_sources: inSources.checked, search_notes: inNotes.checked };
      if (searchNotebook.value) body.notebook_id = searchNotebook.value;
      summary.textContent = "Searching…";
      results.replaceChildren();
      try {
        const found = await api("/search", { method: "POST", body, signal: ctx.signal });
        const list = found.results || [];
        const total = found.total_count ?? list.length;
        const how = `${found.search_type || body.type} search`;
        summary.textContent = list.length ? `${total} result${total === 1 ? "" : "s"} (${how})` : `No results (${how}).`;
        results.replaceChildren(...list.map(resultItem));
      } catch (err) {
        summary.textContent = "";
        throw err;
      }
    });
  });

  // --- ask ------------------------------------------------------------------------------
  const question = el("textarea", { name: "question", rows: 3, required: true });
  const modelSelect = (name) =>
    el("select", { name, required: true }, language.map((m) => el("option", { value: m.id, selected: defaults.default_chat_model === m.id }, `${m.name} (${m.provider})`)));
  const strategyModel = modelSelect("strategy_model");
  const answerModel = modelSelect("answer_model");
  const finalModel = modelSelect("final_answer_model");
  const askNotebook = el("select", { name: "notebook_id" }, notebookOptions(notebooks));
  const askButton = el("button", { type: "submit", disabled: !language.length }, "Ask");
  const stopButton = el("button", { type: "button", class: "secondary", hidden: true }, "Stop");
  const askStatus = el("p", { class: "chat-status", role: "status", "aria-live": "polite" });
  const plan = el("div", { class: "plan", hidden: true });
  const answers = el("ol", { class: "answers", "aria-label": "Answers to each search" });
  const answersBlock = el("div", { hidden: true }, el("h3", {}, "What each search found"), answers);
  const finalText = el("p", { class: "message-content" });
  const finalBlock = el("section", { class: "final-answer", hidden: true, "aria-labelledby": "final-title" }, el("h3", { id: "final-title" }, "Answer"), finalText);
  const askForm = el(
    "form",
    { class: "stack", "aria-label": "Ask" },
    field("Question", question),
    language.length ? null : el("p", { class: "error" }, "Add a language model in ", el("a", { href: "/settings" }, "Settings"), " first."),
    el(
      "div",
      { class: "grid three" },
      field("Strategy model", strategyModel, "Plans the searches."),
      field("Answer model", answerModel, "Answers from each search."),
      field("Final answer model", finalModel, "Writes the answer."),
    ),
    field("Notebook", askNotebook),
    el("div", { class: "row" }, askButton, stopButton),
  );
  const say = (text, isError = false) => {
    askStatus.textContent = text;
    askStatus.classList.toggle("error", isError);
  };
  askForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!question.value.trim()) return;
    const controller = new AbortController();
    const leave = () => controller.abort();
    ctx.signal.addEventListener("abort", leave);
    stopButton.onclick = leave;
    askButton.disabled = true;
    stopButton.hidden = false;
    askForm.setAttribute("aria-busy", "true");
    plan.hidden = true;
    answersBlock.hidden = true;
    finalBlock.hidden = true;
    answers.replaceChildren();
    finalText.textContent = "";
    say("Planning the searches…");
    const body = { question: question.value.trim(), strategy_model: strategyModel.value, answer_model: answerModel.value, final_answer_model: finalModel.value };
    if (askNotebook.value) body.notebook_id = askNotebook.value;
    let failed = false;
    let final = false;
    const showFinal = (content) => {
      finalText.textContent = String(content ?? "");
      finalBlock.hidden = false;
      final = true;
    };
    try {
      await stream("/search/ask", body, (event) => {
        if (event.type === "strategy") {
          const searches = Array.isArray(event.searches) ? event.searches : [];
          plan.replaceChildren(
            el("h3", {}, "Plan"),
            event.reasoning ? el("p", { class: "message-content" }, event.reasoning) : null,
            el("ul", { "aria-label": "Planned searches" }, searches.map((s) => el("li", {}, el("strong", {}, s.term || ""), s.instructions ? ` — ${s.instructions}` : ""))),
          );
          plan.hidden = false;
          say(`Searching (${searches.length})…`);
        } else if (event.type === "answer") {
          answers.append(el("li", { class: "message-content" }, String(event.content ?? "")));
          answersBlock.hidden = false;
        } else if (event.type === "final_answer") {
          showFinal(event.content);
        } else if (event.type === "complete") {
          if (!final && event.final_answer) showFinal(event.final_answer);
        } else if (event.type === "error") {
          failed = true;
          say(event.message || "The answer failed.", true);
        }
      }, { signal: controller.signal });
      if (final && !failed) say("Answer complete.");
      else if (!failed) say("The answer ended before it was complete.", true);
    } catch (err) {
      if (err.name === "AbortError") {
        if (!ctx.signal.aborted) say("Stopped.");
      } else say(err.message, true);
    } finally {
      ctx.signal.removeEventListener("abort", leave);
      askButton.disabled = !language.length;
      stopButton.hidden = true;
      askForm.removeAttribute("aria-busy");
    }
  });

  return el(
    "div",
    {},
    el("h1", {}, "Search"),
    el("section", { class: "card", "aria-labelledby": "search-title" }, el("h2", { id: "search-title" }, "Search your sources and notes"), searchForm, summary, results),
    el("section", { class: "card", "aria-labelledby": "ask-title" }, el("h2", { id: "ask-title" }, "Ask a question"), askForm, askStatus, plan, answersBlock, finalBlock),
  );
}
