//! Provider secrets against the real API and database: upsert, list, masked read, delete;
//! the value at rest is a Fernet token of the generated key, and no response ever carries
//! the plaintext; validation; and isolation between users.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use ephitup_store::SecretBox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

const PLAIN: &str = "sk-live-0123456789-SECRET-abcd";
const PLAIN_2: &str = "sk-second-value-wxyz";

/// Every stored row: (owner, provider, encrypted_value).
async fn stored(api: &Api) -> Vec<(String, String, String)> {
    let conn = support::connect(&api.db).await;
    let rows: Vec<Value> = conn
        .query("SELECT <string> owner AS owner, provider, encrypted_value FROM user_provider_secret ORDER BY owner, provider")
        .await
        .unwrap()
        .take(0)
        .unwrap();
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("owner"), s("provider"), s("encrypted_value"))
        })
        .collect()
}

/// Calls the API and checks that no plaintext appears in the answer.
async fn call(api: &Api, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    let (status, answer) = api.call(method.clone(), path, Some(token), body).await;
    let text = answer.to_string();
    for plain in [PLAIN, PLAIN_2] {
        assert!(!text.contains(plain), "{method} {path} answered with a plaintext value: {text}");
    }
    (status, answer)
}

#[tokio::test]
async fn upsert_list_read_masked_and_delete() {
    let api = Api::start();
    let (t, user_id) = api.user("a@example.com").await;
    let (status, list) = call(&api, Method::GET, "/provider-secrets", &t, None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));

    let (status, created) = call(
        &api,
        Method::POST,
        "/provider-secrets",
        &t,
        Some(json!({"provider": "openai", "value": PLAIN, "display_name": "Work key"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["provider"], "openai");
    assert_eq!(created["display_name"], "Work key");
    assert_eq!(created["base_url"], Value::Null);
    assert_eq!(created["has_value"], true);
    assert_eq!(created["masked_value"], "sk-…abcd");
    assert!(created["created"].is_string() && created["updated"].is_string(), "{created}");

    let (status, short) = call(
        &api,
        Method::POST,
        "/provider-secrets",
        &t,
        Some(json!({"provider": "ollama", "value": "12345678", "base_url": "https://ollama.example.com/v1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{short}");
    assert_eq!(
        (short["masked_value"].clone(), short["base_url"].clone()),
        (json!("…"), json!("https://ollama.example.com/v1"))
    );

    // The list: names and times only, never a value, masked or not.
    let (_, list) = call(&api, Method::GET, "/provider-secrets", &t, None).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["provider"], "ollama");
    assert_eq!(list[1]["provider"], "openai");
    for item in list {
        let mut keys: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["created", "display_name", "provider", "updated"], "{item}");
    }

    let (status, read) = call(&api, Method::GET, "/provider-secrets/openai", &t, None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(
        (read["masked_value"].clone(), read["has_value"].clone(), read["display_name"].clone()),
        (json!("sk-…abcd"), json!(true), json!("Work key"))
    );

    // At rest: a Fernet token of the key kept in DATA_PATH/.secrets/fernet_key.
    let key_file = api.data.path().join(".secrets/fernet_key");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let sb = SecretBox::from_key_file(api.data.path()).unwrap();
    let rows = stored(&api).await;
    let (_, _, token) = rows.iter().find(|(_, p, _)| p == "openai").unwrap();
    assert!(rows.iter().all(|(o, _, _)| *o == user_id), "{user_id}");
    assert!(!token.contains(PLAIN) && token != PLAIN);
    assert_eq!(sb.decrypt(token).unwrap(), PLAIN);
    assert!(SecretBox::from_key_text("another key").decrypt(token).is_err());

    // A second POST for the provider replaces the value in the same row.
    let (status, replaced) = call(
        &api,
        Method::POST,
        "/provider-secrets",
        &t,
        Some(json!({"provider": "openai", "value": PLAIN_2, "base_url": "https://proxy.example.com/v1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{replaced}");
    assert_eq!(replaced["masked_value"], "sk-…wxyz");
    assert_eq!(replaced["base_url"], "https://proxy.example.com/v1");
    assert_eq!(replaced["display_name"], Value::Null, "an upsert replaces the display name");
    assert_eq!(replaced["created"], created["created"], "the same row");
    let rows = stored(&api).await;
    assert_eq!(rows.iter().filter(|(_, p, _)| p == "openai").count(), 1);
    let (_, _, token) = rows.iter().find(|(_, p, _)| p == "openai").unwrap();
    assert_eq!(sb.decrypt(token).unwrap(), PLAIN_2);

    let (status, _) = call(&api, Method::DELETE, "/provider-secrets/openai", &t, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(call(&api, Method::GET, "/provider-secrets/openai", &t, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, Method::DELETE, "/provider-secrets/openai", &t, None).await.0, StatusCode::NOT_FOUND);
    let (_, list) = call(&api, Method::GET, "/provider-secrets", &t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Without a token: 401.
    assert_eq!(api.call(Method::GET, "/provider-secrets", None, None).await.0, StatusCode::UNAUTHORIZED);
    let no_token =
        api.call(Method::POST, "/provider-secrets", None, Some(json!({"provider": "x", "value": PLAIN}))).await;
    assert_eq!(no_token.0, StatusCode::UNAUTHORIZED);
    assert!(!api.log().contains(PLAIN) && !api.log().contains(PLAIN_2), "the server logged a value");
}

#[tokio::test]
async fn invalid_bodies_are_422_naming_the_field() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let long_provider = "p".repeat(65);
    let long_value = "v".repeat(4097);
    for (body, field) in [
        (json!({"provider": "", "value": PLAIN}), "provider"),
        (json!({"provider": "OpenAI", "value": PLAIN}), "provider"),
        (json!({"provider": "open ai", "value": PLAIN}), "provider"),
        (json!({"provider": "a/b", "value": PLAIN}), "provider"),
        (json!({"provider": long_provider, "value": PLAIN}), "provider"),
        (json!({"provider": "openai", "value": ""}), "value"),
        (json!({"provider": "openai", "value": "   "}), "value"),
        (json!({"provider": "openai", "value": long_value}), "value"),
        (json!({"provider": "openai"}), "value"),
        (json!({"value": PLAIN}), "provider"),
        (json!({"provider": "openai", "value": PLAIN, "base_url": "ftp://example.com"}), "base_url"),
        (json!({"provider": "openai", "value": PLAIN, "base_url": "localhost:11434"}), "base_url"),
        (json!({"provider": "openai", "value": PLAIN, "base_url": "not a url"}), "base_url"),
        (json!({"provider": "openai", "value": PLAIN, "secret": "x"}), "secret"),
    ] {
        let (status, answer) = call(&api, Method::POST, "/provider-secrets", &t, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let detail = answer["detail"].as_str().unwrap();
        assert!(detail.contains(field), "{body}: {detail} should name {field}");
    }
    assert!(stored(&api).await.is_empty(), "nothing invalid was stored");
    // A provider name that could never exist is simply not found.
    assert_eq!(call(&api, Method::GET, "/provider-secrets/Not%20Valid", &t, None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_secrets_are_invisible() {
    let api = Api::start();
    let (a, a_id) = api.user("a@example.com").await;
    let (b, b_id) = api.user("b@example.com").await;
    let (status, _) = call(
        &api,
        Method::POST,
        "/provider-secrets",
        &a,
        Some(json!({"provider": "anthropic", "value": PLAIN, "display_name": "A's"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, list) = call(&api, Method::GET, "/provider-secrets", &b, None).await;
    assert_eq!(list, json!([]));
    let (status, theirs) = call(&api, Method::GET, "/provider-secrets/anthropic", &b, None).await;
    let (_, absent) = call(&api, Method::GET, "/provider-secrets/nosuchprovider", &b, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(theirs, absent, "another user's secret looks exactly like a missing one");
    let (status, theirs) = call(&api, Method::DELETE, "/provider-secrets/anthropic", &b, None).await;
    let (_, absent) = call(&api, Method::DELETE, "/provider-secrets/nosuchprovider", &b, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(theirs, absent);

    // B's own secret for the same provider is a row of B's; A's stays as it was.
    let (status, mine) =
        call(&api, Method::POST, "/provider-secrets", &b, Some(json!({"provider": "anthropic", "value": PLAIN_2})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["masked_value"], "sk-…wxyz");
    let rows = stored(&api).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let sb = SecretBox::from_key_file(api.data.path()).unwrap();
    let of = |owner: &str| rows.iter().find(|(o, p, _)| o == owner && p == "anthropic").unwrap();
    assert_eq!(sb.decrypt(&of(&a_id).2).unwrap(), PLAIN);
    assert_eq!(sb.decrypt(&of(&b_id).2).unwrap(), PLAIN_2);

    let (_, a_view) = call(&api, Method::GET, "/provider-secrets/anthropic", &a, None).await;
    assert_eq!((a_view["masked_value"].clone(), a_view["display_name"].clone()), (json!("sk-…abcd"), json!("A's")));
    assert_eq!(call(&api, Method::DELETE, "/provider-secrets/anthropic", &b, None).await.0, StatusCode::NO_CONTENT);
    let (status, a_view) = call(&api, Method::GET, "/provider-secrets/anthropic", &a, None).await;
    assert_eq!((status, a_view["masked_value"].clone()), (StatusCode::OK, json!("sk-…abcd")));
    let (_, a_list) = call(&api, Method::GET, "/provider-secrets", &a, None).await;
    assert_eq!(a_list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn racing_first_writes_leave_one_row_holding_one_of_the_values() {
    let api = Api::start();
    let (t, user_id) = api.user("a@example.com").await;
    let values: Vec<String> = (0..16).map(|i| format!("sk-racer-{i:02}-value")).collect();
    let writes = values.iter().map(|value| {
        let body = json!({"provider": "openai", "value": value});
        async { api.call(Method::POST, "/provider-secrets", Some(&t), Some(body)).await }
    });
    for (status, answer) in futures::future::join_all(writes).await {
        assert_eq!(status, StatusCode::CREATED, "every racing upsert succeeds: {answer}");
    }

    let rows = stored(&api).await;
    assert_eq!(rows.len(), 1, "one row per user and provider: {rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), (user_id.as_str(), "openai"));
    let sb = SecretBox::from_key_file(api.data.path()).unwrap();
    let kept = sb.decrypt(&rows[0].2).unwrap();
    assert!(values.contains(&kept), "the row holds one of the submitted values, whole: {kept}");
}

#[tokio::test]
async fn base_urls_on_private_addresses_are_refused_unless_the_operator_allows_them() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    for url in [
        "http://127.0.0.1:5055/api",
        "http://localhost:11434/v1",
        "http://[::1]:8000/",
        "http://169.254.169.254/latest/meta-data",
        "http://metadata.google.internal/computeMetadata/v1",
        "http://10.0.0.7/v1",
        "http://192.168.1.10:11434/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://2130706433/v1",
        "http://ollama:11434/v1",
    ] {
        let body = json!({"provider": "openai", "value": PLAIN, "base_url": url});
        let (status, answer) = call(&api, Method::POST, "/provider-secrets", &t, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {answer}");
        assert!(answer["detail"].as_str().unwrap().starts_with("base_url"), "{answer}");
    }
    assert!(stored(&api).await.is_empty());

    let env = [("ALLOW_PRIVATE_PROVIDER_URLS".to_string(), "true".to_string())];
    let allowing = Api::start_with(&env);
    let (t, _) = allowing.user("a@example.com").await;
    let body = json!({"provider": "ollama", "value": PLAIN, "base_url": "http://localhost:11434/v1"});
    let (status, answer) = call(&allowing, Method::POST, "/provider-secrets", &t, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[tokio::test]
async fn a_masked_value_sent_back_is_refused_and_the_key_kept() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let body = json!({"provider": "openai", "value": PLAIN, "display_name": "Work"});
    assert_eq!(call(&api, Method::POST, "/provider-secrets", &t, Some(body)).await.0, StatusCode::CREATED);
    let (_, read) = call(&api, Method::GET, "/provider-secrets/openai", &t, None).await;
    let masked = read["masked_value"].as_str().unwrap().to_string();
    // What an edit form that loaded the secret would send back.
    let body = json!({"provider": "openai", "value": masked, "display_name": "Work (renamed)"});
    let (status, answer) = call(&api, Method::POST, "/provider-secrets", &t, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["detail"].as_str().unwrap().contains("masked"), "{answer}");
    let sb = SecretBox::from_key_file(api.data.path()).unwrap();
    let rows = stored(&api).await;
    assert_eq!(sb.decrypt(&rows[0].2).unwrap(), PLAIN, "the real key is still the stored one");
    let (_, read) = call(&api, Method::GET, "/provider-secrets/openai", &t, None).await;
    assert_eq!(read["display_name"], "Work");
}
