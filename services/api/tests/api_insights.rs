//! Insights end to end: the real API, a real `ephitup-worker` and `ephitup-fake-ai`. A new
//! source runs the transformations it names and the caller's `apply_default` ones; `POST
//! /sources/{id}/insights` queues one more and answers it; an insight is read, saved as a
//! note, deleted, and goes with its source; an upload asked to be dropped is dropped once its
//! text is kept. Every row is the owner's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use ephitup_testkit::FakeAi;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

fn done(source: &Value) -> bool {
    source["status"] == "completed" || source["status"] == "failed"
}

#[tokio::test(flavor = "multi_thread")]
async fn transformations_make_insights_through_the_worker() {
    let api = Api::with_local_ai();
    let _worker = api.worker(&[]);
    let fake = FakeAi::start("sk-insights", &[]);
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let secret = json!({"provider": "openai", "value": fake.key, "base_url": fake.base_url()});
    assert_eq!(api.call(Method::POST, "/provider-secrets", Some(&a), Some(secret)).await.0, StatusCode::CREATED);
    let (_, model) = api
        .call(
            Method::POST,
            "/models",
            Some(&a),
            Some(json!({"name": "fake-model", "provider": "openai", "type": "language"})),
        )
        .await;
    let model_id = model["id"].as_str().unwrap();
    api.call(Method::PUT, "/models/defaults", Some(&a), Some(json!({"default_transformation_model": model_id}))).await;
    let own = json!({"name": "always", "title": "Always Run", "prompt": "Say it again.", "apply_default": true});
    assert_eq!(api.call(Method::POST, "/transformations", Some(&a), Some(own)).await.0, StatusCode::CREATED);

    let body = json!({"type": "text", "title": "Queues", "content": "A lease expires when its worker dies.",
                      "transformations": ["transformation:summary"], "embed": false, "delete_source": false});
    let (status, src) = api.call(Method::POST, "/sources/json", Some(&a), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{src}");
    let id = src["id"].as_str().unwrap().to_string();
    let processed = api.wait_for(&format!("/sources/{id}"), &a, done).await;
    assert_eq!(processed["status"], "completed", "{processed}");
    let insights_path = format!("/sources/{id}/insights");
    let listed = api.wait_for(&insights_path, &a, |l| l.as_array().is_some_and(|l| l.len() == 2)).await;
    let mut types: Vec<&str> = listed.as_array().unwrap().iter().map(|i| i["insight_type"].as_str().unwrap()).collect();
    types.sort_unstable();
    assert_eq!(types, ["Always Run", "Summary"]);
    for i in listed.as_array().unwrap() {
        assert_eq!(i["source_id"], id.as_str(), "{listed}");
        assert_eq!(i["content"], "Output of fake-model: A lease expires when its worker dies.", "{listed}");
    }
    let summary = api.wait_for("/sources?limit=10", &a, |l| l[0]["insights_count"] == 2).await;
    assert_eq!(summary[0]["id"], id.as_str());

    // One more, asked for now: the API answers once the worker made it.
    let (status, made) = api
        .call(Method::POST, &insights_path, Some(&a), Some(json!({"transformation_id": "transformation:key_points"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}\n{}", api.log());
    assert_eq!((made["insight_type"].clone(), made["source_id"].clone()), (json!("Key Points"), json!(id)));
    let insight = made["id"].as_str().unwrap().to_string();
    assert!(fake.requests().iter().all(|r| r["key"] == "sk-insights"), "every call with the owner's key");

    // Another user sees none of it.
    assert_eq!(api.call(Method::GET, &insights_path, Some(&b), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Method::GET, &format!("/insights/{insight}"), Some(&b), None).await.0, StatusCode::NOT_FOUND);
    let (status, _) = api
        .call(Method::POST, &insights_path, Some(&b), Some(json!({"transformation_id": "transformation:summary"})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.call(Method::DELETE, &format!("/insights/{insight}"), Some(&b), None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) =
        api.call(Method::POST, &format!("/insights/{insight}/save-as-note"), Some(&b), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Saved as a note, into a notebook of the owner's (not into someone else's).
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "N"}))).await;
    let (_, other_nb) = api.call(Method::POST, "/notebooks", Some(&b), Some(json!({"name": "Theirs"}))).await;
    let save = format!("/insights/{insight}/save-as-note");
    let (status, _) = api.call(Method::POST, &save, Some(&a), Some(json!({"notebook_id": other_nb["id"]}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, note) = api.call(Method::POST, &save, Some(&a), Some(json!({"notebook_id": nb["id"]}))).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!((note["note_type"].clone(), note["content"].clone()), (json!("ai"), made["content"].clone()));
    assert_eq!(note["title"], "Key Points from source Queues");
    let (_, in_nb) =
        api.call(Method::GET, &format!("/notes?notebook_id={}", nb["id"].as_str().unwrap()), Some(&a), None).await;
    assert_eq!(in_nb.as_array().unwrap().len(), 1);

    assert_eq!(
        api.call(Method::DELETE, &format!("/insights/{insight}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.call(Method::GET, &format!("/insights/{insight}"), Some(&a), None).await.0, StatusCode::NOT_FOUND);
    let left = api.call(Method::GET, &insights_path, Some(&a), None).await.1;
    assert_eq!(left.as_array().unwrap().len(), 2);

    // Insights go with their source.
    let kept = left[0]["id"].as_str().unwrap().to_string();
    assert_eq!(api.call(Method::DELETE, &format!("/sources/{id}"), Some(&a), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &format!("/insights/{kept}"), Some(&a), None).await.0, StatusCode::NOT_FOUND);

    // Without a model to use, the request is refused before anything is queued.
    let (_, src_b) =
        api.call(Method::POST, "/sources/json", Some(&b), Some(json!({"type": "text", "content": "B's text"}))).await;
    let b_id = src_b["id"].as_str().unwrap();
    api.wait_for(&format!("/sources/{b_id}"), &b, done).await;
    let (status, resp) = api
        .call(
            Method::POST,
            &format!("/sources/{b_id}/insights"),
            Some(&b),
            Some(json!({"transformation_id": "summary"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    assert!(resp["detail"].as_str().unwrap().contains("default transformation model"), "{resp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_asked_to_be_dropped_is_dropped_once_its_text_is_kept() {
    let api = Api::with_local_ai();
    let _worker = api.worker(&[]);
    let (a, _) = api.user("a@example.com").await;
    let upload = |delete: &'static str| {
        Form::new()
            .text("type", "upload")
            .text("delete_source", delete)
            .text("transformations", "[]")
            .text("embed", "false")
            .part("file", Part::bytes(b"# Notes\nKeep the text.".to_vec()).file_name("notes.md"))
    };
    let mut ids = Vec::new();
    for delete in ["true", "false"] {
        let resp = api.http.post(api.url("/sources")).bearer_auth(&a).multipart(upload(delete)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let src: Value = resp.json().await.unwrap();
        ids.push((src["id"].as_str().unwrap().to_string(), src["asset"]["file_path"].as_str().unwrap().to_string()));
    }
    for (n, (id, file)) in ids.iter().enumerate() {
        let src = api.wait_for(&format!("/sources/{id}"), &a, done).await;
        assert_eq!(src["status"], "completed", "{src}");
        assert!(src["full_text"].as_str().unwrap().contains("Keep the text."));
        let dropped = n == 0;
        assert_eq!(api.data.path().join(file).exists(), !dropped, "{file}");
        assert_eq!(src["file_available"], !dropped, "{src}");
        assert_eq!(src["asset"]["file_path"].is_null(), dropped, "{src}");
    }
}
