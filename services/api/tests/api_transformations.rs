//! Transformations against the real API and database: the seeded defaults (read by all,
//! changed by none) and the caller's own, the default prompt, and `execute`, run by the API
//! itself against `ephitup-fake-ai` with the caller's key and base URL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use ephitup_testkit::FakeAi;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

const DEFAULTS: [&str; 4] = ["key_points", "reflection_questions", "summary", "table_of_contents"];

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn defaults_are_shared_and_read_only_and_own_ones_are_private() {
    let api = Api::with_local_ai();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (status, list) = api.call(Method::GET, "/transformations", Some(&a), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&list), DEFAULTS);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t["apply_default"] == false && !t["prompt"].as_str().unwrap().is_empty())
    );

    let body = json!({"name": "eli5", "title": "Explain simply", "description": "For kids", "prompt": "Explain it to a child."});
    let (status, own) = api.call(Method::POST, "/transformations", Some(&a), Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!((own["title"].clone(), own["apply_default"].clone()), (json!("Explain simply"), json!(false)));
    let own_id = own["id"].as_str().unwrap();
    let (status, again) = api.call(Method::POST, "/transformations", Some(&a), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "same name twice: {again}");

    let (_, list) = api.call(Method::GET, "/transformations", Some(&a), None).await;
    assert_eq!(names(&list).len(), 5);
    let (_, theirs) = api.call(Method::GET, "/transformations", Some(&b), None).await;
    assert_eq!(names(&theirs), DEFAULTS, "another user's own are not listed");

    let path = format!("/transformations/{own_id}");
    let (status, changed) =
        api.call(Method::PUT, &path, Some(&a), Some(json!({"apply_default": true, "title": "ELI5"}))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["apply_default"].clone(), changed["prompt"].clone()),
        (json!(true), json!("Explain it to a child."))
    );
    for (method, body) in [(Method::GET, None), (Method::PUT, Some(json!({"title": "x"}))), (Method::DELETE, None)] {
        let (status, resp) = api.call(method.clone(), &path, Some(&b), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} of another user's: {resp}");
    }
    let (status, resp) =
        api.call(Method::PUT, "/transformations/transformation:summary", Some(&a), Some(json!({"title": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{resp}");
    let (status, _) = api.call(Method::DELETE, "/transformations/summary", Some(&a), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, summary) = api.call(Method::GET, "/transformations/summary", Some(&b), None).await;
    assert_eq!((status, summary["title"].clone()), (StatusCode::OK, json!("Summary")));

    for (body, field) in [
        (json!({"name": "", "title": "t", "prompt": "p"}), "name"),
        (json!({"name": "n", "title": "t", "prompt": "  "}), "prompt"),
        (json!({"name": "n", "title": "t"}), "prompt"),
    ] {
        let (status, resp) = api.call(Method::POST, "/transformations", Some(&a), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{resp}");
        assert!(resp["detail"].as_str().unwrap().contains(field), "{resp}");
    }
    assert_eq!(api.call(Method::DELETE, &path, Some(&a), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &path, Some(&a), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_default_prompt_is_per_user() {
    let api = Api::with_local_ai();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (status, built_in) = api.call(Method::GET, "/transformations/default-prompt", Some(&a), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(built_in["transformation_instructions"].as_str().unwrap().contains("INSTRUCTIONS"), "{built_in}");
    let mine = json!({"transformation_instructions": "Answer in French."});
    let (status, saved) = api.call(Method::PUT, "/transformations/default-prompt", Some(&a), Some(mine.clone())).await;
    assert_eq!((status, saved), (StatusCode::OK, mine.clone()));
    assert_eq!(api.call(Method::GET, "/transformations/default-prompt", Some(&a), None).await.1, mine);
    assert_eq!(api.call(Method::GET, "/transformations/default-prompt", Some(&b), None).await.1, built_in);
    // Settings and the prompt share a record: neither overwrites the other.
    api.call(Method::PUT, "/settings", Some(&a), Some(json!({"auto_delete_files": "no"}))).await;
    assert_eq!(api.call(Method::GET, "/transformations/default-prompt", Some(&a), None).await.1, mine);
}

/// A user with a key for the stand-in (`openai` at its base URL) and a language model.
async fn ready_user(api: &Api, fake: &FakeAi, email: &str) -> (String, String) {
    let (token, _) = api.user(email).await;
    let secret = json!({"provider": "openai", "value": fake.key, "base_url": fake.base_url()});
    let (status, body) = api.call(Method::POST, "/provider-secrets", Some(&token), Some(secret)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let model = json!({"name": "fake-model", "provider": "openai", "type": "language"});
    let (_, model) = api.call(Method::POST, "/models", Some(&token), Some(model)).await;
    (token, model["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn execute_runs_now_with_the_callers_model_key_and_prompts() {
    let api = Api::with_local_ai();
    let fake = FakeAi::start("sk-transform", &[]);
    let (a, model) = ready_user(&api, &fake, "a@example.com").await;
    api.call(
        Method::PUT,
        "/transformations/default-prompt",
        Some(&a),
        Some(json!({"transformation_instructions": "Be brief."})),
    )
    .await;
    let body =
        json!({"transformation_id": "transformation:key_points", "input_text": "Leases expire.", "model_id": model});
    let (status, out) = api.call(Method::POST, "/transformations/execute", Some(&a), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{out}\n{}", api.log());
    assert_eq!(out["output"], "Output of fake-model: Leases expire.", "the thinking is removed");
    assert_eq!(
        (out["transformation_id"].clone(), out["model_id"].clone()),
        (json!("transformation:key_points"), json!(model))
    );
    let calls = fake.requests();
    let call = calls.last().unwrap();
    assert_eq!(
        (call["key"].clone(), call["model"].clone(), call["kind"].clone()),
        (json!("sk-transform"), json!("fake-model"), json!("text"))
    );
    let system = call["system"].as_str().unwrap();
    assert!(
        system.starts_with("Be brief.\n\n") && system.contains("bulleted list"),
        "instructions, then the prompt: {system}"
    );

    // Another user: the model is not theirs, and without a key the provider is named.
    let (b, _) = api.user("b@example.com").await;
    let (status, resp) = api.call(Method::POST, "/transformations/execute", Some(&b), Some(body.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{resp}");
    let (_, own_model) = api
        .call(Method::POST, "/models", Some(&b), Some(json!({"name": "m", "provider": "openai", "type": "language"})))
        .await;
    let theirs = json!({"transformation_id": "summary", "input_text": "x", "model_id": own_model["id"]});
    let (status, resp) = api.call(Method::POST, "/transformations/execute", Some(&b), Some(theirs)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    assert!(resp["detail"].as_str().unwrap().contains("openai"), "{resp}");

    // The provider refusing is a 502 with its reason; the key is never in it.
    fake.control(json!({"fail_next": 1, "fail_status": 400}));
    let (status, resp) = api.call(Method::POST, "/transformations/execute", Some(&a), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{resp}");
    assert!(!resp.to_string().contains("sk-transform"), "{resp}");
    let (status, resp) = api
        .call(
            Method::POST,
            "/transformations/execute",
            Some(&a),
            Some(json!({"transformation_id": "summary", "input_text": " ", "model_id": model})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{resp}");
    assert!(!api.log().contains("sk-transform"), "no key in the API's log");
}
