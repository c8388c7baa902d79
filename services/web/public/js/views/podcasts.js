// Podcasts: generate an episode from a notebook with an episode and a speaker profile, watch
// its job live (polling the job endpoint), then play, download and read the episode.

import { api } from "../api.js";
import { announce, badge, el, field, showError, submitting, when } from "../dom.js";

const FINISHED = new Set(["completed", "failed", "canceled"]);
const POLL_MS = 1500;

/** A readable line for a job's `progress`, whatever shape the worker gives it. */
function progressText(progress) {
  if (progress === null || progress === undefined) return "";
  if (typeof progress === "number") return `${Math.round(progress)}%`;
  if (typeof progress === "string") return progress;
  const parts = [];
  for (const key of ["stage", "step", "message"]) if (progress[key]) parts.push(String(progress[key]));
  if (progress.current !== undefined && progress.total) parts.push(`${progress.current}/${progress.total}`);
  if (progress.percent !== undefined) parts.push(`${Math.round(progress.percent)}%`);
  return parts.join(" · ");
}

function percentOf(progress) {
  if (typeof progress === "number") return progress;
  if (progress && typeof progress === "object") {
    if (typeof progress.percent === "number") return progress.percent;
    if (typeof progress.current === "number" && progress.total) return (100 * progress.current) / progress.total;
  }
  return null;
}

/** A live view of one job: status, progress bar, error; calls `done` once it finishes. */
function jobWatcher(ctx, jobId, done) {
  const status = el("span", {}, badge("new"));
  const bar = el("progress", { max: 100, "aria-label": "Progress" });
  const text = el("span", { class: "muted" });
  const error = el("p", { class: "error", hidden: true });
  const box = el("div", { class: "job", dataset: { job: jobId }, "aria-live": "polite" }, el("div", { class: "row" }, status, text), bar, error);
  let timer;
  async function poll() {
    let job;
    try {
      job = await api(`/podcasts/jobs/${encodeURIComponent(jobId)}`, { signal: ctx.signal });
    } catch (e) {
      if (e.name === "AbortError") return;
      text.textContent = `Cannot read the job: ${e.message}`;
      timer = setTimeout(poll, POLL_MS * 2);
      return;
    }
    status.replaceChildren(badge(job.status));
    text.textContent = progressText(job.progress);
    const pct = percentOf(job.progress);
    if (job.status === "completed") bar.value = 100;
    else if (pct !== null) bar.value = pct;
    else bar.removeAttribute("value"); // indeterminate
    if (job.status === "failed" || job.status === "canceled") {
      error.hidden = false;
      error.textContent = job.error_message || `The job ${job.status}.`;
      bar.hidden = true;
    }
    if (FINISHED.has(job.status)) {
      if (job.status === "completed") bar.hidden = true;
      done?.(job);
      return;
    }
    if (!ctx.signal.aborted) timer = setTimeout(poll, POLL_MS);
  }
  ctx.signal.addEventListener("abort", () => clearTimeout(timer));
  poll();
  return box;
}

function episodeCard(ctx, ep, onChange) {
  const live = ep.job_id && !FINISHED.has(ep.job_status || "new");
  return el(
    "li",
    { dataset: { episode: ep.id } },
    el(
      "div",
      { class: "item-head" },
      el("a", { href: `/podcasts/episodes/${encodeURIComponent(ep.id)}` }, el("strong", {}, ep.name)),
      live ? null : badge(ep.job_status || (ep.audio_url ? "completed" : "new")),
    ),
    el("div", { class: "muted" }, `${ep.episode_profile?.name || ""}${ep.speaker_profile?.name ? ` · ${ep.speaker_profile.name}` : ""} · ${when(ep.created)}`),
    live ? jobWatcher(ctx, ep.job_id, () => onChange()) : null,
  );
}

