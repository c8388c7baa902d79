#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `generate_podcast` end to end: a real database, a real worker, and `ephitup-fake-ai` (a
//! local server speaking the OpenAI HTTP protocol) as the provider. The owner's own key and
//! base URL are stored encrypted, as the API stores them; the operator's `OPENAI_API_KEY` is
//! set to something else, to prove the owner's key is the one used.

mod support;

use std::time::Duration;

use ephitup_store::SecretBox;
use ephitup_store::repo::{podcasts, provider_secrets};
use ephitup_testkit::{FakeAi, TestDb, TestS3};
use serde_json::{Value, json};
use support::{FERNET_KEY, Worker, connect, status, user, wait_job};

const OWNER_KEY: &str = "sk-owner-own-key";
const WORKER_ARGS: &[&str] = &["--lease", "10s", "--heartbeat", "1s", "--poll-interval", "200ms"];

struct Setup {
    db: TestDb,
    data: tempfile::TempDir,
    conn: ephitup_store::Db,
    owner: String,
    fake: FakeAi,
}

async fn setup(fake_args: &[&str]) -> Setup {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "p@example.com").await;
    let fake = FakeAi::start(OWNER_KEY, fake_args);
    let encrypted = SecretBox::from_key_text(FERNET_KEY).encrypt(OWNER_KEY);
    let base_url = fake.base_url();
    provider_secrets::upsert(
        &conn,
        &owner,
        provider_secrets::NewProviderSecret {
            provider: "openai",
            encrypted_value: &encrypted,
            display_name: None,
            base_url: Some(&base_url),
        },
    )
    .await
    .unwrap();
    Setup { db, data, conn, owner, fake }
}

impl Setup {
    fn worker(&self) -> Worker {
        self.worker_with(&[])
    }

    fn worker_with(&self, env: &[(String, String)]) -> Worker {
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.push(("OPENAI_API_KEY", "sk-operator-fallback"));
        // The stand-in listens on 127.0.0.1: the operator allows private provider URLs.
        env.push(("ALLOW_PRIVATE_PROVIDER_URLS", "true"));
        Worker::start(&self.db, self.data.path(), "w", WORKER_ARGS, &env)
    }

    /// Submits an episode as the API does; returns (job id, episode id).
    async fn submit(&self) -> (String, String) {
        let ep =
            podcasts::profile_by_name(&self.conn, &self.owner, "episode_profile", "tech_discussion").await.unwrap();
        let sp = podcasts::profile_by_name(&self.conn, &self.owner, "speaker_profile", "tech_experts").await.unwrap();
        let submission = podcasts::Submission {
            episode_name: "Rust queues".into(),
            episode_profile: ep,
            speaker_profile: sp,
            briefing: "Talk about job queues.".into(),
            content: "A queue hands each job to exactly one worker.".into(),
        };
        let job = podcasts::submit(&self.conn, &self.owner, submission).await.unwrap();
        let episodes = podcasts::episodes(&self.conn, &self.owner).await.unwrap();
        let episode = episodes.into_iter().find(|e| e.job_id.as_deref() == Some(job.as_str())).unwrap();
        (job, episode.id)
    }
}

