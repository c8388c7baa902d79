//! Models, default models and providers against the real API and database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Api;

#[tokio::test]
async fn models_crud_defaults_and_isolation() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;

    let (status, chat) = api
        .call(
            Method::POST,
            "/models",
            Some(&a),
            Some(json!({"name": "gpt-4o-mini", "provider": "openai", "type": "language"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    assert_eq!((chat["type"].clone(), chat["provider"].clone()), (json!("language"), json!("openai")));
    let (_, tts) = api
        .call(
            Method::POST,
            "/models",
            Some(&a),
            Some(json!({"name": "tts-1", "provider": "openai", "type": "text_to_speech"})),
        )
        .await;
    let (status, body) = api
        .call(
            Method::POST,
            "/models",
            Some(&a),
            Some(json!({"name": "gpt-4o-mini", "provider": "openai", "type": "language"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "duplicate provider+name: {body}");
    let (status, body) = api
        .call(Method::POST, "/models", Some(&a), Some(json!({"name": "x", "provider": "openai", "type": "vision"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("type"));
    let (status, _) = api
        .call(Method::POST, "/models", Some(&a), Some(json!({"name": "x", "provider": "nobody", "type": "language"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The same model for another user is theirs, not a duplicate.
    let (status, _) = api
        .call(
            Method::POST,
            "/models",
            Some(&b),
            Some(json!({"name": "gpt-4o-mini", "provider": "openai", "type": "language"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, all) = api.call(Method::GET, "/models", Some(&a), None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, language) = api.call(Method::GET, "/models?type=language", Some(&a), None).await;
    assert_eq!(language.as_array().unwrap().len(), 1);

    let (status, defaults) = api.call(Method::GET, "/models/defaults", Some(&a), None).await;
    assert_eq!((status, defaults["default_chat_model"].clone()), (StatusCode::OK, json!(null)));
    let chat_id = chat["id"].as_str().unwrap();
    let tts_id = tts["id"].as_str().unwrap();
    let (status, defaults) = api
        .call(
            Method::PUT,
            "/models/defaults",
            Some(&a),
            Some(json!({"default_chat_model": chat_id, "default_text_to_speech_model": tts_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(
        (defaults["default_chat_model"].as_str(), defaults["default_text_to_speech_model"].as_str()),
        (Some(chat_id), Some(tts_id))
    );
    let (_, again) = api.call(Method::GET, "/models/defaults", Some(&a), None).await;
    assert_eq!(again, defaults);

    // B can neither use nor see A's models.
    let (status, body) =
        api.call(Method::PUT, "/models/defaults", Some(&b), Some(json!({"default_chat_model": chat_id}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(api.call(Method::DELETE, &format!("/models/{chat_id}"), Some(&b), None).await.0, StatusCode::NOT_FOUND);
    let (_, b_defaults) = api.call(Method::GET, "/models/defaults", Some(&b), None).await;
    assert_eq!(b_defaults["default_chat_model"], json!(null));

    // Deleting a model unsets it where it was a default.
    assert_eq!(api.call(Method::DELETE, &format!("/models/{chat_id}"), Some(&a), None).await.0, StatusCode::NO_CONTENT);
    let (_, defaults) = api.call(Method::GET, "/models/defaults", Some(&a), None).await;
    assert_eq!(
        (defaults["default_chat_model"].clone(), defaults["default_text_to_speech_model"].as_str()),
        (json!(null), Some(tts_id))
    );
    assert_eq!(api.call(Method::DELETE, &format!("/models/{chat_id}"), Some(&a), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn providers_follow_the_callers_keys() {
    let api = Api::start();
    let (a, id) = api.user("a@example.com").await;
    let (status, p) = api.call(Method::GET, "/models/providers", Some(&a), None).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert!(p["available"].as_array().unwrap().is_empty(), "no keys yet: {p}");
    assert!(p["unavailable"].as_array().unwrap().contains(&json!("openai")));
    assert_eq!(p["supported_types"]["elevenlabs"], json!(["text_to_speech"]));

    let conn = support::connect(&api.db).await;
    conn.query(format!("CREATE user_provider_secret SET owner = {id}, provider = 'anthropic', encrypted_value = 'x'"))
        .await
        .unwrap()
        .check()
        .unwrap();
    let (_, p) = api.call(Method::GET, "/models/providers", Some(&a), None).await;
    assert_eq!(p["available"], json!(["anthropic"]));
    let (b, _) = api.user("b@example.com").await;
    let (_, p) = api.call(Method::GET, "/models/providers", Some(&b), None).await;
    assert!(p["available"].as_array().unwrap().is_empty(), "another user's key is not B's: {p}");
}
