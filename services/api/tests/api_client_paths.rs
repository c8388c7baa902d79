//! The OpenAPI document covers every call the original web client makes
//! (`tests/fixtures/original_client_paths.txt`, from `../shared/API.md`), so compatibility
//! cannot silently regress: a route removed or renamed fails here. Calls marked `missing(16)`
//! (chat, search, embeddings) must not be documented yet; when they land, their marker goes.
//! With the openapi test (every documented operation is served as documented), documented
//! means served.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

/// `METHOD /path` with every `{parameter}` written `{}`.
fn normalized(method: &str, path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    format!("{} {out}", method.to_ascii_uppercase())
}

#[test]
fn the_document_covers_every_call_of_the_original_client() {
    let doc = serde_json::to_value(ephitup_api::routes::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(normalized(method, path));
        }
    }
    let fixture = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap())
        .join("tests/fixtures/original_client_paths.txt");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let (mut missing, mut landed, mut listed) = (Vec::new(), Vec::new(), 0);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (expected_missing, call) = match line.strip_prefix("missing(16) ") {
            Some(call) => (true, call),
            None => (false, line),
        };
        let (method, path) = call.split_once(' ').unwrap_or_else(|| panic!("not `METHOD /path`: {line}"));
        let key = normalized(method, path);
        listed += 1;
        match (expected_missing, documented.contains(&key)) {
            (false, false) => missing.push(call.to_string()),
            (true, true) => landed.push(call.to_string()),
            _ => {}
        }
    }
    assert!(listed >= 90, "the fixture lists only {listed} calls");
    assert!(missing.is_empty(), "calls of the original client the API does not serve:\n{}", missing.join("\n"));
    assert!(
        landed.is_empty(),
        "served now: remove their `missing(16)` marker in {}:\n{}",
        fixture.display(),
        landed.join("\n")
    );
}