export async function podcastsView(ctx) {
  const [episodeProfiles, speakerProfiles, notebooks, episodes] = await Promise.all([
    api("/episode-profiles", { signal: ctx.signal }),
    api("/speaker-profiles", { signal: ctx.signal }),
    api("/notebooks?archived=false", { signal: ctx.signal }),
    api("/podcasts/episodes", { signal: ctx.signal }),
  ]);

  const list = el("ul", { class: "plain", "aria-label": "Episodes" });
  async function refreshList() {
    try {
      const fresh = await api("/podcasts/episodes", { signal: ctx.signal });
      show(fresh);
    } catch (e) {
      if (e.name !== "AbortError") showError(e);
    }
  }
  function show(items) {
    list.replaceChildren(...(items.length ? items.map((ep) => episodeCard(ctx, ep, refreshList)) : [el("li", { class: "empty" }, "No episodes yet.")]));
  }
  show(episodes);

  const episodeProfile = el("select", { name: "episode_profile", required: true }, episodeProfiles.map((p) => el("option", { value: p.name }, p.name)));
  const speakerProfile = el("select", { name: "speaker_profile", required: true }, speakerProfiles.map((p) => el("option", { value: p.name }, p.name)));
  const describe = () => {
    const p = episodeProfiles.find((x) => x.name === episodeProfile.value);
    const match = p && speakerProfiles.find((s) => s.name === p.speaker_config);
    if (match) speakerProfile.value = match.name;
    profileHint.textContent = p ? `${p.description || ""} (${p.num_segments} segments)` : "";
  };
  const profileHint = el("span", { class: "hint", id: "episode-profile-hint" });
  episodeProfile.setAttribute("aria-describedby", "episode-profile-hint");
  episodeProfile.addEventListener("change", describe);
  const notebook = el("select", { name: "notebook_id" }, el("option", { value: "" }, "— none (use the text below) —"), notebooks.map((nb) => el("option", { value: nb.id }, nb.name)));
  const name = el("input", { type: "text", name: "episode_name", required: true, maxlength: 200 });
  const content = el("textarea", { name: "content", rows: 3 });
  const briefing = el("textarea", { name: "briefing_suffix", rows: 2 });
  const form = el(
    "form",
    { class: "stack", "aria-labelledby": "generate-title" },
    el("h2", { id: "generate-title" }, "Generate an episode"),
    field("Notebook", notebook, "Its sources and notes become the episode's content."),
    el("div", { class: "field" }, el("label", { for: "episode-profile" }, "Episode profile"), Object.assign(episodeProfile, { id: "episode-profile" }), profileHint),
    field("Speakers", speakerProfile),
    field("Episode name", name),
    field("Extra content (optional)", content),
    field("Extra instructions (optional)", briefing),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Generate")),
  );
  describe();
  const started = el("div", { "aria-live": "polite" });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async () => {
      const body = { episode_profile: episodeProfile.value, speaker_profile: speakerProfile.value, episode_name: name.value.trim() };
      if (notebook.value) body.notebook_id = notebook.value;
      if (content.value.trim()) body.content = content.value;
      if (briefing.value.trim()) body.briefing_suffix = briefing.value;
      const job = await api("/podcasts/generate", { method: "POST", body });
      announce(job.message || "Generation started");
      started.replaceChildren(el("p", {}, `“${job.episode_name}” submitted.`));
      name.value = "";
      await refreshList();
    });
  });

  return el(
    "div",
    {},
    el("h1", {}, "Podcasts"),
    el("div", { class: "grid two" }, el("section", { class: "card" }, form, started), el("section", { class: "card", "aria-labelledby": "episodes-title" }, el("h2", { id: "episodes-title" }, "Episodes"), list)),
  );
}

export async function episodeView(ctx, id) {
  const path = `/podcasts/episodes/${encodeURIComponent(id)}`;
  const ep = await api(path, { signal: ctx.signal });
  const player = el("div", { class: "player", "aria-live": "polite" });

  async function loadAudio() {
    if (!ep.audio_url) return;
    player.replaceChildren(el("p", { class: "muted" }, "Loading audio…"));
    try {
      // The audio needs the bearer token, which an <audio src> cannot send: fetch it as a blob.
      const response = await api(ep.audio_url.replace(/^\/api/, ""), { raw: true, signal: ctx.signal });
      const url = URL.createObjectURL(await response.blob());
      ctx.signal.addEventListener("abort", () => URL.revokeObjectURL(url));
      const fileName = `${ep.name.replace(/[^\w.-]+/g, "_") || "episode"}.mp3`;
      player.replaceChildren(
        el("audio", { controls: true, src: url, preload: "metadata", "aria-label": `Episode ${ep.name}` }),
        el("a", { href: url, download: fileName, class: "download" }, "Download MP3"),
      );
    } catch (e) {
      if (e.name !== "AbortError") player.replaceChildren(el("p", { class: "error", role: "alert" }, `Cannot load the audio: ${e.message}`));
    }
  }

  const transcript = ep.transcript?.transcript || [];
  const segments = ep.outline?.segments || [];
  const live = ep.job_id && !FINISHED.has(ep.job_status || "new");
  if (!live) loadAudio();
  return el(
    "div",
    {},
    el("p", {}, el("a", { href: "/podcasts" }, "← Podcasts")),
    el("h1", {}, ep.name),
    el("p", { class: "muted" }, `${ep.episode_profile?.name || ""} · ${ep.speaker_profile?.name || ""} · ${when(ep.created)} `, badge(ep.job_status || "new")),
    live ? jobWatcher(ctx, ep.job_id, () => ctx.navigate(location.pathname, { replace: true })) : null,
    el("section", { class: "card", "aria-labelledby": "listen" }, el("h2", { id: "listen" }, "Listen"), ep.audio_url ? player : el("p", { class: "empty" }, "No audio yet.")),
    el(
      "section",
      { class: "card transcript", "aria-labelledby": "transcript-title" },
      el("h2", { id: "transcript-title" }, "Transcript"),
      transcript.length ? transcript.map((line) => el("p", {}, el("strong", {}, `${line.speaker}: `), line.dialogue)) : el("p", { class: "empty" }, "No transcript yet."),
    ),
    segments.length
      ? el("section", { class: "card", "aria-labelledby": "outline-title" }, el("h2", { id: "outline-title" }, "Outline"), el("ol", {}, segments.map((s) => el("li", {}, el("strong", {}, s.name), s.description ? ` — ${s.description}` : ""))))
      : null,
    el("div", { class: "row" }, el("button", {
      type: "button",
      class: "danger",
      onclick: async () => {
        if (!confirm(`Delete the episode “${ep.name}”?`)) return;
        try {
          await api(path, { method: "DELETE" });
          announce("Episode deleted");
          ctx.navigate("/podcasts");
        } catch (e) {
          showError(e);
        }
      },
    }, "Delete episode")),
  );
}
