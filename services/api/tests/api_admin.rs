//! Admin routes against the real API and database: `ADMIN_EMAILS` decides who is an admin
//! (`is_admin` follows it at register and login), everyone else gets 403; users are listed
//! with counts and in detail, deactivated and reactivated; clearing a user deletes every row
//! they own and their uploaded files and podcast audio, and leaves everyone else's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

const ADMIN: &str = "boss@example.com";

fn start() -> Api {
    Api::start_with(&[("ADMIN_EMAILS".into(), format!(" someone@else.org , {} ", ADMIN.to_uppercase()))])
}

/// A user with one of everything: notebook, note, text and upload source, model, settings,
/// a podcast episode (its row), and podcast audio under their key.
async fn busy_user(api: &Api, email: &str) -> (String, String) {
    let (token, id) = api.user(email).await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&token), Some(json!({"name": "Mine"}))).await;
    api.call(Method::POST, "/notes", Some(&token), Some(json!({"content": "n", "notebook_id": nb["id"]}))).await;
    api.call(Method::POST, "/sources/json", Some(&token), Some(json!({"type": "text", "content": "t"}))).await;
    let form = Form::new().text("type", "upload").part("file", Part::bytes(b"x".to_vec()).file_name("f.txt"));
    let resp = api.http.post(api.url("/sources")).bearer_auth(&token).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    api.call(
        Method::POST,
        "/models",
        Some(&token),
        Some(json!({"name": "m", "provider": "openai", "type": "language"})),
    )
    .await;
    api.call(Method::PUT, "/settings", Some(&token), Some(json!({"auto_delete_files": "no"}))).await;
    let podcast = json!({"episode_profile": "solo_expert", "speaker_profile": "solo_expert", "episode_name": "E",
                         "content": "Some content to talk about."});
    let (status, body) = api.call(Method::POST, "/podcasts/generate", Some(&token), Some(podcast)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = id.trim_start_matches("user:");
    let audio = api.data.path().join(format!("podcasts/{key}/abc.mp3"));
    std::fs::create_dir_all(audio.parent().unwrap()).unwrap();
    std::fs::write(&audio, b"ID3").unwrap();
    (token, id)
}

fn summary<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|u| u["id"] == id).expect("the user is listed")
}

