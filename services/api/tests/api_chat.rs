//! Chat, search, embeddings and ask end to end: the real API, a real `ephitup-worker` and
//! `ephitup-fake-ai` (streamed chat completions, deterministic embeddings). Sessions and their
//! messages are kept; answers stream token by token and cite the sources they use; a client
//! that hangs up stops the upstream call; text search highlights, vector search finds what the
//! worker embedded, a deleted source takes its chunks along; every route answers another
//! user's ids like missing ones.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use ephitup_testkit::FakeAi;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Api, until};

fn done(source: &Value) -> bool {
    source["status"] == "completed" || source["status"] == "failed"
}

/// One user with the stand-in as their `openai` provider, a language model as default chat
/// model, and (with `embed`) an embedding model as default embedding model.
async fn user_with_models(api: &Api, fake: &FakeAi, email: &str, embed: bool) -> (String, String) {
    let (token, _) = api.user(email).await;
    let secret = json!({"provider": "openai", "value": fake.key, "base_url": fake.base_url()});
    assert_eq!(api.call(Method::POST, "/provider-secrets", Some(&token), Some(secret)).await.0, StatusCode::CREATED);
    let (_, model) = api
        .call(
            Method::POST,
            "/models",
            Some(&token),
            Some(json!({"name": "fake-model", "provider": "openai", "type": "language"})),
        )
        .await;
    let mut defaults = json!({"default_chat_model": model["id"]});
    if embed {
        let (_, em) = api
            .call(
                Method::POST,
                "/models",
                Some(&token),
                Some(json!({"name": "fake-embed", "provider": "openai", "type": "embedding"})),
            )
            .await;
        defaults["default_embedding_model"] = em["id"].clone();
    }
    assert_eq!(api.call(Method::PUT, "/models/defaults", Some(&token), Some(defaults)).await.0, StatusCode::OK);
    (token, model["id"].as_str().unwrap().to_string())
}

/// A processed text source in the notebook.
async fn text_source(api: &Api, token: &str, nb: &str, title: &str, content: &str, embed: bool) -> String {
    let body = json!({"type": "text", "title": title, "content": content, "notebooks": [nb], "embed": embed});
    let (status, src) = api.call(Method::POST, "/sources/json", Some(token), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{src}");
    let id = src["id"].as_str().unwrap().to_string();
    let processed = api.wait_for(&format!("/sources/{id}"), token, done).await;
    assert_eq!(processed["status"], "completed", "{processed}");
    id
}

/// The events of a server-sent event stream, each with the number of the read it came in.
async fn events(resp: reqwest::Response) -> Vec<(usize, Value)> {
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut reads = resp.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = reads.next().await {
        n += 1;
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    out.push((n, serde_json::from_str(data.trim()).unwrap()));
                }
            }
        }
    }
    out
}

