//! Podcast submission, jobs, episodes and audio against the real API and database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

async fn row(db: &ephitup_store::Db, query: String) -> Value {
    let rows: Vec<Value> = db.query(query).await.unwrap().take(0).unwrap();
    rows.into_iter().next().unwrap_or(Value::Null)
}

#[tokio::test]
async fn generate_creates_the_episode_and_its_job_for_the_caller() {
    let api = Api::start();
    let (a, a_id) = api.user("a@example.com").await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "N"}))).await;
    let nb_id = nb["id"].as_str().unwrap();
    api.call(
        Method::POST,
        "/notes",
        Some(&a),
        Some(json!({"content": "Rust ownership, explained", "notebook_id": nb_id})),
    )
    .await;

    let body = json!({"episode_profile": "tech_discussion", "speaker_profile": "tech_experts", "episode_name": "Ep 1",
                      "notebook_id": nb_id, "briefing_suffix": "Keep it short."});
    let (status, submitted) = api.call(Method::POST, "/podcasts/generate", Some(&a), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!((submitted["status"].clone(), submitted["episode_name"].clone()), (json!("submitted"), json!("Ep 1")));
    let job_id = submitted["job_id"].as_str().unwrap();
    assert!(job_id.starts_with("command:"));

    let (status, job) = api.call(Method::GET, &format!("/podcasts/jobs/{job_id}"), Some(&a), None).await;
    assert_eq!((status, job["status"].clone(), job["job_id"].as_str()), (StatusCode::OK, json!("new"), Some(job_id)));
    let (status, same) = api.call(Method::GET, &format!("/commands/jobs/{job_id}"), Some(&a), None).await;
    assert_eq!((status, same), (StatusCode::OK, job));

    let (_, episodes) = api.call(Method::GET, "/podcasts/episodes", Some(&a), None).await;
    let episode = &episodes[0];
    assert_eq!((episode["name"].clone(), episode["job_status"].clone()), (json!("Ep 1"), json!("new")));
    assert_eq!(episode["episode_profile"]["name"], "tech_discussion");
    assert_eq!(episode["speaker_profile"]["speakers"].as_array().unwrap().len(), 2);
    assert!(episode["briefing"].as_str().unwrap().ends_with("Keep it short."));
    assert_eq!(episode["audio_url"], json!(null));

    let conn = support::connect(&api.db).await;
    let command = row(&conn, format!("SELECT <string> owner AS owner, name, app, args FROM {job_id}")).await;
    assert_eq!((command["owner"].as_str(), command["name"].as_str()), (Some(a_id.as_str()), Some("generate_podcast")));
    assert_eq!(command["args"]["episode_id"], episode["id"]);
    let stored =
        row(&conn, format!("SELECT <string> owner AS owner, content FROM {}", episode["id"].as_str().unwrap())).await;
    assert_eq!(stored["owner"].as_str(), Some(a_id.as_str()));
    assert!(
        stored["content"].as_str().unwrap().contains("Rust ownership"),
        "the notebook's notes are the content: {stored}"
    );
}

#[tokio::test]
async fn generate_validates_and_isolates() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let base = json!({"episode_profile": "tech_discussion", "speaker_profile": "tech_experts", "episode_name": "E", "content": "text"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let (status, body) =
        api.call(Method::POST, "/podcasts/generate", Some(&a), Some(with("episode_profile", json!("nope")))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("episode_profile"));
    let (status, _) = api.call(Method::POST, "/podcasts/generate", Some(&a), Some(with("content", json!("  ")))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "N"}))).await;
    let (status, _) =
        api.call(Method::POST, "/podcasts/generate", Some(&b), Some(with("notebook_id", nb["id"].clone()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "A's notebook does not exist for B");

    let (_, submitted) = api.call(Method::POST, "/podcasts/generate", Some(&a), Some(base.clone())).await;
    let job_id = submitted["job_id"].as_str().unwrap();
    let (_, episodes) = api.call(Method::GET, "/podcasts/episodes", Some(&a), None).await;
    let ep_id = episodes[0]["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/podcasts/jobs/{job_id}")),
        (Method::GET, format!("/commands/jobs/{job_id}")),
        (Method::GET, format!("/podcasts/episodes/{ep_id}")),
        (Method::GET, format!("/podcasts/episodes/{ep_id}/audio")),
        (Method::DELETE, format!("/podcasts/episodes/{ep_id}")),
    ] {
        let (status, body) = api.call(method.clone(), &path, Some(&b), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (_, listed) = api.call(Method::GET, "/podcasts/episodes", Some(&b), None).await;
    assert_eq!(listed, json!([]));
    assert_eq!(api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}"), Some(&a), None).await.0, StatusCode::OK);
}

/// A user with one episode (no audio yet); returns (token, user id, episode id).
async fn episode_without_audio(api: &Api) -> (String, String, String) {
    let (a, a_id) = api.user("a@example.com").await;
    let base = json!({"episode_profile": "solo_expert", "speaker_profile": "solo_expert", "episode_name": "E", "content": "text"});
    let (_, _) = api.call(Method::POST, "/podcasts/generate", Some(&a), Some(base)).await;
    let (_, episodes) = api.call(Method::GET, "/podcasts/episodes", Some(&a), None).await;
    let ep_id = episodes[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}/audio"), Some(&a), None).await.0,
        StatusCode::NOT_FOUND,
        "no audio yet"
    );
    (a, a_id, ep_id)
}

