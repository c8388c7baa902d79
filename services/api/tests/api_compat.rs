//! What the original web client needs of what already existed, against the real API and
//! database: unknown paths and methods answer in the error shape; `POST /sources` takes and
//! honours `embed`, `transformations` and `delete_source` (with the caller's settings);
//! `PUT /models/defaults` merges; `POST /sources/{id}/retry`; `GET/PUT /settings`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::time::{Duration, Instant};

use ephitup_store::repo::jobs;
use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

/// The form the original client sends for a text source (every field, as strings).
fn original_form(content: &str, transformations: &str, embed: &str) -> Form {
    Form::new()
        .text("type", "text")
        .text("content", content.to_string())
        .text("title", "From the original client")
        .text("notebooks", "[]")
        .text("transformations", transformations.to_string())
        .text("embed", embed.to_string())
        .text("delete_source", "false")
        .text("async_processing", "true")
}

async fn post_form(api: &Api, token: &str, form: Form) -> (StatusCode, Value) {
    let resp = api.http.post(api.url("/sources")).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The arguments of a source's processing job, as the worker will see them (by claiming it).
async fn job_args(api: &Api, job_id: &str) -> Value {
    let db = support::connect(&api.db).await;
    let job = jobs::claim(&db, job_id, "test", Duration::from_secs(60)).await.unwrap().expect("the job is new");
    jobs::hand_back(&db, job_id, "test").await.unwrap();
    job.args
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let api = Api::start();
    let (token, _) = api.user("a@example.com").await;
    for path in ["/api/nothing-here", "/api/notebooks/x/y/z", "/no-api-at-all"] {
        let resp =
            api.http.get(format!("http://127.0.0.1:{}{path}", api.port)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.json::<Value>().await.unwrap(), json!({"detail": "Not Found"}), "{path}");
    }
    let resp = api.http.delete(api.url("/notebooks")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(allow.contains("GET") && allow.contains("POST") && !allow.contains("DELETE"), "Allow: {allow}");
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"detail": "Method Not Allowed"}));
    // A route with a layer of its own (the upload limit) gets the same answer.
    let resp = api.http.patch(api.url("/sources")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers().contains_key("allow"));
}

