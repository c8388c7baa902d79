//! Sources against the real API and database: text, link and upload (multipart and JSON),
//! the job each gets, links to notebooks, downloads, the size limit, and isolation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

async fn upload(api: &Api, token: &str, bytes: Vec<u8>, name: &str, notebooks: &str) -> (StatusCode, Value) {
    let form = Form::new()
        .text("type", "upload")
        .text("title", "A file")
        .text("notebooks", notebooks.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    let resp = api.http.post(api.url("/sources")).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sources_of_each_kind_get_a_job_and_their_notebooks() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "N"}))).await;
    let nb_id = nb["id"].as_str().unwrap().to_string();

    let (status, text) = api
        .call(
            Method::POST,
            "/sources/json",
            Some(&a),
            Some(json!({"type": "text", "content": "Ownership and borrowing.", "title": "Rust", "notebooks": [nb_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!((text["status"].clone(), text["title"].clone()), (json!("new"), json!("Rust")));
    assert!(text["command_id"].as_str().unwrap().starts_with("command:"));
    let (status, job) = api
        .call(Method::GET, &format!("/commands/jobs/{}", text["command_id"].as_str().unwrap()), Some(&a), None)
        .await;
    assert_eq!((status, job["status"].clone()), (StatusCode::OK, json!("new")));

    let (status, link) = api
        .call(Method::POST, "/sources/json", Some(&a), Some(json!({"type": "link", "url": "https://example.com/post"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    assert_eq!(link["asset"]["url"], "https://example.com/post");

    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let (status, file) = upload(&api, &a, bytes.clone(), "../../etc/notes.PDF", &format!("[\"{nb_id}\"]")).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let stored = file["asset"]["file_path"].as_str().unwrap();
    assert!(
        stored.starts_with("uploads/") && stored.ends_with(".pdf") && !stored.contains(".."),
        "a generated name: {stored}"
    );
    let resp = api
        .http
        .get(api.url(&format!("/sources/{}/download", file["id"].as_str().unwrap())))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes, "content preserved");

    let (_, detail) =
        api.call(Method::GET, &format!("/sources/{}", text["id"].as_str().unwrap()), Some(&a), None).await;
    assert_eq!(
        (detail["full_text"].clone(), detail["notebooks"].clone(), detail["file_available"].clone()),
        (json!("Ownership and borrowing."), json!([nb_id]), json!(false))
    );
    let (_, status_view) =
        api.call(Method::GET, &format!("/sources/{}/status", text["id"].as_str().unwrap()), Some(&a), None).await;
    assert_eq!(status_view["status"], "new");

    let (_, in_nb) = api.call(Method::GET, &format!("/sources?notebook_id={nb_id}"), Some(&a), None).await;
    assert_eq!(in_nb.as_array().unwrap().len(), 2);
    let (_, nb_now) = api.call(Method::GET, &format!("/notebooks/{nb_id}"), Some(&a), None).await;
    assert_eq!(nb_now["source_count"], 2);
    let link_id = link["id"].as_str().unwrap();
    assert_eq!(
        api.call(Method::POST, &format!("/notebooks/{nb_id}/sources/{link_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.call(Method::POST, &format!("/notebooks/{nb_id}/sources/{link_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT,
        "linking twice is a no-op"
    );
    let (_, in_nb) = api.call(Method::GET, &format!("/sources?notebook_id={nb_id}"), Some(&a), None).await;
    assert_eq!(in_nb.as_array().unwrap().len(), 3);
    assert_eq!(
        api.call(Method::DELETE, &format!("/notebooks/{nb_id}/sources/{link_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("/notebooks/{nb_id}/sources/{link_id}"), Some(&a), None).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, updated) = api
        .call(Method::PUT, &format!("/sources/{link_id}"), Some(&a), Some(json!({"title": "Post", "topics": ["web"]})))
        .await;
    assert_eq!(
        (status, updated["title"].clone(), updated["topics"].clone()),
        (StatusCode::OK, json!("Post"), json!(["web"]))
    );
    let file_id = file["id"].as_str().unwrap();
    assert_eq!(
        api.call(Method::DELETE, &format!("/sources/{file_id}"), Some(&a), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(!api.data.path().join(stored).exists(), "the file goes with its source");
}

#[tokio::test]
async fn bad_sources_are_refused_and_nothing_is_stored() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    for (body, field) in [
        (json!({"type": "video"}), "type"),
        (json!({"type": "text"}), "content"),
        (json!({"type": "link", "url": "ftp://x"}), "url"),
        (json!({"type": "upload"}), "file"),
    ] {
        let (status, resp) = api.call(Method::POST, "/sources/json", Some(&a), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{resp}");
        assert!(resp["detail"].as_str().unwrap().starts_with(field), "{resp}");
    }
    // Over the limit (the test server keeps the default 50 MiB; send 51).
    let (status, _) = upload(&api, &a, vec![7u8; 51 << 20], "big.bin", "[]").await;
    assert!(status == StatusCode::PAYLOAD_TOO_LARGE, "{status}");
    let (_, listed) = api.call(Method::GET, "/sources", Some(&a), None).await;
    assert_eq!(listed, json!([]));
    let uploads = api.data.path().join("uploads");
    let files = walk(&uploads);
    assert!(files.is_empty(), "no file left behind: {files:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

#[tokio::test]
async fn another_users_sources_answer_404() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (_, a_nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "A"}))).await;
    let (_, b_nb) = api.call(Method::POST, "/notebooks", Some(&b), Some(json!({"name": "B"}))).await;
    let (_, src) = upload(&api, &a, b"secret bytes".to_vec(), "s.txt", "[]").await;
    let (id, a_nb, b_nb) = (src["id"].as_str().unwrap(), a_nb["id"].as_str().unwrap(), b_nb["id"].as_str().unwrap());
    for (method, path, body) in [
        (Method::GET, format!("/sources/{id}"), None),
        (Method::GET, format!("/sources/{id}/status"), None),
        (Method::GET, format!("/sources/{id}/download"), None),
        (Method::PUT, format!("/sources/{id}"), Some(json!({"title": "mine"}))),
        (Method::DELETE, format!("/sources/{id}"), None),
        (Method::GET, format!("/sources?notebook_id={a_nb}"), None),
        (Method::POST, format!("/notebooks/{b_nb}/sources/{id}"), None),
        (Method::POST, format!("/notebooks/{a_nb}/sources/{id}"), None),
        (Method::DELETE, format!("/notebooks/{a_nb}/sources/{id}"), None),
        (Method::POST, "/sources/json".to_string(), Some(json!({"type": "text", "content": "x", "notebooks": [a_nb]}))),
    ] {
        let (status, resp) = api.call(method.clone(), &path, Some(&b), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {resp}");
    }
    let (_, listed) = api.call(Method::GET, "/sources", Some(&b), None).await;
    assert_eq!(listed, json!([]));
    let (status, detail) = api.call(Method::GET, &format!("/sources/{id}"), Some(&a), None).await;
    assert_eq!(
        (status, detail["title"].clone(), detail["file_available"].clone()),
        (StatusCode::OK, json!("A file"), json!(true))
    );
}
