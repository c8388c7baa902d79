//! `POST /api/chat/context` against the real API and database: what goes in at which depth,
//! validation, and isolation (another user's notebook, source or note is 404).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

/// A notebook of `token` with one text source and one note; returns (notebook, source, note).
async fn notebook_with_content(api: &Api, token: &str) -> (String, String, String) {
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(token), Some(json!({"name": "N"}))).await;
    let nb = nb["id"].as_str().unwrap().to_string();
    let body = json!({"type": "text", "content": "Borrowing rules, in full.", "title": "Borrowing", "notebooks": [nb]});
    let (status, source) = api.call(Method::POST, "/sources/json", Some(token), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    let (_, note) = api
        .call(
            Method::POST,
            "/notes",
            Some(token),
            Some(json!({"title": "T", "content": "A note on lifetimes", "notebook_id": nb})),
        )
        .await;
    (nb, source["id"].as_str().unwrap().to_string(), note["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn context_takes_what_the_config_says_and_counts_it() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (nb, source, note) = notebook_with_content(&api, &a).await;

    // Without a config: every source of the notebook (insights only) and every note.
    let (status, all) = api.call(Method::POST, "/chat/context", Some(&a), Some(json!({"notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["context"]["sources"], json!([{"id": source, "title": "Borrowing", "insights": []}]));
    assert_eq!(all["context"]["notes"], json!([{"id": note, "title": "T", "content": "A note on lifetimes"}]));

    // Full content brings the text; "not in" leaves a note out.
    let config = json!({"sources": {source.clone(): "full content"}, "notes": {note.clone(): "not in"}});
    let (status, full) = api
        .call(Method::POST, "/chat/context", Some(&a), Some(json!({"notebook_id": nb, "context_config": config})))
        .await;
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(full["context"]["sources"][0]["full_text"], "Borrowing rules, in full.");
    assert_eq!(full["context"]["notes"], json!([]));

    let chars = |v: &Value| v["char_count"].as_u64().unwrap();
    let tokens = |v: &Value| v["token_count"].as_u64().unwrap();
    assert_eq!(chars(&full), serde_json::to_string(&full["context"]).unwrap().chars().count() as u64);
    assert!(tokens(&full) > 0 && tokens(&full) < chars(&full), "tokens are fewer than characters: {full}");
}

#[tokio::test]
async fn context_is_owner_checked_and_validated() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (nb, source, note) = notebook_with_content(&api, &a).await;
    let (b_nb, _, _) = notebook_with_content(&api, &b).await;

    // B asking for A's notebook, or for A's source or note inside B's own notebook: 404.
    let cases = [
        json!({"notebook_id": nb}),
        json!({"notebook_id": b_nb, "context_config": {"sources": {source.clone(): "full content"}}}),
        json!({"notebook_id": b_nb, "context_config": {"notes": {note.clone(): "full content"}}}),
        json!({"notebook_id": "notebook:missing"}),
    ];
    for body in cases {
        let (status, answer) = api.call(Method::POST, "/chat/context", Some(&b), Some(body.clone())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body} → {answer}");
        assert!(!answer.to_string().contains("Borrowing"), "nothing of A's leaks: {answer}");
    }

    let invalid = [
        json!({"notebook_id": nb, "context_config": {"sources": {source.clone(): "everything"}}}),
        json!({"notebook_id": nb, "context_config": {"notes": {note.clone(): "insights"}}}),
        json!({"context_config": {}}),
    ];
    for body in invalid {
        let (status, answer) = api.call(Method::POST, "/chat/context", Some(&a), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
        assert!(answer["detail"].is_string());
    }
    let (status, _) = api.call(Method::POST, "/chat/context", None, Some(json!({"notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