async fn post_stream(api: &Api, path: &str, token: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(api.url(path))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_sessions_stream_answers_with_citations_and_stay_the_owners() {
    let api = Api::with_local_ai();
    let _worker = api.worker(&[]);
    let fake = FakeAi::start("sk-chat", &["--stream-delay-ms", "20"]);
    let (a, _) = user_with_models(&api, &fake, "a@example.com", false).await;
    let (b, _) = user_with_models(&api, &fake, "b@example.com", false).await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "Garden"}))).await;
    let nb = nb["id"].as_str().unwrap().to_string();
    let src = text_source(&api, &a, &nb, "Heliotrope notes", "Heliotrope turns toward the sun.", false).await;
    let (_, note) = api
        .call(
            Method::POST,
            "/notes",
            Some(&a),
            Some(json!({"title": "Sun", "content": "It rises.", "notebook_id": nb})),
        )
        .await;

    // Sessions: created, listed, renamed; another user sees none of them.
    let (status, session) =
        api.call(Method::POST, "/chat/sessions", Some(&a), Some(json!({"notebook_id": nb, "title": "First"}))).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let sid = session["id"].as_str().unwrap().to_string();
    assert_eq!((session["notebook_id"].as_str(), session["message_count"].as_i64()), (Some(nb.as_str()), Some(0)));
    let (status, _) = api.call(Method::POST, "/chat/sessions", Some(&b), Some(json!({"notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "b cannot open a session in a's notebook");
    assert_eq!(
        api.call(Method::GET, &format!("/chat/sessions?notebook_id={nb}"), Some(&b), None).await.0,
        StatusCode::NOT_FOUND
    );
    let path = format!("/chat/sessions/{sid}");
    for method in [Method::GET, Method::DELETE] {
        assert_eq!(api.call(method, &path, Some(&b), None).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(api.call(Method::PUT, &path, Some(&b), Some(json!({"title": "x"}))).await.0, StatusCode::NOT_FOUND);
    let (status, _) =
        api.call(Method::POST, "/chat/execute", Some(&b), Some(json!({"session_id": sid, "message": "hi"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the original app let anyone chat in any session");
    let (_, renamed) = api.call(Method::PUT, &path, Some(&a), Some(json!({"title": "Sunflowers"}))).await;
    assert_eq!(renamed["title"], "Sunflowers");

    // Streamed: tokens as the model writes them (in earlier reads than the end), then the
    // saved message citing the source, by title.
    let context =
        json!({"sources": {src.clone(): "full content"}, "notes": {note["id"].as_str().unwrap(): "full content"}});
    let resp = post_stream(
        &api,
        "/chat/execute",
        &a,
        json!({"session_id": sid, "message": "Which way does it turn?", "context": context}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let evs = events(resp).await;
    let kinds: Vec<&str> = evs.iter().map(|(_, e)| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"context"), "{evs:?}");
    assert_eq!((&evs[0].1["included"]["sources"], &evs[0].1["left_out"]), (&json!([src]), &json!(0)));
    assert_eq!(kinds.last(), Some(&"done"), "{evs:?}");
    let tokens: Vec<&(usize, Value)> = evs.iter().filter(|(_, e)| e["type"] == "token").collect();
    assert!(tokens.len() > 3, "{evs:?}");
    assert!(tokens[0].0 < evs.last().unwrap().0, "the first token came in the same read as the end: buffered");
    let streamed: String = tokens.iter().map(|(_, e)| e["content"].as_str().unwrap()).collect();
    let message = &evs.last().unwrap().1["message"];
    assert_eq!(message["content"].as_str().unwrap(), streamed.trim());
    assert!(streamed.starts_with("Answer of fake-model: about Which way does it turn?"), "{streamed}");
    assert_eq!(message["citations"], json!([{"id": src, "title": "Heliotrope notes"}]));
    let system = fake.requests().into_iter().rev().find(|r| r["kind"] == "stream").unwrap()["system"].clone();
    assert!(
        system.as_str().unwrap().contains("Heliotrope turns toward the sun.")
            && system.as_str().unwrap().contains("It rises.")
    );

    // Not streamed: the whole conversation; both answers kept, in order.
    let (status, conv) = api
        .call(
            Method::POST,
            "/chat/execute",
            Some(&a),
            Some(json!({"session_id": sid, "message": "And at night?", "context": context})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{conv}");
    let kinds: Vec<&str> = conv["messages"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["human", "ai", "human", "ai"]);
    let (_, read) = api.call(Method::GET, &path, Some(&a), None).await;
    assert_eq!(read["messages"], conv["messages"]);
    assert_eq!(read["message_count"], 4);
    // The history went to the model with the new message.
    let last = fake.requests().into_iter().rev().find(|r| r["kind"] == "text").unwrap();
    assert_eq!(last["key"], "sk-chat");

    // Context of another user's source: refused, nothing sent.
    let (_, nb_b) = api.call(Method::POST, "/notebooks", Some(&b), Some(json!({"name": "B"}))).await;
    let (_, sb) = api.call(Method::POST, "/chat/sessions", Some(&b), Some(json!({"notebook_id": nb_b["id"]}))).await;
    let steal =
        json!({"session_id": sb["id"], "message": "read it", "context": {"sources": {src.clone(): "full content"}}});
    assert_eq!(api.call(Method::POST, "/chat/execute", Some(&b), Some(steal)).await.0, StatusCode::NOT_FOUND);

    // A client that hangs up stops the upstream call, and no answer is saved.
    let (_, s2) = api.call(Method::POST, "/chat/sessions", Some(&a), Some(json!({"notebook_id": nb}))).await;
    fake.control(json!({}));
    let long = "word ".repeat(60);
    let mut resp =
        post_stream(&api, "/chat/execute", &a, json!({"session_id": s2["id"], "message": long})).await.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("\"token\"") {
        seen.push_str(&String::from_utf8_lossy(&resp.next().await.unwrap().unwrap()));
    }
    drop(resp);
    let ended = loop {
        let ends: Vec<Value> = fake.requests().into_iter().filter(|r| r["path"] == "/_stream_end").collect();
        if ends.len() == 2 {
            break ends[1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(ended["sent"].as_u64().unwrap() < ended["total"].as_u64().unwrap(), "{ended}");
    let (_, kept) =
        api.call(Method::GET, &format!("/chat/sessions/{}", s2["id"].as_str().unwrap()), Some(&a), None).await;
    let kinds: Vec<&str> = kept["messages"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["human"]);

    // Chat with one source: its own sessions and the contract's events.
    let spath = format!("/sources/{src}/chat/sessions");
    let (status, ss) = api.call(Method::POST, &spath, Some(&a), Some(json!({"title": "About it"}))).await;
    assert_eq!(status, StatusCode::OK, "{ss}");
    let ss_id = ss["id"].as_str().unwrap();
    assert_eq!(api.call(Method::POST, &spath, Some(&b), Some(json!({}))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Method::GET, &format!("{spath}/{ss_id}"), Some(&b), None).await.0, StatusCode::NOT_FOUND);
    let (status, _) =
        api.call(Method::POST, &format!("{spath}/{ss_id}/messages"), Some(&b), Some(json!({"message": "hi"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for method in [Method::DELETE, Method::PUT] {
        let body = (method == Method::PUT).then(|| json!({"title": "x"}));
        assert_eq!(api.call(method, &format!("{spath}/{ss_id}"), Some(&b), body).await.0, StatusCode::NOT_FOUND);
    }
    // A notebook session is not this source's.
    assert_eq!(api.call(Method::GET, &format!("{spath}/{sid}"), Some(&a), None).await.0, StatusCode::NOT_FOUND);
    let resp = post_stream(&api, &format!("{spath}/{ss_id}/messages"), &a, json!({"message": "Summarise"})).await;
    let kinds: Vec<String> =
        events(resp).await.into_iter().map(|(_, e)| e["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["user_message", "context_indicators", "ai_message", "complete"]);
    let (_, read) = api.call(Method::GET, &format!("{spath}/{ss_id}"), Some(&a), None).await;
    assert_eq!(read["context_indicators"]["sources"], json!([src]));
    assert_eq!(read["messages"].as_array().unwrap().len(), 2);
    let (_, listed) = api.call(Method::GET, &spath, Some(&a), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Deleting the notebook's session takes its messages; deleting the source its sessions.
    assert_eq!(api.call(Method::DELETE, &path, Some(&a), None).await.0, StatusCode::OK);
    assert_eq!(api.call(Method::GET, &path, Some(&a), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Method::DELETE, &format!("/sources/{src}"), Some(&a), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        api.call(Method::GET, &format!("/chat/sessions/{ss_id}"), Some(&a), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_by_text_and_vector_and_ask_answers() {
    let api = Api::with_local_ai();
    let _worker = api.worker(&[]);
    let fake = FakeAi::start("sk-search", &[]);
    let (a, model) = user_with_models(&api, &fake, "a@example.com", true).await;
    let (b, _) = user_with_models(&api, &fake, "b@example.com", false).await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "Garden"}))).await;
    let nb = nb["id"].as_str().unwrap().to_string();
    let (_, other) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "Elsewhere"}))).await;
    let src =
        text_source(&api, &a, &nb, "Heliotrope notes", "The heliotrope turns toward the sun every morning.", true)
            .await;
    let far = text_source(&api, &a, other["id"].as_str().unwrap(), "Rocks", "Granite is an igneous rock.", true).await;
    let (_, note) = api
        .call(
            Method::POST,
            "/notes",
            Some(&a),
            Some(json!({"title": "Sun facts", "content": "The sun rises in the east.", "notebook_id": nb})),
        )
        .await;

    // The worker embeds what asked for it (sources with `embed`, notes of a user who embeds).
    let embedded = api.wait_for(&format!("/sources/{src}"), &a, |s| s["embedded_chunks"].as_i64() > Some(0)).await;
    assert_eq!(embedded["embedded"], true);
    let embeds =
        |fake: &FakeAi| fake.requests().iter().filter(|r| r["path"] == "/v1/embeddings" && r["status"] == 200).count();

    // Text: BM25 over chunks, passages highlighted.
    let (status, found) =
        api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "heliotrope", "type": "text"}))).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["search_type"], "text");
    assert_eq!(found["results"][0]["id"], src.as_str(), "{found}");
    assert_eq!(found["results"][0]["title"], "Heliotrope notes");
    assert!(found["results"][0]["matches"][0].as_str().unwrap().contains("<mark>heliotrope</mark>"), "{found}");
    // Stemmed: "turning" finds "turns"; notes only leave the source out.
    let (_, stem) = api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "turning"}))).await;
    assert_eq!(stem["total_count"], 1, "{stem}");
    let (_, notes_only) =
        api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "sun", "search_sources": false}))).await;
    let ids: Vec<&str> = notes_only["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [note["id"].as_str().unwrap()], "{notes_only}");
    // One notebook only.
    let (_, granite) =
        api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "granite", "notebook_id": nb}))).await;
    assert_eq!(granite["total_count"], 0, "{granite}");
    let (_, granite) = api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "granite"}))).await;
    assert_eq!(granite["results"][0]["id"], far.as_str());
    // Another user finds nothing of a's, and cannot search a's notebook.
    let (_, theirs) = api.call(Method::POST, "/search", Some(&b), Some(json!({"query": "heliotrope"}))).await;
    assert_eq!(theirs["total_count"], 0, "{theirs}");
    let (status, _) =
        api.call(Method::POST, "/search", Some(&b), Some(json!({"query": "sun", "notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Vector: the query embedded like the chunks; nearest first.
    let query = json!({"query": "The heliotrope turns toward the sun every morning.", "type": "vector"});
    let (status, near) = api.call(Method::POST, "/search", Some(&a), Some(query.clone())).await;
    assert_eq!(status, StatusCode::OK, "{near}");
    assert_eq!(near["results"][0]["id"], src.as_str(), "{near}");
    assert!(near["results"][0]["score"].as_f64().unwrap() > 0.99, "{near}");
    assert!(near["results"].as_array().unwrap().iter().all(|r| r["score"].as_f64().unwrap() >= 0.2));
    // Notes only (the item type is a condition of the vector search too): the note, not the source.
    let notes_query = json!({"query": "It rises.", "type": "vector", "search_sources": false, "minimum_score": -1.0});
    let (_, near_notes) = api.call(Method::POST, "/search", Some(&a), Some(notes_query)).await;
    let ids: Vec<&str> = near_notes["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [note["id"].as_str().unwrap()], "{near_notes}");
    // Without an embedding model: 400 naming what to set.
    let (status, err) = api.call(Method::POST, "/search", Some(&b), Some(query.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["detail"].as_str().unwrap().contains("embedding model"), "{err}");

    // Rebuild: every item chunked and embedded again, with progress.
    let before = embeds(&fake);
    let (status, rebuild) = api
        .call(
            Method::POST,
            "/embeddings/rebuild",
            Some(&a),
            Some(json!({"mode": "all", "include_sources": true, "include_notes": true, "include_insights": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rebuild}");
    assert_eq!(rebuild["total_items"], 3, "{rebuild}");
    let status_path = format!("/embeddings/rebuild/{}/status", rebuild["command_id"].as_str().unwrap());
    let finished = api.wait_for(&status_path, &a, |s| s["status"] == "completed" || s["status"] == "failed").await;
    assert_eq!(finished["status"], "completed", "{finished}");
    assert_eq!(finished["progress"], json!({"processed": 3, "total": 3, "percentage": 100.0}));
    assert_eq!(finished["stats"], json!({"sources": 2, "notes": 1, "insights": 0, "failed": 0}));
    // At least one call for the two sources' group and one for the note (other embedding
    // jobs of the items may still add theirs).
    assert!(embeds(&fake) >= before + 2);
    assert_eq!(api.call(Method::GET, &status_path, Some(&b), None).await.0, StatusCode::NOT_FOUND);
    // The two sources went in one group (their texts read, chunked and embedded together):
    // each chunk got its own text's vector back.
    let (_, again) = api.call(Method::POST, "/search", Some(&a), Some(query.clone())).await;
    assert_eq!(again["results"][0]["id"], src.as_str(), "{again}");
    assert!(again["results"][0]["score"].as_f64().unwrap() > 0.99, "{again}");
    assert_eq!(again["total_count"], near["total_count"], "{again}");

    // Embed one item now.
    let (status, one) = api
        .call(
            Method::POST,
            "/embed",
            Some(&a),
            Some(json!({"item_id": note["id"], "item_type": "note", "async_processing": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["success"], true, "{one}");
    assert_eq!(one["message"], "Embedded 1 chunks", "the note's one chunk got its vector: {one}");
    let (status, _) = api
        .call(
            Method::POST,
            "/embed",
            Some(&b),
            Some(json!({"item_id": note["id"], "item_type": "note", "async_processing": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Ask: a plan, one answer per search, the final answer.
    let ask = json!({"question": "Which direction does heliotrope face?", "strategy_model": model, "answer_model": model, "final_answer_model": model});
    let resp = post_stream(&api, "/search/ask", &a, ask.clone()).await;
    let evs: Vec<Value> = events(resp).await.into_iter().map(|(_, e)| e).collect();
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"strategy"), "{evs:?}");
    let searches = evs[0]["searches"].as_array().unwrap().len();
    assert!(searches >= 1);
    assert_eq!(kinds.iter().filter(|k| **k == "answer").count(), searches, "{evs:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["final_answer", "complete"]);
    assert!(!evs.last().unwrap()["final_answer"].as_str().unwrap().is_empty());
    let (status, simple) = api.call(Method::POST, "/search/ask/simple", Some(&a), Some(ask.clone())).await;
    assert_eq!(status, StatusCode::OK, "{simple}");
    assert!(!simple["answer"].as_str().unwrap().is_empty());
    // Another user's model ids are missing for b.
    assert_eq!(api.call(Method::POST, "/search/ask/simple", Some(&b), Some(ask)).await.0, StatusCode::NOT_FOUND);

    // A deleted source takes its chunks with it.
    assert_eq!(api.call(Method::DELETE, &format!("/sources/{src}"), Some(&a), None).await.0, StatusCode::NO_CONTENT);
    let (_, gone) = api.call(Method::POST, "/search", Some(&a), Some(json!({"query": "heliotrope"}))).await;
    assert_eq!(gone["total_count"], 0, "{gone}");
    let (_, gone) = api.call(Method::POST, "/search", Some(&a), Some(query)).await;
    assert!(gone["results"].as_array().unwrap().iter().all(|r| r["id"] != src.as_str()), "{gone}");
}

/// A notebook longer than the model's window: the stream's `context` event names what went in
/// and counts every note left out, those past the first page of links too (counted while the
/// model is asked).
#[tokio::test(flavor = "multi_thread")]
async fn a_notebook_past_the_window_reports_every_note_left_out() {
    const NOTES: usize = 140;
    let api = Api::with_local_ai();
    let fake = FakeAi::start("sk-chat", &[]);
    let (a, _) = user_with_models(&api, &fake, "a@example.com", false).await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "Long"}))).await;
    let nb = nb["id"].as_str().unwrap().to_string();
    let content = "The garden grows toward the sun every morning. ".repeat(30);
    for i in 0..NOTES {
        let body = json!({"title": format!("Note {i}"), "content": content, "notebook_id": nb});
        assert_eq!(api.call(Method::POST, "/notes", Some(&a), Some(body)).await.0, StatusCode::CREATED);
    }
    let (_, session) = api.call(Method::POST, "/chat/sessions", Some(&a), Some(json!({"notebook_id": nb}))).await;
    let resp =
        post_stream(&api, "/chat/execute", &a, json!({"session_id": session["id"], "message": "What grows?"})).await;
    let evs = events(resp).await;
    let context = &evs.first().expect("events").1;
    assert_eq!(context["type"], "context", "{evs:?}");
    let included = context["included"]["notes"].as_array().unwrap().len();
    assert!(included > 10 && included < 128, "{included} notes in: the window holds fewer than a page");
    assert_eq!(included + context["left_out"].as_u64().unwrap() as usize, NOTES, "{context}");
    assert_eq!(evs.last().unwrap().1["type"], "done", "{evs:?}");
}

/// Answers have a bound of their own (`API_MAX_STREAMS`), since a stream outlives the
/// in-flight bound: one past it is shed at once with `503` and `Retry-After`, on every
/// route that answers, streamed or whole; a client that hangs up frees its slot.
#[tokio::test(flavor = "multi_thread")]
async fn streams_past_their_bound_are_shed_and_a_hung_up_one_frees_its_slot() {
    let api = Api::start_with(&[
        ("ALLOW_PRIVATE_PROVIDER_URLS".into(), "true".into()),
        ("API_MAX_STREAMS".into(), "1".into()),
    ]);
    // A long answer at 100 ms a piece: the first stream lasts half a minute unless cut.
    let fake = FakeAi::start("sk-chat", &["--stream-delay-ms", "100"]);
    let (a, model) = user_with_models(&api, &fake, "a@example.com", false).await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "Streams"}))).await;
    let session = async || {
        let (_, s) = api.call(Method::POST, "/chat/sessions", Some(&a), Some(json!({"notebook_id": nb["id"]}))).await;
        s["id"].as_str().unwrap().to_string()
    };
    let (s1, s2) = (session().await, session().await);

    let long = "word ".repeat(300);
    let mut first =
        post_stream(&api, "/chat/execute", &a, json!({"session_id": s1, "message": long})).await.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("\"token\"") {
        seen.push_str(&String::from_utf8_lossy(&first.next().await.unwrap().unwrap()));
    }

    let shed = post_stream(&api, "/chat/execute", &a, json!({"session_id": s2, "message": "hi"})).await;
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    let detail: Value = shed.json().await.unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("too many answers"), "{detail}");
    let ask = json!({"question": "q?", "strategy_model": model, "answer_model": model, "final_answer_model": model});
    assert_eq!(post_stream(&api, "/search/ask", &a, ask.clone()).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (_, src) = api
        .call(
            Method::POST,
            "/sources/json",
            Some(&a),
            Some(json!({"type": "text", "title": "T", "content": "c", "notebooks": [nb["id"]]})),
        )
        .await;
    let spath = format!("/sources/{}/chat/sessions", src["id"].as_str().unwrap());
    let (_, ss) = api.call(Method::POST, &spath, Some(&a), Some(json!({}))).await;
    let message = format!("{spath}/{}/messages", ss["id"].as_str().unwrap());
    assert_eq!(
        post_stream(&api, &message, &a, json!({"message": "hi"})).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    // Not streamed: an answer all the same (an upstream call and its prompt held), so shed too.
    let (status, conv) =
        api.call(Method::POST, "/chat/execute", Some(&a), Some(json!({"session_id": s2, "message": "hi"}))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{conv}");
    let (status, _) = api.call(Method::POST, "/search/ask/simple", Some(&a), Some(ask.clone())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    drop(first);
    until("the hung-up stream's slot is free", async || {
        post_stream(&api, "/chat/execute", &a, json!({"session_id": s2, "message": "again"})).await.status()
            == StatusCode::OK
    })
    .await;
    // That stream's client hung up too; once it is noticed, a whole answer has room again.
    until("a whole answer has room", async || {
        let body = json!({"session_id": s2, "message": "whole"});
        api.call(Method::POST, "/chat/execute", Some(&a), Some(body)).await.0 == StatusCode::OK
    })
    .await;
}
