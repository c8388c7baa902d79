//! `GET /api/openapi.json` against the real API and database: the document is OpenAPI 3.x and
//! is the one the code generates; every documented operation is served (no route-404, no 405)
//! and answers only statuses it documents, with 401 exactly where it documents the bearer
//! scheme; every method the server serves on a documented path is documented; no route is
//! registered outside `utoipa_axum::routes!` (the only way a route could be served and not
//! documented); and real responses validate against their documented schemas.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Api;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// `(path, method, operation)` of every documented operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    out
}

/// A documented path with its parameters filled in with ids nobody has.
fn placeholder(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        out.push_str(if &rest[start + 1..end] == "provider" { "nosuchprovider" } else { "nosuchid0" });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn requires_bearer(operation: &Value) -> bool {
    operation["security"].as_array().is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()))
}

fn documented_statuses(operation: &Value) -> BTreeSet<u16> {
    operation["responses"].as_object().expect("responses").keys().map(|k| k.parse().expect("numeric status")).collect()
}

/// Sends `method url` with an optional token and JSON body; returns status and raw body.
async fn send(api: &Api, method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (StatusCode, String) {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let mut req = api.http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("send");
    (resp.status(), resp.text().await.expect("body"))
}

fn root(api: &Api, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", api.port)
}

async fn fetch_document(api: &Api) -> Value {
    let (status, body) = send(api, "get", &api.url("/openapi.json"), None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("the document is JSON")
}

#[tokio::test]
async fn every_documented_operation_is_served_as_documented() {
    let api = Api::start();
    let (token, _) = api.user("probe@example.com").await;
    let doc = fetch_document(&api).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "not OpenAPI 3.x: {}", doc["openapi"]);
    assert_eq!(
        doc,
        serde_json::to_value(ephitup_api::routes::openapi()).unwrap(),
        "the served document is the one the code generates"
    );
    let ops = operations(&doc);
    assert!(ops.len() >= 50, "only {} operations documented", ops.len());

    for (path, method, operation) in &ops {
        let url = root(&api, &placeholder(path));
        let statuses = documented_statuses(operation);
        for token in [None, Some(token.as_str())] {
            let (status, body) = send(&api, method, &url, token, None).await;
            let what = format!(
                "{} {path} ({}): {status} {body}",
                method.to_uppercase(),
                token.map_or("anonymous", |_| "signed in")
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "documented but not served: {what}");
            // The fallback's words (handlers name what is missing: "Notebook not found").
            assert!(!(status == StatusCode::NOT_FOUND && body == r#"{"detail":"Not Found"}"#), "no such route: {what}");
            assert!(statuses.contains(&status.as_u16()), "an undocumented status: {what}; documented {statuses:?}");
            if token.is_none() {
                assert_eq!(status == StatusCode::UNAUTHORIZED, requires_bearer(operation), "security: {what}");
            }
            if !body.is_empty() && status.as_u16() >= 400 && status != StatusCode::BAD_REQUEST {
                let detail: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {what}"));
                assert!(detail["detail"].is_string(), "not an ErrorBody: {what}");
            }
        }
    }

    // The other direction: a method the server answers on a documented path is documented.
    let paths: BTreeSet<&String> = ops.iter().map(|(p, _, _)| p).collect();
    for path in paths {
        let url = root(&api, &placeholder(path));
        for method in METHODS {
            if doc["paths"][path].get(method).is_none() {
                let (status, body) = send(&api, method, &url, Some(&token), None).await;
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served, not documented: {body}");
            }
        }
    }
    // And a path nobody documented is not served: the fallback answers in the API's error shape.
    let (status, body) = send(&api, "get", &api.url("/no-such-route"), Some(&token), None).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).ok()),
        (StatusCode::NOT_FOUND, Some(json!({"detail": "Not Found"})))
    );
}

