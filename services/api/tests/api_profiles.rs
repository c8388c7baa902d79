//! Episode and speaker profiles against the real API and database: the seeded defaults,
//! CRUD of one's own, duplicates, read-only defaults, validation, and isolation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

fn speaker_body(name: &str, speakers: usize) -> Value {
    let speakers: Vec<Value> = (0..speakers)
        .map(|i| json!({"name": format!("Host {i}"), "voice_id": "nova", "backstory": "b", "personality": "p"}))
        .collect();
    json!({"name": name, "description": "d", "tts_provider": "openai", "tts_model": "tts-1", "speakers": speakers})
}

fn episode_body(name: &str, speaker_config: &str) -> Value {
    json!({
        "name": name, "description": "d", "speaker_config": speaker_config,
        "outline_provider": "openai", "outline_model": "gpt-4o-mini",
        "transcript_provider": "openai", "transcript_model": "gpt-4o-mini",
        "default_briefing": "brief", "num_segments": 4
    })
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn seeded_defaults_are_listed_and_fetchable_by_name() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let (status, list) = api.call(Method::GET, "/episode-profiles", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), ["business_analysis", "solo_expert", "tech_discussion"]);
    let (status, list) = api.call(Method::GET, "/speaker-profiles", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), ["business_panel", "solo_expert", "tech_experts"]);

    for name in ["tech_discussion", "solo_expert", "business_analysis"] {
        let (status, p) = api.call(Method::GET, &format!("/episode-profiles/{name}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(p["id"], format!("episode_profile:{name}"));
        assert_eq!(p["name"], name);
        let keys: Vec<_> = p.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 10, "exactly the documented fields: {keys:?}");
    }
    let (_, p) = api.call(Method::GET, "/episode-profiles/tech_discussion", Some(&t), None).await;
    assert_eq!((p["speaker_config"].clone(), p["num_segments"].clone()), (json!("tech_experts"), json!(5)));
    for (name, count) in [("tech_experts", 2), ("solo_expert", 1), ("business_panel", 3)] {
        let (status, p) = api.call(Method::GET, &format!("/speaker-profiles/{name}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(p["id"], format!("speaker_profile:{name}"));
        assert_eq!(p["speakers"].as_array().unwrap().len(), count);
        assert!(p["speakers"][0]["voice_id"].is_string());
    }
    let (status, body) = api.call(Method::GET, "/episode-profiles/nothing_like_it", Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(api.call(Method::GET, "/speaker-profiles", None, None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn own_profiles_create_get_update_delete() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let (status, sp) = api.call(Method::POST, "/speaker-profiles", Some(&t), Some(speaker_body("duo", 2))).await;
    assert_eq!(status, StatusCode::CREATED, "{sp}");
    assert!(sp["id"].as_str().unwrap().starts_with("speaker_profile:"));
    assert_eq!(sp["speakers"][1]["name"], "Host 1");
    let (status, ep) = api.call(Method::POST, "/episode-profiles", Some(&t), Some(episode_body("mine", "duo"))).await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    assert!(ep["id"].as_str().unwrap().starts_with("episode_profile:"));
    assert_eq!((ep["speaker_config"].clone(), ep["num_segments"].clone()), (json!("duo"), json!(4)));

    let (status, dup) = api.call(Method::POST, "/episode-profiles", Some(&t), Some(episode_body("mine", "duo"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{dup}");
    assert!(dup["detail"].as_str().unwrap().contains("already exists"), "{dup}");
    let (status, dup) = api.call(Method::POST, "/speaker-profiles", Some(&t), Some(speaker_body("duo", 1))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{dup}");

    let (status, got) = api.call(Method::GET, "/episode-profiles/mine", Some(&t), None).await;
    assert_eq!((status, got.clone()), (StatusCode::OK, ep.clone()));
    let (status, got) = api.call(Method::GET, "/speaker-profiles/duo", Some(&t), None).await;
    assert_eq!((status, got.clone()), (StatusCode::OK, sp.clone()));
    let (_, list) = api.call(Method::GET, "/episode-profiles", Some(&t), None).await;
    assert_eq!(names(&list), ["business_analysis", "mine", "solo_expert", "tech_discussion"]);

    let (ep_id, sp_id) = (ep["id"].as_str().unwrap(), sp["id"].as_str().unwrap());
    let (status, up) = api
        .call(
            Method::PUT,
            &format!("/episode-profiles/{ep_id}"),
            Some(&t),
            Some(json!({"num_segments": 12, "speaker_config": "solo_expert", "name": "renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(
        (up["num_segments"].clone(), up["speaker_config"].clone(), up["name"].clone(), up["outline_model"].clone()),
        (json!(12), json!("solo_expert"), json!("renamed"), json!("gpt-4o-mini"))
    );
    let (status, up) = api
        .call(
            Method::PUT,
            &format!("/speaker-profiles/{sp_id}"),
            Some(&t),
            Some(json!({"speakers": [{"name": "Solo", "voice_id": "alloy"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["speakers"], json!([{"name": "Solo", "voice_id": "alloy", "backstory": "", "personality": ""}]));
    assert_eq!(up["tts_model"], "tts-1");

    // An own profile may carry a default's name; by name, the caller's own wins.
    let (status, own) =
        api.call(Method::POST, "/episode-profiles", Some(&t), Some(episode_body("tech_discussion", "duo"))).await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    let (_, got) = api.call(Method::GET, "/episode-profiles/tech_discussion", Some(&t), None).await;
    assert_eq!(got["id"], own["id"]);

    // A speaker profile an episode profile still names is kept, and the answer says who names it.
    let (status, refused) = api.call(Method::DELETE, &format!("/speaker-profiles/{sp_id}"), Some(&t), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("tech_discussion"), "{refused}");
    let own_id = own["id"].as_str().unwrap();
    assert_eq!(
        api.call(Method::DELETE, &format!("/episode-profiles/{own_id}"), Some(&t), None).await.0,
        StatusCode::NO_CONTENT
    );
    // One that shadows a default may go: what named it falls back to the default.
    let (_, shadow) =
        api.call(Method::POST, "/speaker-profiles", Some(&t), Some(speaker_body("tech_experts", 1))).await;
    let (status, _) =
        api.call(Method::POST, "/episode-profiles", Some(&t), Some(episode_body("uses_shadow", "tech_experts"))).await;
    assert_eq!(status, StatusCode::CREATED);
    let shadow_id = shadow["id"].as_str().unwrap();
    assert_eq!(
        api.call(Method::DELETE, &format!("/speaker-profiles/{shadow_id}"), Some(&t), None).await.0,
        StatusCode::NO_CONTENT
    );

    for (path, id) in [("episode-profiles", ep_id), ("speaker-profiles", sp_id)] {
        let (status, _) = api.call(Method::DELETE, &format!("/{path}/{id}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}");
        let (status, _) = api.call(Method::DELETE, &format!("/{path}/{id}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(api.call(Method::GET, "/episode-profiles/renamed", Some(&t), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn defaults_are_duplicated_not_changed() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    for (path, id, name, change) in [
        ("episode-profiles", "episode_profile:tech_discussion", "tech_discussion", json!({"num_segments": 9})),
        ("speaker-profiles", "speaker_profile:tech_experts", "tech_experts", json!({"tts_model": "tts-1-hd"})),
    ] {
        let (status, body) = api.call(Method::PUT, &format!("/{path}/{id}"), Some(&t), Some(change.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("duplicate it"), "{body}");
        let (status, body) = api.call(Method::DELETE, &format!("/{path}/{id}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = api.call(Method::GET, &format!("/{path}/{name}"), Some(&t), None).await;
        assert_eq!(status, StatusCode::OK, "the default is still there");

        let (status, copy) = api.call(Method::POST, &format!("/{path}/{id}/duplicate"), Some(&t), None).await;
        assert_eq!(status, StatusCode::CREATED, "{copy}");
        assert_eq!(copy["name"], format!("{name} (copy)"));
        assert_ne!(copy["id"], json!(id));
        let (status, second) = api.call(Method::POST, &format!("/{path}/{id}/duplicate"), Some(&t), None).await;
        assert_eq!((status, second["name"].clone()), (StatusCode::CREATED, json!(format!("{name} (copy) 2"))));
        let copy_id = copy["id"].as_str().unwrap();
        let (status, edited) = api.call(Method::PUT, &format!("/{path}/{copy_id}"), Some(&t), Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        // Duplicating one's own copy works too.
        let (status, third) = api.call(Method::POST, &format!("/{path}/{copy_id}/duplicate"), Some(&t), None).await;
        assert_eq!((status, third["name"].clone()), (StatusCode::CREATED, json!(format!("{name} (copy) (copy)"))));
    }
    let (_, copy) = api.call(Method::GET, "/episode-profiles/tech_discussion (copy)", Some(&t), None).await;
    assert_eq!(copy["num_segments"], 9);
    assert!(copy["default_briefing"].as_str().unwrap().starts_with("Create an engaging"));
    let (_, original) = api.call(Method::GET, "/episode-profiles/tech_discussion", Some(&t), None).await;
    assert_eq!(original["num_segments"], 5);
    let (_, copy) = api.call(Method::GET, "/speaker-profiles/tech_experts (copy)", Some(&t), None).await;
    assert_eq!((copy["tts_model"].clone(), copy["speakers"].as_array().unwrap().len()), (json!("tts-1-hd"), 2));
    let (_, original) = api.call(Method::GET, "/speaker-profiles/tech_experts", Some(&t), None).await;
    assert_eq!(original["tts_model"], "tts-1");
    assert_eq!(
        api.call(Method::POST, "/episode-profiles/episode_profile:nope/duplicate", Some(&t), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invalid_bodies_are_422_naming_the_field() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let mut missing = episode_body("m", "tech_experts");
    missing.as_object_mut().unwrap().remove("outline_model");
    let mut unknown = episode_body("u", "tech_experts");
    unknown["colour"] = json!("red");
    let episode = |patch: Value| {
        let mut b = episode_body("valid name", "tech_experts");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        ("/episode-profiles", episode(json!({"num_segments": 2})), "num_segments"),
        ("/episode-profiles", episode(json!({"num_segments": 21})), "num_segments"),
        ("/episode-profiles", episode(json!({"speaker_config": "nobody_has_this"})), "speaker_config"),
        ("/episode-profiles", episode(json!({"outline_provider": "  "})), "outline_provider"),
        ("/episode-profiles", episode(json!({"name": ""})), "name"),
        ("/episode-profiles", episode(json!({"name": "x".repeat(101)})), "name"),
        ("/episode-profiles", missing, "outline_model"),
        ("/episode-profiles", unknown, "colour"),
        ("/speaker-profiles", speaker_body("none", 0), "speakers"),
        ("/speaker-profiles", speaker_body("five", 5), "speakers"),
        ("/speaker-profiles", json!({"name": "s", "tts_provider": "openai", "tts_model": "tts-1"}), "speakers"),
        (
            "/speaker-profiles",
            json!({"name": "s", "tts_provider": "openai", "tts_model": "tts-1", "speakers": [{"name": "A", "voice_id": ""}]}),
            "speakers[0].voice_id",
        ),
        (
            "/speaker-profiles",
            json!({"name": "s", "tts_provider": "openai", "tts_model": "tts-1", "speakers": [{"name": "A", "voice_id": "v", "age": 3}]}),
            "age",
        ),
    ];
    for (path, body, field) in cases {
        let (status, answer) = api.call(Method::POST, path, Some(&t), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains(field), "{path} {body}: {answer}");
    }
    // Updates are checked the same way.
    let (_, sp) = api.call(Method::POST, "/speaker-profiles", Some(&t), Some(speaker_body("ok", 1))).await;
    let sp_id = sp["id"].as_str().unwrap();
    let (status, answer) =
        api.call(Method::PUT, &format!("/speaker-profiles/{sp_id}"), Some(&t), Some(json!({"speakers": []}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (_, ep) = api.call(Method::POST, "/episode-profiles", Some(&t), Some(episode_body("ok", "ok"))).await;
    let ep_id = ep["id"].as_str().unwrap();
    for change in [json!({"num_segments": 2}), json!({"num_segments": 21}), json!({"speaker_config": "gone"})] {
        let (status, answer) =
            api.call(Method::PUT, &format!("/episode-profiles/{ep_id}"), Some(&t), Some(change.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{change}: {answer}");
    }
    let (_, list) = api.call(Method::GET, "/episode-profiles", Some(&t), None).await;
    assert_eq!(list.as_array().unwrap().len(), 4, "nothing invalid was written: {list}");
}

#[tokio::test]
async fn another_users_profiles_answer_404_for_every_verb() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (_, sp) = api.call(Method::POST, "/speaker-profiles", Some(&a), Some(speaker_body("a_voices", 2))).await;
    let (_, ep) = api.call(Method::POST, "/episode-profiles", Some(&a), Some(episode_body("a_show", "a_voices"))).await;
    let (sp_id, ep_id) = (sp["id"].as_str().unwrap().to_string(), ep["id"].as_str().unwrap().to_string());

    for (path, id, name, change) in [
        ("episode-profiles", &ep_id, "a_show", json!({"num_segments": 7})),
        ("speaker-profiles", &sp_id, "a_voices", json!({"tts_model": "stolen"})),
    ] {
        let table = id.split(':').next().unwrap();
        let missing_id = format!("{table}:doesnotexist");
        for (method, theirs, missing, body) in [
            (Method::GET, format!("/{path}/{name}"), format!("/{path}/doesnotexist"), None),
            (Method::PUT, format!("/{path}/{id}"), format!("/{path}/{missing_id}"), Some(change.clone())),
            (Method::DELETE, format!("/{path}/{id}"), format!("/{path}/{missing_id}"), None),
            (Method::POST, format!("/{path}/{id}/duplicate"), format!("/{path}/{missing_id}/duplicate"), None),
        ] {
            let (status, answer) = api.call(method.clone(), &theirs, Some(&b), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {theirs}: {answer}");
            let (_, absent) = api.call(method.clone(), &missing, Some(&b), body).await;
            assert_eq!(answer, absent, "{method} {theirs}: another user's profile must look like a missing one");
        }
        let (_, listed) = api.call(Method::GET, &format!("/{path}"), Some(&b), None).await;
        assert_eq!(listed.as_array().unwrap().len(), 3, "B sees the defaults only: {listed}");
        // Untouched for their owner.
        let (status, mine) = api.call(Method::GET, &format!("/{path}/{name}"), Some(&a), None).await;
        assert_eq!((status, mine["id"].clone()), (StatusCode::OK, json!(id)));
    }
    let (_, ep) = api.call(Method::GET, "/episode-profiles/a_show", Some(&a), None).await;
    assert_eq!(ep["num_segments"], 4);
    // B cannot point an episode profile at A's speaker profile, and may reuse A's names.
    let (status, answer) =
        api.call(Method::POST, "/episode-profiles", Some(&b), Some(episode_body("b_show", "a_voices"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) =
        api.call(Method::POST, "/speaker-profiles", Some(&b), Some(speaker_body("a_voices", 1))).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}