#[tokio::test]
async fn the_original_clients_source_form_is_accepted_and_its_choices_kept_on_the_job() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (_, own) = api
        .call(
            Method::POST,
            "/transformations",
            Some(&a),
            Some(json!({"name": "mine", "title": "Mine", "prompt": "Do it.", "apply_default": true})),
        )
        .await;
    let own_id = own["id"].as_str().unwrap().to_string();

    let (status, src) = post_form(&api, &a, original_form("Some text.", "[\"transformation:summary\"]", "true")).await;
    assert_eq!(status, StatusCode::CREATED, "{src}");
    let args = job_args(&api, src["command_id"].as_str().unwrap()).await;
    assert_eq!(args["embed"], true, "ask (the default): the request decides");
    assert_eq!(args["delete_source"], false, "only uploads drop a file");
    assert_eq!(args["transformations"], json!(["transformation:summary", own_id]), "named, then apply_default");

    // The empty strings the client sends for unset fields are fine too.
    let (status, src) = post_form(&api, &a, original_form("More.", "", "")).await;
    assert_eq!(status, StatusCode::CREATED, "{src}");
    assert_eq!(job_args(&api, src["command_id"].as_str().unwrap()).await["embed"], false);

    // Another user's transformation is as unknown as a missing one; nothing is stored.
    let (status, body) = post_form(&api, &b, original_form("X", &format!("[\"{own_id}\"]"), "false")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Transformation"), "{body}");
    let (status, body) = post_form(&api, &a, original_form("X", "not json", "false")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = post_form(&api, &a, original_form("X", "[]", "maybe")).await;
    assert_eq!(
        (status, body["detail"].as_str().unwrap().starts_with("embed")),
        (StatusCode::UNPROCESSABLE_ENTITY, true)
    );
    let (_, listed) = api.call(Method::GET, "/sources", Some(&b), None).await;
    assert_eq!(listed, json!([]));

    // The JSON form takes the same fields.
    let body = json!({"type": "text", "content": "J", "embed": false, "delete_source": true, "transformations": [],
                      "notebooks": [], "async_processing": true});
    let (status, src) = api.call(Method::POST, "/sources/json", Some(&b), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{src}");
    let args = job_args(&api, src["command_id"].as_str().unwrap()).await;
    assert_eq!((args["embed"].clone(), args["transformations"].clone()), (json!(false), json!([])));
}

#[tokio::test]
async fn settings_decide_embedding_and_file_deletion_of_new_sources() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (status, defaults) = api.call(Method::GET, "/settings", Some(&a), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (defaults["default_embedding_option"].clone(), defaults["auto_delete_files"].clone()),
        (json!("ask"), json!("yes"))
    );
    assert_eq!(defaults["default_content_processing_engine_doc"], "auto");
    assert!(defaults["youtube_preferred_languages"].as_array().unwrap().contains(&json!("en")));

    let upload = |token: String, delete: Option<&'static str>| {
        let mut form = Form::new()
            .text("type", "upload")
            .part("file", reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"));
        if let Some(d) = delete {
            form = form.text("delete_source", d);
        }
        let api = &api;
        async move { post_form(api, &token, form).await }
    };
    let (_, src) = upload(a.clone(), None).await;
    assert_eq!(
        job_args(&api, src["command_id"].as_str().unwrap()).await["delete_source"],
        true,
        "auto_delete_files: yes"
    );
    let (_, src) = upload(a.clone(), Some("false")).await;
    assert_eq!(job_args(&api, src["command_id"].as_str().unwrap()).await["delete_source"], false, "the request says");

    // PUT merges: one field changes, the others stay.
    let (status, changed) =
        api.call(Method::PUT, "/settings", Some(&a), Some(json!({"default_embedding_option": "always"}))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["default_embedding_option"].clone(), changed["auto_delete_files"].clone()),
        (json!("always"), json!("yes"))
    );
    let (_, changed) = api.call(Method::PUT, "/settings", Some(&a), Some(json!({"auto_delete_files": "no"}))).await;
    assert_eq!(
        (changed["default_embedding_option"].clone(), changed["auto_delete_files"].clone()),
        (json!("always"), json!("no"))
    );
    let (_, src) = post_form(&api, &a, original_form("t", "[]", "false")).await;
    assert_eq!(
        job_args(&api, src["command_id"].as_str().unwrap()).await["embed"],
        true,
        "always wins over the request"
    );
    let (_, src) = upload(a.clone(), None).await;
    assert_eq!(
        job_args(&api, src["command_id"].as_str().unwrap()).await["delete_source"],
        false,
        "auto_delete_files: no"
    );
    api.call(Method::PUT, "/settings", Some(&a), Some(json!({"default_embedding_option": "never"}))).await;
    let (_, src) = post_form(&api, &a, original_form("t", "[]", "true")).await;
    assert_eq!(
        job_args(&api, src["command_id"].as_str().unwrap()).await["embed"],
        false,
        "never wins over the request"
    );

    // Another user's settings are their own.
    let (_, theirs) = api.call(Method::GET, "/settings", Some(&b), None).await;
    assert_eq!(theirs, defaults);

    for (body, field) in [
        (json!({"default_embedding_option": "sometimes"}), "default_embedding_option"),
        (json!({"auto_delete_files": true}), "auto_delete_files"),
        (json!({"youtube_preferred_languages": ["en", "<script>"]}), "youtube_preferred_languages"),
        (json!({"unknown": 1}), "unknown"),
    ] {
        let (status, resp) = api.call(Method::PUT, "/settings", Some(&a), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{resp}");
        assert!(resp["detail"].as_str().unwrap().contains(field), "{resp}");
    }
}

#[tokio::test]
async fn default_models_merge_one_field_at_a_time() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let model = |token: String, name: &'static str| {
        let api = &api;
        async move {
            let body = json!({"name": name, "provider": "openai", "type": "language"});
            api.call(Method::POST, "/models", Some(&token), Some(body)).await.1["id"].as_str().unwrap().to_string()
        }
    };
    let (m1, m2, theirs) = (model(a.clone(), "m1").await, model(a.clone(), "m2").await, model(b.clone(), "x").await);
    let put = |body: Value| {
        let (api, a) = (&api, a.clone());
        async move { api.call(Method::PUT, "/models/defaults", Some(&a), Some(body)).await }
    };
    let (status, d) = put(json!({"default_chat_model": m1})).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (_, d) = put(json!({"default_transformation_model": m2})).await;
    assert_eq!((d["default_chat_model"].clone(), d["default_transformation_model"].clone()), (json!(m1), json!(m2)));
    let (_, d) = put(json!({"default_chat_model": null})).await;
    assert_eq!((d["default_chat_model"].clone(), d["default_transformation_model"].clone()), (Value::Null, json!(m2)));
    let (status, d) = put(json!({"default_tools_model": theirs})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "another user's model: {d}");
    let (status, d) = put(json!({"default_everything": m1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{d}");
    let (status, d) = put(json!({"default_chat_model": 7})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{d}");
    let (_, d) = api.call(Method::GET, "/models/defaults", Some(&a), None).await;
    assert_eq!((d["default_chat_model"].clone(), d["default_transformation_model"].clone()), (Value::Null, json!(m2)));
}

#[tokio::test]
async fn a_failed_or_stuck_processing_job_is_queued_again() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let db = support::connect(&api.db).await;
    let (_, src) =
        api.call(Method::POST, "/sources/json", Some(&a), Some(json!({"type": "text", "content": "T"}))).await;
    let (id, job) = (src["id"].as_str().unwrap().to_string(), src["command_id"].as_str().unwrap().to_string());
    let retry = |token: String| {
        let (api, id) = (&api, id.clone());
        async move { api.call(Method::POST, &format!("/sources/{id}/retry"), Some(&token), None).await }
    };
    let (status, body) = retry(a.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "queued already: {body}");

    jobs::claim(&db, &job, "w1", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(retry(a.clone()).await.0, StatusCode::BAD_REQUEST, "running under a live lease");
    jobs::fail(&db, &job, "w1", "boom").await.unwrap();
    assert_eq!(retry(b.clone()).await.0, StatusCode::NOT_FOUND, "another user's source");
    let (status, body) = retry(a.clone()).await;
    assert_eq!(
        (status, body["status"].clone(), body["command_id"].clone()),
        (StatusCode::OK, json!("new"), json!(job))
    );
    let state = jobs::inspect(&db, &job).await.unwrap();
    assert_eq!((state["attempts"].clone(), state["error_message"].clone()), (json!(0), Value::Null));

    // Stuck: running, its lease run out (the worker died and no sweep ran yet).
    jobs::claim(&db, &job, "w2", Duration::from_millis(1)).await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = retry(a.clone()).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "a stuck job is never retried: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!jobs::complete(&db, &job, "w2", json!({})).await.unwrap(), "the old worker lost its lease");
    assert_eq!(jobs::inspect(&db, &job).await.unwrap()["status"], "new");
}