/// A route registered with plain axum (`.route(...)`, `Router::new()`, a service) would be
/// served without documentation; the routers use `utoipa_axum::routes!` only.
#[test]
fn no_route_is_registered_outside_routes_macro() {
    // At run time: the compile-time path goes stale when checkouts elsewhere share the build cache.
    let src = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("src");
    let mut files = vec![src.clone()];
    let mut offenders = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let plain_router = line.match_indices("Router::new()").any(|(i, _)| !line[..i].ends_with("OpenApi"));
            // The one fallback answers errors only (`routes/fallback.rs`): it serves nothing.
            let errors_only = line.contains(".fallback(fallback::not_found)");
            let plain_route = [".route(", ".route_service(", ".nest_service(", ".fallback(", "axum::routing"]
                .iter()
                .any(|p| line.contains(p))
                && !errors_only;
            if plain_router || plain_route {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "routes registered without documentation:\n{}", offenders.join("\n"));
}

/// What every operation must say, whatever its handler: the errors its extractors produce.
#[test]
fn operations_document_the_errors_of_their_extractors() {
    let doc = serde_json::to_value(ephitup_api::routes::openapi()).unwrap();
    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let what = format!("{} {path}", method.to_uppercase());
        let statuses = documented_statuses(&operation);
        assert!(ids.insert(operation["operationId"].as_str().expect("operationId").to_string()), "{what}: id repeats");
        if requires_bearer(&operation) {
            assert!(statuses.contains(&401), "{what}: 401 undocumented");
        }
        if path.contains('{') {
            assert!(statuses.contains(&404), "{what}: 404 undocumented");
        }
        if operation["requestBody"]["content"].get("application/json").is_some() {
            for status in [400, 413, 415, 422] {
                assert!(statuses.contains(&status), "{what}: {status} undocumented for a JSON body");
            }
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                if let Some(schema) = response["content"]["application/json"].get("schema") {
                    assert_eq!(schema["$ref"], "#/components/schemas/ErrorBody", "{what} {status}");
                }
            }
        }
    }
}

/// Checks `value` against an OpenAPI 3.1 schema of `doc` (the subset utoipa writes: `$ref`,
/// `allOf`, `oneOf`, `type`, `enum`, `required`, `properties`, `additionalProperties`,
/// `items`). `strict` also refuses object fields the schema does not name. A JSON Schema crate
/// (jsonschema) would pull new features into crates SurrealDB builds with, hence this.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, strict: bool, errors: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.strip_prefix("#/components/schemas/").expect("a component reference");
        return check(doc, &doc["components"]["schemas"][name], value, at, strict, errors);
    }
    if let (true, Some(fields), Some(known)) = (strict, value.as_object(), known_fields(doc, schema)) {
        for field in fields.keys().filter(|f| !known.contains(*f)) {
            errors.push(format!("{at}.{field}: not in the schema"));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at, false, errors);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let outcomes: Vec<Vec<String>> = choices
            .iter()
            .map(|c| {
                let mut e = Vec::new();
                check(doc, c, value, at, strict, &mut e);
                e
            })
            .collect();
        match outcomes.iter().filter(|e| e.is_empty()).count() {
            1 => {}
            0 => errors.extend(outcomes.into_iter().flatten()),
            _ => errors.push(format!("{at}: more than one of {}", schema["oneOf"])),
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            other => other.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect(),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !fits {
            errors.push(format!("{at}: {actual}, documented {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} not one of {allowed:?}"));
        }
    }
    if let Some(fields) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !fields.contains_key(required.as_str().unwrap()) {
                errors.push(format!("{at}: {required} missing"));
            }
        }
        for (name, field) in fields {
            match schema["properties"].get(name) {
                Some(s) => check(doc, s, field, &format!("{at}.{name}"), true, errors),
                None if schema["additionalProperties"].is_object() => {
                    check(doc, &schema["additionalProperties"], field, &format!("{at}.{name}"), true, errors)
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, schema, item, &format!("{at}[{i}]"), true, errors);
        }
    }
}

