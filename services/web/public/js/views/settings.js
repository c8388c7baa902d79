// Settings: the user's AI provider keys (stored encrypted by the API; we only ever show the
// masked form it returns) with an optional base URL for OpenAI-compatible servers, and the
// models the user can choose for each task, with the defaults; then the content settings and
// transformations (`transformations.js`).

import { api } from "../api.js";
import { announce, el, field, showError, submitting, when } from "../dom.js";
import { contentSettingsSections } from "./transformations.js";

const TYPE_LABELS = {
  language: "Language",
  embedding: "Embedding",
  text_to_speech: "Text to speech",
  speech_to_text: "Speech to text",
};

const DEFAULTS = [
  ["default_chat_model", "Chat", "language"],
  ["default_transformation_model", "Transformations", "language"],
  ["large_context_model", "Large context", "language"],
  ["default_tools_model", "Tools", "language"],
  ["default_text_to_speech_model", "Text to speech", "text_to_speech"],
  ["default_speech_to_text_model", "Speech to text", "speech_to_text"],
  ["default_embedding_model", "Embedding", "embedding"],
];

export async function settingsView(ctx) {
  const [providers, secrets, models, defaults] = await Promise.all([
    api("/models/providers", { signal: ctx.signal }),
    api("/provider-secrets", { signal: ctx.signal }),
    api("/models", { signal: ctx.signal }),
    api("/models/defaults", { signal: ctx.signal }),
  ]);
  const details = await Promise.all(secrets.map((s) => api(`/provider-secrets/${encodeURIComponent(s.provider)}`, { signal: ctx.signal })));
  const reload = () => ctx.navigate("/settings", { replace: true });
  // OpenAI first: the podcast profiles use it by default.
  const providerNames = Object.keys(providers.supported_types || {}).sort((a, b) => (b === "openai") - (a === "openai") || a.localeCompare(b));

  // Keys.
  const keyList = details.length
    ? el(
        "ul",
        { class: "plain", "aria-label": "Stored keys" },
        details.map((s) =>
          el(
            "li",
            { dataset: { provider: s.provider } },
            el("div", { class: "item-head" }, el("strong", {}, s.display_name || s.provider), el("span", { class: "mono", "data-masked": "" }, s.masked_value ?? "(unreadable: the server key changed; store it again)")),
            el("div", { class: "muted" }, `${s.provider}${s.base_url ? ` · ${s.base_url}` : ""} · updated ${when(s.updated)}`),
            el("button", {
              type: "button",
              class: "link",
              "aria-label": `Delete the ${s.provider} key`,
              onclick: async () => {
                if (!confirm(`Delete your ${s.provider} key?`)) return;
                try {
                  await api(`/provider-secrets/${encodeURIComponent(s.provider)}`, { method: "DELETE" });
                  announce("Key deleted");
                  reload();
                } catch (e) {
                  showError(e);
                }
              },
            }, "Delete"),
          ),
        ),
      )
    : el("p", { class: "empty" }, "No keys stored yet.");

  const provider = el("select", { name: "provider", required: true }, providerNames.map((p) => el("option", { value: p }, p)));
  const value = el("input", { type: "password", name: "value", required: true, autocomplete: "off", spellcheck: "false" });
  const baseUrl = el("input", { type: "url", name: "base_url", placeholder: "https://api.openai.com/v1" });
  const displayName = el("input", { type: "text", name: "display_name", maxlength: 200 });
  const keyForm = el(
    "form",
    { class: "stack", "aria-labelledby": "add-key" },
    el("h3", { id: "add-key" }, "Add or replace a key"),
    field("Provider", provider),
    field("API key", value, "Stored encrypted; it is never shown again, only masked."),
    field("Base URL (optional)", baseUrl, "For OpenAI-compatible servers (Ollama, LM Studio, a local TTS server)."),
    field("Name (optional)", displayName),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save key")),
  );
  keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(keyForm, async () => {
      const body = { provider: provider.value, value: value.value };
      if (baseUrl.value.trim()) body.base_url = baseUrl.value.trim();
      if (displayName.value.trim()) body.display_name = displayName.value.trim();
      const saved = await api("/provider-secrets", { method: "POST", body });
      value.value = "";
      announce(`Key for ${saved.provider} saved (${saved.masked_value})`);
      reload();
    });
  });

  // Models.
  const byType = Object.keys(TYPE_LABELS).map((type) => {
    const own = models.filter((m) => m.type === type);
    return el(
      "div",
      {},
      el("h3", {}, TYPE_LABELS[type]),
      own.length
        ? el(
            "ul",
            { class: "plain" },
            own.map((m) =>
              el(
                "li",
                { class: "item-head" },
                el("span", {}, el("strong", {}, m.name), el("span", { class: "muted" }, ` · ${m.provider}`)),
                el("button", {
                  type: "button",
                  class: "link",
                  "aria-label": `Delete model ${m.name}`,
                  onclick: async () => {
                    try {
                      await api(`/models/${encodeURIComponent(m.id)}`, { method: "DELETE" });
                      announce("Model deleted");
                      reload();
                    } catch (err) {
                      showError(err);
                    }
                  },
                }, "Delete"),
              ),
            ),
          )
        : el("p", { class: "empty" }, "None."),
    );
  });
  const modelName = el("input", { type: "text", name: "name", required: true, placeholder: "gpt-4o-mini" });
  const modelProvider = el("select", { name: "provider" }, providerNames.map((p) => el("option", { value: p }, p)));
  const modelType = el("select", { name: "type" }, Object.entries(TYPE_LABELS).map(([v, l]) => el("option", { value: v }, l)));
  const modelForm = el(
    "form",
    { class: "stack", "aria-labelledby": "add-model" },
    el("h3", { id: "add-model" }, "Add a model"),
    field("Model name", modelName),
    field("Provider", modelProvider),
    field("Used for", modelType),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Add model")),
  );
  modelForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(modelForm, async () => {
      await api("/models", { method: "POST", body: { name: modelName.value.trim(), provider: modelProvider.value, type: modelType.value } });
      announce("Model added");
      reload();
    });
  });

  const selects = DEFAULTS.map(([key, label, type]) => {
    const select = el(
      "select",
      { name: key },
      el("option", { value: "" }, "— none —"),
      models.filter((m) => m.type === type).map((m) => el("option", { value: m.id, selected: defaults[key] === m.id }, `${m.name} (${m.provider})`)),
    );
    return [key, field(label, select), select];
  });
  const defaultsForm = el(
    "form",
    { class: "stack", "aria-labelledby": "defaults-title" },
    el("h3", { id: "defaults-title" }, "Default models"),
    selects.map(([, f]) => f),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save defaults")),
  );
  defaultsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(defaultsForm, async () => {
      const body = {};
      for (const [key, , select] of selects) body[key] = select.value || null;
      await api("/models/defaults", { method: "PUT", body });
      announce("Defaults saved");
    });
  });

  const content = await contentSettingsSections(ctx, reload);
  return el(
    "div",
    {},
    el("h1", {}, "Settings"),
    el(
      "section",
      { class: "card", "aria-labelledby": "keys-title" },
      el("h2", { id: "keys-title" }, "AI provider keys"),
      el("p", { class: "muted" }, "Available providers: ", (providers.available || []).join(", ") || "none yet"),
      keyList,
      keyForm,
    ),
    el("section", { class: "card", "aria-labelledby": "models-title" }, el("h2", { id: "models-title" }, "Models"), el("div", { class: "grid two" }, byType), modelForm, defaultsForm),
    content,
  );
}