#[tokio::test]
async fn only_admins_list_inspect_deactivate_and_clear_users() {
    let api = start();
    let (boss, boss_id) = api.user(ADMIN).await;
    let (_, me) = api.call(Method::GET, "/auth/me", Some(&boss), None).await;
    assert_eq!(me["is_admin"], true, "ADMIN_EMAILS, any case and spacing");
    let (alice, alice_id) = busy_user(&api, "alice@example.com").await;
    let (bob, bob_id) = busy_user(&api, "bob@example.com").await;
    assert_eq!(api.call(Method::GET, "/auth/me", Some(&alice), None).await.1["is_admin"], false);

    for (method, path, body) in [
        (Method::GET, "/admin/users".to_string(), None),
        (Method::GET, format!("/admin/users/{bob_id}"), None),
        (Method::PUT, format!("/admin/users/{bob_id}"), Some(json!({"is_active": false}))),
        (Method::POST, format!("/admin/users/{bob_id}/clear"), None),
    ] {
        let (status, resp) = api.call(method.clone(), &path, Some(&alice), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {resp}");
    }

    let (status, list) = api.call(Method::GET, "/admin/users", Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 3);
    let a = summary(&list, &alice_id);
    assert_eq!(
        (a["notebook_count"].clone(), a["source_count"].clone(), a["note_count"].clone(), a["episode_count"].clone()),
        (json!(1), json!(2), json!(1), json!(1))
    );
    assert_eq!((a["email"].clone(), a["is_active"].clone()), (json!("alice@example.com"), json!(true)));
    assert_eq!(summary(&list, &boss_id)["is_admin"], true);

    let (status, detail) = api.call(Method::GET, &format!("/admin/users/{alice_id}"), Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["notebooks"][0]["name"], "Mine");
    assert_eq!((detail["sources"].as_array().unwrap().len(), detail["episodes"][0]["name"].clone()), (2, json!("E")));
    assert_eq!(api.call(Method::GET, "/admin/users/user:nobody", Some(&boss), None).await.0, StatusCode::NOT_FOUND);

    // Deactivated: refused at once and at login; reactivated: back.
    let (status, off) =
        api.call(Method::PUT, &format!("/admin/users/{bob_id}"), Some(&boss), Some(json!({"is_active": false}))).await;
    assert_eq!((status, off["is_active"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(api.call(Method::GET, "/auth/me", Some(&bob), None).await.0, StatusCode::UNAUTHORIZED);
    let login = json!({"email": "bob@example.com", "password": "Str0ng!pass"});
    assert_eq!(api.call(Method::POST, "/auth/login", None, Some(login.clone())).await.0, StatusCode::FORBIDDEN);
    api.call(Method::PUT, &format!("/admin/users/{bob_id}"), Some(&boss), Some(json!({"is_active": true}))).await;
    assert_eq!(api.call(Method::GET, "/auth/me", Some(&bob), None).await.0, StatusCode::OK);
    let (status, resp) =
        api.call(Method::PUT, &format!("/admin/users/{boss_id}"), Some(&boss), Some(json!({"is_active": false}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");

    // Clearing: an admin's own is refused; alice's data goes, bob's stays.
    let (status, resp) = api.call(Method::POST, &format!("/admin/users/{boss_id}/clear"), Some(&boss), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    let alice_key = alice_id.trim_start_matches("user:");
    assert!(api.data.path().join("uploads").join(alice_key).exists());
    let (status, resp) = api.call(Method::POST, &format!("/admin/users/{alice_id}/clear"), Some(&boss), None).await;
    assert_eq!((status, resp["message"].is_string()), (StatusCode::OK, true), "{resp}");
    let (_, list) = api.call(Method::GET, "/admin/users", Some(&boss), None).await;
    let a = summary(&list, &alice_id);
    assert_eq!(
        (a["notebook_count"].clone(), a["source_count"].clone(), a["note_count"].clone(), a["episode_count"].clone()),
        (json!(0), json!(0), json!(0), json!(0))
    );
    assert!(!api.data.path().join("uploads").join(alice_key).exists(), "uploads removed");
    assert!(!api.data.path().join(format!("podcasts/{alice_key}/abc.mp3")).exists(), "audio removed");
    let db = support::connect(&api.db).await;
    for table in ["model", "default_models", "user_settings", "command", "reference", "artifact", "source_insight"] {
        let left: Vec<Value> = db
            .query(format!("SELECT VALUE <string> id FROM {table} WHERE owner = type::record('user', $key)"))
            .bind(("key", alice_key.to_string()))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        assert!(left.is_empty(), "{table} rows left: {left:?}");
    }
    // Alice still signs in, to an empty account; bob lost nothing.
    assert_eq!(api.call(Method::GET, "/notebooks", Some(&alice), None).await.1, json!([]));
    assert_eq!(api.call(Method::GET, "/settings", Some(&alice), None).await.1["auto_delete_files"], "yes");
    let b = summary(&list, &bob_id);
    assert_eq!((b["notebook_count"].clone(), b["source_count"].clone()), (json!(1), json!(2)));
    let bob_key = bob_id.trim_start_matches("user:");
    assert!(api.data.path().join(format!("podcasts/{bob_key}/abc.mp3")).exists());
    assert_eq!(api.call(Method::GET, "/models", Some(&bob), None).await.1.as_array().unwrap().len(), 1);
    assert_eq!(
        api.call(Method::POST, "/admin/users/user:nobody/clear", Some(&boss), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_admin_flag_follows_admin_emails_at_login() {
    let api = Api::start();
    let (token, _) = api.user(ADMIN).await;
    assert_eq!(
        api.call(Method::GET, "/auth/me", Some(&token), None).await.1["is_admin"],
        false,
        "no ADMIN_EMAILS here"
    );
    assert_eq!(api.call(Method::GET, "/admin/users", Some(&token), None).await.0, StatusCode::FORBIDDEN);
    let db = support::connect(&api.db).await;
    let _: Vec<Value> = db
        .query("UPDATE user SET is_admin = true WHERE email = $e RETURN NONE")
        .bind(("e", ADMIN))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    let (status, login) =
        api.call(Method::POST, "/auth/login", None, Some(json!({"email": ADMIN, "password": "Str0ng!pass"}))).await;
    assert_eq!((status, login["user"]["is_admin"].clone()), (StatusCode::OK, json!(false)), "a stale flag is reset");
}

/// The bearer check trusts a user read a few seconds ago (`auth::known`): a deactivation made
/// outside this API (another replica, or by hand in the database) is refused within that time.
#[tokio::test]
async fn a_deactivation_made_elsewhere_is_seen_within_seconds() {
    let api = Api::start();
    let (token, id) = api.user("far@example.com").await;
    assert_eq!(api.call(Method::GET, "/auth/me", Some(&token), None).await.0, StatusCode::OK);
    let db = support::connect(&api.db).await;
    let _: Vec<Value> = db
        .query("UPDATE type::record($id) SET is_active = false RETURN NONE")
        .bind(("id", id))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    support::until_within("the deactivated user refused", std::time::Duration::from_secs(15), async || {
        let status = api.call(Method::GET, "/auth/me", Some(&token), None).await.0;
        assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{status}");
        status == StatusCode::UNAUTHORIZED
    })
    .await;
}