/// Decodes an MP3 file; returns the number of samples per channel.
fn decoded_samples(mp3: Vec<u8>) -> u64 {
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;
    let stream = MediaSourceStream::new(Box::new(std::io::Cursor::new(mp3)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &FormatOptions::default(), &MetadataOptions::default())
        .expect("an MP3 stream");
    let mut format = probed.format;
    let track = format.default_track().unwrap().clone();
    let mut decoder = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).unwrap();
    let mut samples = 0u64;
    loop {
        match format.next_packet() {
            Ok(packet) => samples += decoder.decode(&packet).expect("a decodable frame").frames() as u64,
            Err(symphonia::core::errors::Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("reading the MP3: {e}"),
        }
    }
    samples
}

#[tokio::test(flavor = "multi_thread")]
async fn an_episode_gets_outline_transcript_and_audio_with_one_clip_per_line() {
    let s = setup(&["--segments", "3", "--lines", "2"]).await;
    let _w = s.worker();
    let (job, episode_id) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "completed", "{done}");
    assert_eq!(done["progress"]["stage"], "done", "{done}");

    let episode = podcasts::episode(&s.conn, &s.owner, &episode_id).await.unwrap();
    assert_eq!(episode.outline.as_ref().unwrap()["segments"].as_array().unwrap().len(), 3);
    let lines = episode.transcript.as_ref().unwrap()["transcript"].as_array().unwrap().clone();
    assert_eq!(lines.len(), 6, "two lines for each of three segments");
    let speakers: Vec<&str> = lines.iter().map(|l| l["speaker"].as_str().unwrap()).collect();
    assert!(speakers.iter().all(|n| ["Dr. Alex Chen", "Jordan Rivera"].contains(n)), "{speakers:?}");

    // The owner's key at the owner's base URL, for every call: 1 outline, 3 segments, 6 lines.
    let requests = s.fake.requests();
    assert!(requests.iter().all(|r| r["key"] == OWNER_KEY && r["status"] == 200), "{requests:?}");
    let count = |path: &str| requests.iter().filter(|r| r["path"] == path).count();
    assert_eq!((count("/v1/chat/completions"), count("/v1/audio/speech")), (4, 6));
    let voices: Vec<&str> = requests.iter().filter_map(|r| r["voice"].as_str()).collect();
    assert!(voices.iter().all(|v| ["nova", "onyx"].contains(v)), "{voices:?}");

    // One file under DATA_PATH, a generated name, decoding to exactly the clips' frames.
    let audio_file = episode.audio_file.unwrap();
    assert!(audio_file.starts_with("podcasts/") && audio_file.ends_with(".mp3"), "{audio_file}");
    assert!(!audio_file.contains("Rust"), "no user text in the path: {audio_file}");
    let frames: u64 = requests.iter().filter_map(|r| r["frames"].as_u64()).sum();
    let mp3 = std::fs::read(s.data.path().join(&audio_file)).unwrap();
    assert_eq!(decoded_samples(mp3), frames * 1152, "one clip per line, all decoded");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_bucket_set_the_audio_goes_to_s3_and_not_under_data_path() {
    let s = setup(&["--segments", "2", "--lines", "2"]).await;
    let s3 = TestS3::start("episodes");
    let _w = s.worker_with(&s3.env());
    let (job, episode_id) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "completed", "{done}");

    let audio_file = podcasts::episode(&s.conn, &s.owner, &episode_id).await.unwrap().audio_file.unwrap();
    let key = audio_file.strip_prefix("s3://episodes/").unwrap_or_else(|| panic!("an S3 reference: {audio_file}"));
    assert_eq!(s3.keys(), vec![key.to_string()], "one object, the episode's");
    let frames: u64 = s.fake.requests().iter().filter_map(|r| r["frames"].as_u64()).sum();
    assert_eq!(decoded_samples(s3.object(key).unwrap()), frames * 1152, "the object is the whole episode");
    assert!(!s.data.path().join("podcasts").exists(), "nothing under DATA_PATH");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_answering_500_then_200_is_retried() {
    let s = setup(&["--segments", "3", "--lines", "1"]).await;
    s.fake.control(json!({"fail_next": 2, "fail_status": 500}));
    let _w = s.worker();
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "completed", "{done}");
    let statuses: Vec<Value> = s.fake.requests().iter().map(|r| r["status"].clone()).collect();
    assert_eq!(&statuses[..3], &[json!(500), json!(500), json!(200)], "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_and_models_that_need_max_completion_tokens_are_handled() {
    let s = setup(&["--segments", "3", "--lines", "1"]).await;
    s.fake.control(json!({"fail_next": 1, "fail_status": 429, "require_max_completion_tokens": true}));
    let _w = s.worker();
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_always_fails_ends_the_job_failed_with_the_reason() {
    let s = setup(&[]).await;
    s.fake.control(json!({"always_fail_status": 503}));
    let _w = s.worker();
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(90), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "failed", "{done}");
    let reason = done["error_message"].as_str().unwrap();
    assert!(reason.contains("503") && reason.contains("gave up"), "{reason}");
    assert!(!reason.contains(OWNER_KEY), "the key never appears in a reason");
    assert!(!reason.contains("told to fail"), "the provider's body is never repeated: {reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusing_provider_is_named_by_its_status_never_its_body() {
    let s = setup(&[]).await;
    s.fake.control(json!({"always_fail_status": 403}));
    let _w = s.worker();
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "failed", "{done}");
    let reason = done["error_message"].as_str().unwrap();
    assert!(reason.contains("403"), "{reason}");
    assert!(!reason.contains("told to fail") && !reason.contains("invalid_request_error"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_on_a_private_address_is_refused_at_connect_time() {
    // The row is written behind the API's back (as an older version, or a DNS change, would
    // leave it): the worker checks again and never connects.
    let s = setup(&[]).await;
    let _w = Worker::start(&s.db, s.data.path(), "w", WORKER_ARGS, &[("OPENAI_API_KEY", "sk-operator-fallback")]);
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "failed", "{done}");
    let reason = done["error_message"].as_str().unwrap();
    assert!(reason.contains("private or local address"), "{reason}");
    assert!(s.fake.requests().is_empty(), "nothing reached the private address: {:?}", s.fake.requests());

    // A local name is refused the same way (names that resolve to private addresses are
    // refused by the worker's resolver: `public.rs`'s unit test).
    let base = s.fake.base_url().replace("127.0.0.1", "localhost.");
    let encrypted = SecretBox::from_key_text(FERNET_KEY).encrypt(OWNER_KEY);
    provider_secrets::upsert(
        &s.conn,
        &s.owner,
        provider_secrets::NewProviderSecret {
            provider: "openai",
            encrypted_value: &encrypted,
            display_name: None,
            base_url: Some(&base),
        },
    )
    .await
    .unwrap();
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "failed", "{done}");
    assert!(done["error_message"].as_str().unwrap().contains("private or local address"), "{done}");
    assert!(s.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_without_a_key_gets_a_clear_failure() {
    let s = setup(&[]).await;
    provider_secrets::delete(&s.conn, &s.owner, "openai").await.unwrap();
    // No operator fallback either.
    let _w = Worker::start(&s.db, s.data.path(), "w", WORKER_ARGS, &[]);
    let (job, _) = s.submit().await;
    let done = wait_job(&s.conn, &job, Duration::from_secs(60), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&done), "failed", "{done}");
    assert!(done["error_message"].as_str().unwrap().contains("no API key for provider `openai`"), "{done}");
    assert!(s.fake.requests().is_empty());
}