/// The fields an object schema names (through `$ref` and `allOf`), or `None` when it takes any.
fn known_fields(doc: &Value, schema: &Value) -> Option<BTreeSet<String>> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.strip_prefix("#/components/schemas/")?;
        return known_fields(doc, &doc["components"]["schemas"][name]);
    }
    if schema["additionalProperties"].is_object() || schema.get("oneOf").is_some() {
        return None;
    }
    let properties = schema["properties"].as_object();
    let parts = schema["allOf"].as_array();
    if properties.is_none() && parts.is_none() {
        return None;
    }
    let mut known: BTreeSet<String> = properties.into_iter().flat_map(|p| p.keys().cloned()).collect();
    for part in parts.into_iter().flatten() {
        known.extend(known_fields(doc, part)?);
    }
    Some(known)
}

#[test]
fn the_schema_check_sees_missing_extra_and_mistyped_fields() {
    let doc = serde_json::to_value(ephitup_api::routes::openapi()).unwrap();
    let schema = json!({"$ref": "#/components/schemas/SourceView"});
    let good = json!({"id": "source:a", "title": null, "topics": [], "asset": {"url": "https://x.org", "file_path": null},
        "embedded": false, "embedded_chunks": 0, "insights_count": 0, "created": "c", "updated": "u",
        "command_id": null, "status": "new", "full_text": null, "notebooks": [], "error_message": null,
        "file_available": false});
    let mut errors = Vec::new();
    check(&doc, &schema, &good, "$", true, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("notebooks");
    bad["surprise"] = json!(1);
    bad["embedded"] = json!("no");
    bad["asset"]["url"] = json!(7);
    check(&doc, &schema, &bad, "$", true, &mut errors);
    let expected =
        ["$: \"notebooks\" missing", "$.surprise: not in the schema", "$.embedded: string", "$.asset.url: integer"];
    for e in expected {
        assert!(errors.iter().any(|got| got.starts_with(e)), "{e} not in {errors:?}");
    }
}

/// Calls the API and checks the answer against the document: the status is documented for
/// the operation, and a JSON body fits the schema documented for that status.
struct Checked<'a> {
    api: &'a Api,
    doc: Value,
    token: String,
    checked: BTreeSet<(String, String, u16)>,
}

impl Checked<'_> {
    async fn call(&mut self, method: &str, template: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = send(self.api, method, &root(self.api, path), Some(&self.token), body.as_ref()).await;
        let what = format!("{} {path}: {status} {text}", method.to_uppercase());
        let response = &self.doc["paths"][template][method]["responses"][status.as_str()];
        assert!(response.is_object(), "an undocumented status: {what}");
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(schema) = response["content"]["application/json"].get("schema") {
            let mut errors = Vec::new();
            check(&self.doc, schema, &value, "$", true, &mut errors);
            assert!(errors.is_empty(), "{what}\ndoes not fit its schema:\n{}", errors.join("\n"));
        }
        self.checked.insert((method.to_string(), template.to_string(), status.as_u16()));
        (status, value)
    }
}

