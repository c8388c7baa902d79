//! Notebooks and notes against the real API and database: CRUD, validation, and isolation
//! (another user's ids answer 404 for every verb, exactly like missing ones).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Api;

#[tokio::test]
async fn notebooks_crud_order_and_archive() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let (status, a) =
        api.call(Method::POST, "/notebooks", Some(&t), Some(json!({"name": "Alpha", "description": "first"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert!(a["id"].as_str().unwrap().starts_with("notebook:"));
    assert_eq!(
        (a["name"].clone(), a["archived"].clone(), a["source_count"].clone(), a["note_count"].clone()),
        (json!("Alpha"), json!(false), json!(0), json!(0))
    );
    let (_, b) = api.call(Method::POST, "/notebooks", Some(&t), Some(json!({"name": "Beta"}))).await;
    assert_eq!(b["description"], "");

    let (_, list) = api.call(Method::GET, "/notebooks?order_by=name%20asc", Some(&t), None).await;
    let names: Vec<_> = list.as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Alpha", "Beta"]);
    let (_, list) = api.call(Method::GET, "/notebooks?order_by=name%20desc", Some(&t), None).await;
    assert_eq!(list[0]["name"], "Beta");

    let id = a["id"].as_str().unwrap();
    let (status, updated) = api
        .call(Method::PUT, &format!("/notebooks/{id}"), Some(&t), Some(json!({"archived": true, "name": "Alpha 2"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["archived"].clone(), updated["name"].clone(), updated["description"].clone()),
        (json!(true), json!("Alpha 2"), json!("first"))
    );
    let (_, archived) = api.call(Method::GET, "/notebooks?archived=true", Some(&t), None).await;
    assert_eq!(archived.as_array().unwrap().len(), 1);
    let (_, active) = api.call(Method::GET, "/notebooks?archived=false", Some(&t), None).await;
    assert_eq!(active[0]["name"], "Beta");

    let (status, body) = api.call(Method::POST, "/notebooks", Some(&t), Some(json!({"name": "  "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = api.call(Method::POST, "/notebooks", Some(&t), Some(json!({"name": "x", "colour": "red"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");

    assert_eq!(api.call(Method::DELETE, &format!("/notebooks/{id}"), Some(&t), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &format!("/notebooks/{id}"), Some(&t), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Method::DELETE, &format!("/notebooks/{id}"), Some(&t), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notes_crud_in_and_out_of_notebooks() {
    let api = Api::start();
    let (t, _) = api.user("a@example.com").await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&t), Some(json!({"name": "N"}))).await;
    let nb_id = nb["id"].as_str().unwrap();
    let (status, n1) = api
        .call(Method::POST, "/notes", Some(&t), Some(json!({"title": "one", "content": "hello", "notebook_id": nb_id})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{n1}");
    assert_eq!((n1["note_type"].clone(), n1["content"].clone()), (json!("human"), json!("hello")));
    let (status, _) =
        api.call(Method::POST, "/notes", Some(&t), Some(json!({"content": "loose", "note_type": "ai"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        api.call(Method::POST, "/notes", Some(&t), Some(json!({"content": "x", "note_type": "robot"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (_, in_nb) = api.call(Method::GET, &format!("/notes?notebook_id={nb_id}"), Some(&t), None).await;
    assert_eq!(in_nb.as_array().unwrap().len(), 1);
    let (_, all) = api.call(Method::GET, "/notes", Some(&t), None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, nb) = api.call(Method::GET, &format!("/notebooks/{nb_id}"), Some(&t), None).await;
    assert_eq!(nb["note_count"], 1);

    let id = n1["id"].as_str().unwrap();
    let (status, updated) =
        api.call(Method::PUT, &format!("/notes/{id}"), Some(&t), Some(json!({"content": "changed"}))).await;
    assert_eq!(
        (status, updated["content"].clone(), updated["title"].clone()),
        (StatusCode::OK, json!("changed"), json!("one"))
    );
    assert_eq!(api.call(Method::DELETE, &format!("/notes/{id}"), Some(&t), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &format!("/notes/{id}"), Some(&t), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_ids_answer_404_for_every_verb() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "private"}))).await;
    let nb_id = nb["id"].as_str().unwrap().to_string();
    let (_, note) =
        api.call(Method::POST, "/notes", Some(&a), Some(json!({"content": "secret", "notebook_id": nb_id}))).await;
    let note_id = note["id"].as_str().unwrap().to_string();

    let missing_nb = "notebook:doesnotexist";
    let missing_note = "note:doesnotexist";
    for (method, path, body) in [
        (Method::GET, format!("/notebooks/{nb_id}"), None),
        (Method::PUT, format!("/notebooks/{nb_id}"), Some(json!({"name": "mine now"}))),
        (Method::DELETE, format!("/notebooks/{nb_id}"), None),
        (Method::GET, format!("/notes?notebook_id={nb_id}"), None),
        (Method::POST, "/notes".to_string(), Some(json!({"content": "intrude", "notebook_id": nb_id}))),
        (Method::GET, format!("/notes/{note_id}"), None),
        (Method::PUT, format!("/notes/{note_id}"), Some(json!({"content": "mine now"}))),
        (Method::DELETE, format!("/notes/{note_id}"), None),
    ] {
        let (status, theirs) = api.call(method.clone(), &path, Some(&b), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {theirs}");
        let missing = path.replace(&nb_id, missing_nb).replace(&note_id, missing_note);
        let (_, absent) = api
            .call(
                method.clone(),
                &missing,
                Some(&b),
                body.map(|b| {
                    let text = b.to_string().replace(&nb_id, missing_nb);
                    serde_json::from_str(&text).unwrap()
                }),
            )
            .await;
        assert_eq!(theirs, absent, "{method} {path}: another user's id must look exactly like a missing one");
    }
    let (_, listed) = api.call(Method::GET, "/notebooks", Some(&b), None).await;
    assert_eq!(listed, json!([]));
    let (_, listed) = api.call(Method::GET, "/notes", Some(&b), None).await;
    assert_eq!(listed, json!([]));

    // Untouched for their owner.
    let (status, nb) = api.call(Method::GET, &format!("/notebooks/{nb_id}"), Some(&a), None).await;
    assert_eq!((status, nb["name"].clone()), (StatusCode::OK, json!("private")));
    let (status, note) = api.call(Method::GET, &format!("/notes/{note_id}"), Some(&a), None).await;
    assert_eq!((status, note["content"].clone()), (StatusCode::OK, json!("secret")));
}