/// What a browser's player relies on, whichever storage holds the audio: the whole file, one
/// range (and a suffix range) with 206, a range past the end refused with 416, and 304s for
/// `If-None-Match` and `If-Modified-Since`.
async fn audio_is_served_as_players_expect(api: &Api, token: &str, ep_id: &str, audio: &[u8]) {
    let (_, episode) = api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}"), Some(token), None).await;
    let url = format!("http://127.0.0.1:{}{}", api.port, episode["audio_url"].as_str().unwrap());
    let get = |range: Option<&str>| {
        let mut request = api.http.get(&url).bearer_auth(token);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send()
    };
    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "audio/mpeg");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str().unwrap().to_string();
    let modified = whole.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(whole.bytes().await.unwrap() == audio, "the whole audio");

    let part = get(Some("bytes=100-199")).await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-199/{}", audio.len()));
    assert!(part.bytes().await.unwrap() == audio[100..200], "bytes 100-199");
    let tail = get(Some("bytes=-50")).await.unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert!(tail.bytes().await.unwrap() == audio[audio.len() - 50..], "the last 50 bytes");
    let past = get(Some(&format!("bytes={}-", audio.len() + 10))).await.unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(past.headers()["content-range"], format!("bytes */{}", audio.len()));

    let cached = api.http.get(&url).bearer_auth(token).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let changed = api.http.get(&url).bearer_auth(token).header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let since = api.http.get(&url).bearer_auth(token).header("if-modified-since", &modified).send().await.unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn audio_streams_with_range_and_stays_inside_the_data_dir() {
    let api = Api::start();
    let (a, _, ep_id) = episode_without_audio(&api).await;
    let audio: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    std::fs::create_dir_all(api.data.path().join("podcasts")).unwrap();
    std::fs::write(api.data.path().join("podcasts/e.mp3"), &audio).unwrap();
    let conn = support::connect(&api.db).await;
    conn.query(format!("UPDATE {ep_id} SET audio_file = 'podcasts/e.mp3'")).await.unwrap().check().unwrap();
    audio_is_served_as_players_expect(&api, &a, &ep_id, &audio).await;

    conn.query(format!("UPDATE {ep_id} SET audio_file = '../../../../etc/passwd'")).await.unwrap().check().unwrap();
    assert_eq!(
        api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}/audio"), Some(&a), None).await.0,
        StatusCode::NOT_FOUND
    );

    conn.query(format!("UPDATE {ep_id} SET audio_file = 'podcasts/e.mp3'")).await.unwrap().check().unwrap();
    assert_eq!(
        api.call(Method::DELETE, &format!("/podcasts/episodes/{ep_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(!api.data.path().join("podcasts/e.mp3").exists(), "the audio goes with its episode");
    assert_eq!(
        api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}"), Some(&a), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn audio_in_s3_is_streamed_in_ranges_and_goes_with_its_episode() {
    let s3 = ephitup_testkit::TestS3::start("audio-bucket");
    let api = Api::start_with(&s3.env());
    let (a, a_id, ep_id) = episode_without_audio(&api).await;
    // Put as the worker puts it: the same store, the same settings.
    let settings = ephitup_store::audio::S3Settings::from_pairs(&s3.env());
    let worker_side = ephitup_store::AudioStore::new(api.data.path(), settings).unwrap();
    let audio: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let owner_key = a_id.trim_start_matches("user:");
    let reference = worker_side.put(owner_key, audio.clone().into()).await.unwrap();
    assert!(reference.starts_with("s3://audio-bucket/podcasts/"), "{reference}");
    let conn = support::connect(&api.db).await;
    conn.query(format!("UPDATE {ep_id} SET audio_file = $f"))
        .bind(("f", reference.clone()))
        .await
        .unwrap()
        .check()
        .unwrap();
    audio_is_served_as_players_expect(&api, &a, &ep_id, &audio).await;

    // Audio in a bucket this API is not configured for: the storage is unreachable, said in JSON.
    let elsewhere = reference.replace("audio-bucket", "another-bucket");
    conn.query(format!("UPDATE {ep_id} SET audio_file = $f")).bind(("f", elsewhere)).await.unwrap().check().unwrap();
    let (status, body) = api.call(Method::GET, &format!("/podcasts/episodes/{ep_id}/audio"), Some(&a), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["detail"].is_string(), "{body}");

    conn.query(format!("UPDATE {ep_id} SET audio_file = $f")).bind(("f", reference)).await.unwrap().check().unwrap();
    assert_eq!(
        api.call(Method::DELETE, &format!("/podcasts/episodes/{ep_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s3.keys(), Vec::<String>::new(), "the object goes with its episode");
}