#[tokio::test]
async fn responses_fit_their_documented_schemas() {
    let api = Api::start();
    let (token, _) = api.user("schemas@example.com").await;
    let doc = fetch_document(&api).await;
    let mut c = Checked { api: &api, doc, token, checked: BTreeSet::new() };

    c.call("get", "/api/auth/me", "/api/auth/me", None).await;
    c.call("get", "/api/config", "/api/config", None).await;
    c.call("get", "/api/health", "/api/health", None).await;
    c.call("get", "/health", "/health", None).await;
    c.call("get", "/api/models/providers", "/api/models/providers", None).await;
    c.call("get", "/api/models/defaults", "/api/models/defaults", None).await;
    let model = json!({"name": "gpt-4o-mini", "provider": "openai", "type": "language"});
    c.call("post", "/api/models", "/api/models", Some(model)).await;
    c.call("get", "/api/models", "/api/models", None).await;

    let (status, nb) = c.call("post", "/api/notebooks", "/api/notebooks", Some(json!({"name": "N"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let nb = nb["id"].as_str().unwrap().to_string();
    c.call("get", "/api/notebooks", "/api/notebooks", None).await;
    let text = json!({"type": "text", "content": "Ownership, in full.", "title": "T", "notebooks": [nb]});
    let (status, source) = c.call("post", "/api/sources/json", "/api/sources/json", Some(text)).await;
    assert_eq!(status, StatusCode::CREATED);
    let source = source["id"].as_str().unwrap().to_string();
    let (status, _) = c.call("get", "/api/sources/{id}", &format!("/api/sources/{source}"), None).await;
    assert_eq!(status, StatusCode::OK);
    c.call("get", "/api/sources/{id}/status", &format!("/api/sources/{source}/status"), None).await;
    c.call("get", "/api/sources", &format!("/api/sources?notebook_id={nb}"), None).await;
    let note = json!({"title": "T", "content": "A note", "notebook_id": nb});
    c.call("post", "/api/notes", "/api/notes", Some(note)).await;
    c.call("get", "/api/notes", "/api/notes", None).await;
    let (status, _) = c.call("post", "/api/chat/context", "/api/chat/context", Some(json!({"notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::OK);

    let speakers = json!({"name": "Duo", "tts_provider": "openai", "tts_model": "tts-1",
        "speakers": [{"name": "A", "voice_id": "alloy"}, {"name": "B", "voice_id": "echo"}]});
    let (status, _) = c.call("post", "/api/speaker-profiles", "/api/speaker-profiles", Some(speakers)).await;
    assert_eq!(status, StatusCode::CREATED);
    let episode = json!({"name": "Short", "speaker_config": "Duo", "outline_provider": "openai",
        "outline_model": "gpt-4o-mini", "transcript_provider": "openai", "transcript_model": "gpt-4o-mini"});
    let (status, _) = c.call("post", "/api/episode-profiles", "/api/episode-profiles", Some(episode)).await;
    assert_eq!(status, StatusCode::CREATED);
    c.call("get", "/api/speaker-profiles", "/api/speaker-profiles", None).await;
    c.call("get", "/api/episode-profiles", "/api/episode-profiles", None).await;
    let generate =
        json!({"episode_profile": "Short", "speaker_profile": "Duo", "episode_name": "E", "notebook_id": nb});
    let (status, job) = c.call("post", "/api/podcasts/generate", "/api/podcasts/generate", Some(generate)).await;
    assert_eq!(status, StatusCode::OK);
    let job = job["job_id"].as_str().unwrap().to_string();
    let (status, _) = c.call("get", "/api/podcasts/jobs/{id}", &format!("/api/podcasts/jobs/{job}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, episodes) = c.call("get", "/api/podcasts/episodes", "/api/podcasts/episodes", None).await;
    assert_eq!(episodes.as_array().map(Vec::len), Some(1));

    let secret = json!({"provider": "openai", "value": "sk-0123456789abcdef"});
    c.call("post", "/api/provider-secrets", "/api/provider-secrets", Some(secret)).await;
    c.call("get", "/api/provider-secrets/{provider}", "/api/provider-secrets/openai", None).await;
    c.call("get", "/api/provider-secrets", "/api/provider-secrets", None).await;

    c.call("get", "/api/settings", "/api/settings", None).await;
    c.call("put", "/api/settings", "/api/settings", Some(json!({"auto_delete_files": "no"}))).await;
    c.call("get", "/api/transformations", "/api/transformations", None).await;
    let own = json!({"name": "mine", "title": "Mine", "prompt": "Do it.", "apply_default": true});
    let (status, _) = c.call("post", "/api/transformations", "/api/transformations", Some(own)).await;
    assert_eq!(status, StatusCode::CREATED);
    c.call("get", "/api/transformations/{id}", "/api/transformations/summary", None).await;
    c.call("get", "/api/transformations/default-prompt", "/api/transformations/default-prompt", None).await;
    c.call("get", "/api/sources/{id}/insights", &format!("/api/sources/{source}/insights"), None).await;

    // Errors too: a 404 of an owner check and a 422 of validation are `ErrorBody`.
    let (status, _) = c.call("get", "/api/notebooks/{id}", "/api/notebooks/nosuchid0", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = c.call("post", "/api/notebooks", "/api/notebooks", Some(json!({"name": " "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(c.checked.len() >= 25, "checked {} answers", c.checked.len());
}
