//! Authentication against the real API and database: register, login, me, onboarding, the
//! error shapes, JWT rejections, and the login rate limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use jsonwebtoken::{EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Api, JWT_SECRET};

#[tokio::test]
async fn register_login_me_and_onboarding() {
    let api = Api::start();
    let (status, body) = api
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({"email": "Ada@Example.com", "password": "Str0ng!pass", "display_name": "Ada"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_type"], "bearer");
    let user = &body["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(
        (user["is_active"].clone(), user["is_admin"].clone(), user["has_completed_onboarding"].clone()),
        (json!(true), json!(false), json!(false))
    );
    assert!(user["id"].as_str().unwrap().starts_with("user:"));
    assert!(user.get("password_hash").is_none(), "never sent");

    let (status, body) = api
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({"email": "ada@example.com", "password": "Str0ng!pass"})),
        )
        .await;
    assert_eq!((status, body["detail"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "Email already registered"));

    let (status, body) = api
        .call(Method::POST, "/auth/login", None, Some(json!({"email": "ada@example.com", "password": "Str0ng!pass"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, me) = api.call(Method::GET, "/auth/me", Some(&token), None).await;
    assert_eq!((status, me["email"].as_str().unwrap()), (StatusCode::OK, "ada@example.com"));
    let (status, me) = api.call(Method::PUT, "/auth/onboarding/complete", Some(&token), None).await;
    assert_eq!((status, me["has_completed_onboarding"].clone()), (StatusCode::OK, json!(true)));

    let resp = api
        .http
        .post(api.url("/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": "Wrong!pass1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["detail"], "Incorrect email or password");
    let (status, _) = api
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": "nobody@example.com", "password": "Str0ng!pass"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_never_500() {
    let api = Api::start();
    let (status, body) = api
        .call(Method::POST, "/auth/register", None, Some(json!({"email": "a@example.com", "password": "weak"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("password"), "{body}");
    let (status, body) = api
        .call(Method::POST, "/auth/register", None, Some(json!({"email": "not-an-email", "password": "Str0ng!pass"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("email"), "{body}");
    let (status, body) = api.call(Method::POST, "/auth/register", None, Some(json!({"email": "a@example.com"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["detail"].as_str().unwrap().contains("password"), "the missing field is named: {body}");
    let (status, body) =
        api.call(Method::POST, "/auth/register", None, Some(json!({"email": 5, "password": "Str0ng!pass"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let resp = api
        .http
        .post(api.url("/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.json::<serde_json::Value>().await.unwrap()["detail"].is_string());
    let resp =
        api.http.post(api.url("/auth/register")).header("content-type", "text/plain").body("hi").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(3 << 20));
    // Its own client: the server closes a connection whose body it refused to read.
    let resp = reqwest::Client::new()
        .post(api.url("/auth/register"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(resp.json::<serde_json::Value>().await.unwrap()["detail"].is_string());
    let (token, _) = api.user("b@example.com").await;
    let (status, body) = api.call(Method::GET, "/notebooks?order_by=sideways", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = api.call(Method::GET, "/notebooks/notebook:⟨x⟩;DROP", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn token_with(secret: &str, sub: &str, exp: u64, alg: jsonwebtoken::Algorithm) -> String {
    claims_token(&json!({"sub": sub, "exp": exp}), alg, secret)
}

fn claims_token(claims: &serde_json::Value, alg: jsonwebtoken::Algorithm, secret: &str) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let api = Api::start();
    let (token, id) = api.user("c@example.com").await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let good = token_with(JWT_SECRET, &id, now + 600, jsonwebtoken::Algorithm::HS256);
    assert_eq!(
        api.call(Method::GET, "/auth/me", Some(&good), None).await.0,
        StatusCode::OK,
        "a token we sign ourselves works"
    );

    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let expired = token_with(JWT_SECRET, &id, now - 10, jsonwebtoken::Algorithm::HS256);
    let wrong_secret = token_with("another-secret-of-some-length", &id, now + 600, jsonwebtoken::Algorithm::HS256);
    let hs512 = token_with(JWT_SECRET, &id, now + 600, jsonwebtoken::Algorithm::HS512);
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(format!(r#"{{"sub":"{id}","exp":{}}}"#, now + 600).as_bytes())
    );
    let ghost = token_with(JWT_SECRET, "user:doesnotexist", now + 600, jsonwebtoken::Algorithm::HS256);
    let hs256 = |claims: serde_json::Value| claims_token(&claims, jsonwebtoken::Algorithm::HS256, JWT_SECRET);
    // The test API's lifetime is the default 1440 minutes.
    let forever = hs256(json!({"sub": id, "exp": u64::MAX}));
    let too_long = hs256(json!({"sub": id, "exp": now + 1441 * 60}));
    let too_long_from_iat = hs256(json!({"sub": id, "iat": now - 3600, "exp": now + 1440 * 60}));
    let not_yet = hs256(json!({"sub": id, "exp": now + 600, "nbf": now + 300}));
    let issued_later = hs256(json!({"sub": id, "exp": now + 7200, "iat": now + 3600}));
    for (what, t) in [
        ("exp at 2^64-1", forever),
        ("exp past the lifetime", too_long),
        ("exp past the lifetime from iat", too_long_from_iat),
        ("nbf in the future", not_yet),
        ("iat in the future", issued_later),
        ("tampered", tampered),
        ("expired", expired),
        ("wrong secret", wrong_secret),
        ("HS512", hs512),
        ("alg none", none),
        ("unknown user", ghost),
        ("garbage", "x.y.z".into()),
    ] {
        let (status, body) = api.call(Method::GET, "/auth/me", Some(&t), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }
    assert_eq!(api.call(Method::GET, "/auth/me", None, None).await.0, StatusCode::UNAUTHORIZED);

    // A user deleted in the database (no route deletes one) loses their token's use within
    // the few seconds the API trusts a user it read (`auth::known`).
    let conn = support::connect(&api.db).await;
    conn.query(format!("DELETE {id}")).await.unwrap().check().unwrap();
    support::until_within("a deleted user's token refused", std::time::Duration::from_secs(15), async || {
        api.call(Method::GET, "/auth/me", Some(&token), None).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_is_rate_limited_per_account() {
    let api = Api::start_with(&[("PASSWORD_HASH_WAIT_SECONDS".to_string(), "600".to_string())]);
    api.user("d@example.com").await;
    // At once, each from another address: only the account's limit (10, then one every
    // 6 seconds) applies, and no allowance comes back however slow the hashing is.
    let attempts = (0..12).map(|i| {
        let request = api
            .http
            .post(api.url("/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{}", i + 1))
            .json(&json!({"email": "d@example.com", "password": "Wrong!pass1"}));
        async move { request.send().await.unwrap().status() }
    });
    let mut statuses = futures::future::join_all(attempts).await;
    statuses.sort();
    let expected = [vec![StatusCode::UNAUTHORIZED; 10], vec![StatusCode::TOO_MANY_REQUESTS; 2]].concat();
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn health_and_config() {
    let api = Api::start();
    let (status, body) = api.call(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api.call(Method::GET, "/config", None, None).await;
    assert_eq!((status, body["dbStatus"].as_str().unwrap()), (StatusCode::OK, "online"));
}

#[tokio::test]
async fn emails_the_database_would_refuse_are_422_never_500() {
    let api = Api::start();
    for email in [
        "a@@b.com",
        "a@b..com",
        ".a@b.com",
        "a.@b.com",
        "a@-b.com",
        "a@b.c@d.com",
        "a@127.0.0.1",
        "<script>@example.com",
        "a\u{0}@example.com",
    ] {
        let body = json!({"email": email, "password": "Str0ng!pass"});
        let (status, answer) = api.call(Method::POST, "/auth/register", None, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email:?}: {answer}");
        assert!(answer["detail"].as_str().unwrap().starts_with("email"), "{answer}");
    }
    // Logins with such an email are simply wrong, and a huge one is refused before any work.
    let body = json!({"email": "a@@b.com", "password": "Str0ng!pass"});
    assert_eq!(api.call(Method::POST, "/auth/login", None, Some(body)).await.0, StatusCode::UNAUTHORIZED);
    let body = json!({"email": format!("{}@example.com", "a".repeat(2000)), "password": "Str0ng!pass"});
    assert_eq!(api.call(Method::POST, "/auth/login", None, Some(body)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_login_limiter_keeps_no_long_keys() {
    let api = Api::start();
    let client = reqwest::Client::new();
    let email = "e".repeat(1 << 20);
    let send = |i: usize| {
        // Each from an address of its own (the test talks to the API from loopback, a trusted
        // proxy), so every attempt reaches the limiter's tables.
        client
            .post(api.url("/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{}", i % 250))
            .json(&json!({"email": format!("{i}{email}"), "password": "Wrong!pass1"}))
            .send()
    };
    // Warm up the allocator with the same requests before measuring.
    for i in 0..10 {
        send(i).await.unwrap();
    }
    let before = api.status_kib("VmRSS");
    for i in 10..160 {
        let status = send(i).await.unwrap().status();
        assert!(status.is_client_error(), "{status}");
    }
    let grown_mib = api.status_kib("VmRSS").saturating_sub(before) / 1024;
    // 150 keys of 1 MiB would be 150 MiB; a bounded key costs bytes.
    assert!(grown_mib < 48, "the API grew by {grown_mib} MiB for 150 logins");
}

/// An API whose sign-ins wait as long as a loaded test machine needs for their turn to hash.
fn patient_api(concurrency: &str, wait_seconds: &str) -> Api {
    Api::start_with(&[
        ("PASSWORD_HASH_CONCURRENCY".to_string(), concurrency.to_string()),
        ("PASSWORD_HASH_WAIT_SECONDS".to_string(), wait_seconds.to_string()),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_is_limited_per_address() {
    let api = patient_api("4", "600");
    // At once, so the allowance (20, then one every 3 minutes) cannot come back in between.
    let attempts = (0..24).map(|i| {
        let request = api
            .http
            .post(api.url("/auth/register"))
            .header("x-forwarded-for", "203.0.113.9")
            .json(&json!({"email": format!("r{i}@example.com"), "password": "Str0ng!pass"}));
        async move { request.send().await.unwrap() }
    });
    let answers = futures::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((created, limited), (20, 4), "{statuses:?}");
    let from_elsewhere = api
        .http
        .post(api.url("/auth/register"))
        .header("x-forwarded-for", "203.0.113.10")
        .json(&json!({"email": "elsewhere@example.com", "password": "Str0ng!pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_elsewhere.status(), StatusCode::CREATED, "another address has its own allowance");
}

#[tokio::test(flavor = "multi_thread")]
async fn hashing_waits_its_turn_and_a_full_queue_is_503_with_retry_after() {
    // One hash at a time and no waiting: of registrations arriving together, those that find
    // the hashing busy are told to come back.
    let api = patient_api("1", "0");
    let attempts = (0..16).map(|i| {
        let request = api
            .http
            .post(api.url("/auth/register"))
            .header("x-forwarded-for", format!("192.0.2.{}", i + 1))
            .json(&json!({"email": format!("q{i}@example.com"), "password": "Str0ng!pass"}));
        async move { request.send().await.unwrap() }
    });
    let answers = futures::future::join_all(attempts).await;
    let busy: Vec<_> = answers.iter().filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "{:?}", answers.iter().map(|r| r.status()).collect::<Vec<_>>());
    assert!(busy.iter().all(|r| r.headers().contains_key("retry-after")));
    assert!(answers.iter().all(|r| matches!(r.status().as_u16(), 201 | 503)));
}

#[tokio::test(flavor = "multi_thread")]
async fn many_registrations_at_once_queue_for_hashing_without_a_5xx() {
    // The default cap (4 at once), and time enough for a loaded machine to get through them.
    let api = Api::start_with(&[("PASSWORD_HASH_WAIT_SECONDS".to_string(), "900".to_string())]);
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let attempts = (0..96).map(|i| {
        let request = client
            .post(api.url("/auth/register"))
            .header("x-forwarded-for", format!("192.0.2.{}", i + 1))
            .json(&json!({"email": format!("burst{i}@example.com"), "password": "Str0ng!pass"}));
        async move { request.send().await.map(|r| r.status()) }
    });
    let statuses = futures::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = statuses.into_iter().map(|s| s.unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}\n{}", api.log());
    assert_eq!(api.call(Method::GET, "/health", None, None).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ins_one_after_another_give_their_hashing_memory_back() {
    let api = Api::start();
    api.user("mem@example.com").await;
    let login = |i: usize| {
        api.http
            .post(api.url("/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{}", i + 1))
            .json(&json!({"email": "mem@example.com", "password": "Str0ng!pass"}))
            .send()
    };
    assert_eq!(login(0).await.unwrap().status(), StatusCode::OK);
    let after_one = api.status_kib("VmRSS");
    for i in 1..8 {
        assert_eq!(login(i).await.unwrap().status(), StatusCode::OK);
    }
    // Each hash holds 19 MiB while it runs; kept after it, seven more grew the API by 130 MiB
    // (glibc's arenas), enough to have it killed at its 112 MiB limit.
    let grown = api.status_kib("VmRSS").saturating_sub(after_one);
    assert!(grown < 19 << 10, "the API grew by {grown} KiB over 7 sign-ins");
}
