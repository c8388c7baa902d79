//! `generate_podcast`: outline → transcript per segment → speech per dialogue line → one MP3.
//! The episode row (written by the API at submission, with snapshots of both profiles) says
//! what to make; the outline and transcript are saved on it as they are made, the audio file
//! last. All calls use the job owner's provider key ([`super::provider`]).

use anyhow::{Context, anyhow, bail};
use ephitup_store::RecordKey;
use ephitup_store::records::Speaker;
use ephitup_store::repo::jobs::ClaimedJob;
use ephitup_store::repo::podcasts;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Ctx, Progress, arg, provider};
use crate::{ai, mp3};

/// Speech calls in flight at once for one episode.
const SPEECH_CONCURRENCY: usize = 4;
/// Source text given to the model, at most (characters).
const CONTENT_LIMIT: usize = 60_000;

#[derive(Debug, Deserialize)]
struct EpisodeProfile {
    outline_provider: String,
    outline_model: String,
    transcript_provider: String,
    transcript_model: String,
    #[serde(default = "default_segments")]
    num_segments: u64,
}

fn default_segments() -> u64 {
    5
}

#[derive(Debug, Deserialize)]
struct SpeakerProfile {
    tts_provider: String,
    tts_model: String,
    speakers: Vec<Speaker>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Segment {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    size: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    speaker: String,
    dialogue: String,
}

pub async fn run(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<Value> {
    let episode_id = arg(job, "episode_id")?;
    let episode = podcasts::episode_work(&ctx.db, &job.owner, episode_id)
        .await
        .with_context(|| format!("episode {episode_id}"))?;
    let ep: EpisodeProfile =
        serde_json::from_value(episode.episode_profile).context("the episode profile is incomplete")?;
    let sp: SpeakerProfile =
        serde_json::from_value(episode.speaker_profile).context("the speaker profile is incomplete")?;
    if sp.speakers.is_empty() {
        bail!("the speaker profile has no speakers");
    }
    let content: String = episode.content.unwrap_or_default().chars().take(CONTENT_LIMIT).collect();

    // Outline.
    progress.set("outline", 0, 1).await;
    let outline_provider = provider(ctx, &job.owner, &ep.outline_provider).await?;
    let system = format!(
        "You plan podcast episodes. Write the outline of an episode titled \"{}\" in exactly {} segments. \
         Answer with a JSON object only: {{\"segments\": [{{\"name\": string, \"description\": string, \
         \"size\": \"short\" | \"medium\" | \"long\"}}]}}.",
        episode.name, ep.num_segments
    );
    let user = format!("Briefing:\n{}\n\nMaterial:\n{content}", episode.briefing);
    let answer = ai::chat_json(&outline_provider, &ep.outline_model, &system, &user).await?;
    let segments: Vec<Segment> = serde_json::from_value(answer["segments"].clone())
        .map_err(|e| anyhow!("the outline has no usable `segments` list: {e}"))?;
    if segments.is_empty() {
        bail!("the outline has no segments");
    }
    let outline = json!({ "segments": segments });
    podcasts::save_episode(&ctx.db, &job.owner, episode_id, outline.clone(), Value::Null, Value::Null).await?;

    // Transcript, one segment at a time (each continues the conversation so far).
    let transcript_provider = provider(ctx, &job.owner, &ep.transcript_provider).await?;
    let names: Vec<&str> = sp.speakers.iter().map(|s| s.name.as_str()).collect();
    let cast: String =
        sp.speakers.iter().map(|s| format!("- {}: {} ({})\n", s.name, s.backstory, s.personality)).collect();
    let mut lines: Vec<Line> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        progress.set("transcript", i as u64, segments.len() as u64).await;
        let system = format!(
            "You write podcast transcripts as dialogue. Answer with a JSON object only: \
             {{\"transcript\": [{{\"speaker\": string, \"dialogue\": string}}]}}. Use only these speakers.\n\
             Speakers: {}\n{cast}",
            names.join(", ")
        );
        let so_far: String =
            lines.iter().rev().take(6).rev().map(|l| format!("{}: {}\n", l.speaker, l.dialogue)).collect();
        let user = format!(
            "Episode: {}\nBriefing:\n{}\n\nOutline:\n{outline}\n\nWrite segment {} of {}: {} — {} ({}).\n\n\
             The conversation so far ends with:\n{so_far}\nMaterial:\n{content}",
            episode.name,
            episode.briefing,
            i + 1,
            segments.len(),
            segment.name,
            segment.description,
            segment.size
        );
        let answer = ai::chat_json(&transcript_provider, &ep.transcript_model, &system, &user).await?;
        let part: Vec<Line> = serde_json::from_value(answer["transcript"].clone())
            .map_err(|e| anyhow!("the transcript of segment {} has no usable `transcript` list: {e}", i + 1))?;
        lines.extend(part.into_iter().filter(|l| !l.dialogue.trim().is_empty()));
    }
    if lines.is_empty() {
        bail!("the transcript is empty");
    }
    let transcript = json!({ "transcript": lines });
    podcasts::save_episode(&ctx.db, &job.owner, episode_id, Value::Null, transcript, Value::Null).await?;

    // Speech: one clip per line, a few at a time, kept in order.
    let tts = provider(ctx, &job.owner, &sp.tts_provider).await?;
    let total = lines.len() as u64;
    progress.set("audio", 0, total).await;
    let done = std::sync::atomic::AtomicU64::new(0);
    // Owned items: a stream over borrowed lines would not be `Send` for the task.
    let calls: Vec<(usize, String, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, voice_for(&sp.speakers, &l.speaker, i).to_string(), l.dialogue.clone()))
        .collect();
    let clips: Vec<bytes::Bytes> = futures::stream::iter(calls)
        .map(|(i, voice, dialogue)| {
            let (tts, model, done) = (&tts, &sp.tts_model, &done);
            async move {
                let clip = ai::speech(tts, model, &voice, &dialogue)
                    .await
                    .with_context(|| format!("line {} of the transcript", i + 1))?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.set("audio", n, total).await;
                anyhow::Ok(clip)
            }
        })
        .buffered(SPEECH_CONCURRENCY)
        .try_collect()
        .await?;
    let audio = mp3::join(&clips)?;
    let owner_key = RecordKey::parse("user", &job.owner).ok_or_else(|| anyhow!("bad owner {}", job.owner))?;
    let audio_file = ctx.audio.put(owner_key.as_str(), audio.into()).await?;
    let saved =
        podcasts::save_episode(&ctx.db, &job.owner, episode_id, Value::Null, Value::Null, json!(audio_file)).await;
    if let Err(e) = saved {
        // No episode names the audio: remove it rather than leave an orphan behind.
        if let Err(cleanup) = ctx.audio.delete(&audio_file).await {
            tracing::warn!("audio {audio_file} of an unsaved episode left behind: {cleanup}");
        }
        return Err(e.into());
    }
    progress.set("done", total, total).await;
    Ok(json!({
        "episode_id": episode_id,
        "audio_file": audio_file,
        "segments": segments.len(),
        "lines": lines.len(),
    }))
}

/// The voice of a line's speaker; a name the model made up gets the speakers' voices in turn.
fn voice_for<'a>(speakers: &'a [Speaker], name: &str, index: usize) -> &'a str {
    speakers
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
        .unwrap_or(&speakers[index % speakers.len()])
        .voice_id
        .as_str()
}
