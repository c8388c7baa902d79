//! The API under load and faults, against the real API and database processes: pages of
//! lists (limit/offset, the order kept by updates), writes into notebooks checked without
//! counting, work in flight bounded (503 with `Retry-After`, probes still answered), a
//! database crash healed inside the same API process, uploads streamed to disk, and the
//! access log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::io::Write;
use std::time::Instant;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use support::{Api, until};

fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("a list").iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn note_pages_follow_updates_and_writes_check_the_notebook() {
    let api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let (b, _) = api.user("b@example.com").await;
    let (_, nb) = api.call(Method::POST, "/notebooks", Some(&a), Some(json!({"name": "N"}))).await;
    let nb = nb["id"].as_str().unwrap().to_string();
    let mut created = Vec::new();
    for i in 0..60 {
        let body = json!({"content": format!("note {i}"), "notebook_id": nb});
        let (status, note) = api.call(Method::POST, "/notes", Some(&a), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        created.push(note["id"].as_str().unwrap().to_string());
    }
    // A note outside the notebook is in the owner's list, not the notebook's.
    let (_, loose) = api.call(Method::POST, "/notes", Some(&a), Some(json!({"content": "loose"}))).await;

    // The default page is 50, newest first; pages do not overlap and cover the notebook.
    let (status, first) = api.call(Method::GET, &format!("/notes?notebook_id={nb}"), Some(&a), None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let newest: Vec<String> = created.iter().rev().take(50).cloned().collect();
    assert_eq!(ids(&first), newest);
    let (_, rest) = api.call(Method::GET, &format!("/notes?notebook_id={nb}&limit=50&offset=50"), Some(&a), None).await;
    let oldest: Vec<String> = created.iter().rev().skip(50).cloned().collect();
    assert_eq!(ids(&rest), oldest);
    let (_, all) = api.call(Method::GET, "/notes?limit=500", Some(&a), None).await;
    assert_eq!(ids(&all).len(), 61);
    assert_eq!(ids(&all)[0], loose["id"].as_str().unwrap());

    // Updating the oldest note brings it to the top of its notebook's first page.
    let (status, _) =
        api.call(Method::PUT, &format!("/notes/{}", created[0]), Some(&a), Some(json!({"title": "edited"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, top) = api.call(Method::GET, &format!("/notes?notebook_id={nb}&limit=2"), Some(&a), None).await;
    assert_eq!(ids(&top), vec![created[0].clone(), created[59].clone()]);
    assert_eq!(top[0]["title"], "edited");

    // Bad limits are refused; another user's notebook does not exist for them, and a note
    // written into it is refused without being created.
    for q in ["limit=0", "limit=501"] {
        let (status, body) = api.call(Method::GET, &format!("/notes?notebook_id={nb}&{q}"), Some(&a), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {body}");
    }
    let (status, _) = api.call(Method::GET, &format!("/notes?notebook_id={nb}"), Some(&b), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) =
        api.call(Method::POST, "/notes", Some(&b), Some(json!({"content": "x", "notebook_id": nb}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, of_b) = api.call(Method::GET, "/notes", Some(&b), None).await;
    assert_eq!(of_b, json!([]), "nothing was written");
    let (status, body) = api
        .call(Method::POST, "/sources/json", Some(&b), Some(json!({"type": "text", "content": "x", "notebooks": [nb]})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, of_b) = api.call(Method::GET, "/sources", Some(&b), None).await;
    assert_eq!(of_b, json!([]), "nothing was written");

    // Sources of a notebook: newest first by default, an update moves one up.
    let mut sources = Vec::new();
    for i in 0..3 {
        let body = json!({"type": "text", "content": format!("s{i}"), "notebooks": [nb]});
        let (status, s) = api.call(Method::POST, "/sources/json", Some(&a), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        sources.push(s["id"].as_str().unwrap().to_string());
    }
    let (_, listed) = api.call(Method::GET, &format!("/sources?notebook_id={nb}"), Some(&a), None).await;
    assert_eq!(ids(&listed), sources.iter().rev().cloned().collect::<Vec<_>>());
    api.call(Method::PUT, &format!("/sources/{}", sources[0]), Some(&a), Some(json!({"title": "t"}))).await;
    let (_, listed) = api.call(Method::GET, &format!("/sources?notebook_id={nb}&limit=1"), Some(&a), None).await;
    assert_eq!(ids(&listed), vec![sources[0].clone()]);
}

/// Opens a multipart upload and sends only its start: the request is in the API's hands
/// (authenticated, reading the body) until the returned stream is dropped.
fn held_upload(api: &Api, token: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", api.port)).unwrap();
    let head = format!(
        "POST /api/sources HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n\
         --B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nstart"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_nonblocking(true).unwrap();
    stream
}

/// Whether the API answered the held upload already (it lost the race for a place).
fn answered(stream: &std::net::TcpStream) -> bool {
    let mut byte = [0u8; 1];
    !matches!(stream.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test]
async fn a_full_api_sheds_with_503_and_still_answers_its_probes() {
    let api =
        Api::start_with(&[("API_MAX_IN_FLIGHT".into(), "2".into()), ("API_QUEUE_TIMEOUT_MS".into(), "50".into())]);
    let (a, _) = api.user("a@example.com").await;

    // Both places taken by uploads in progress: the next request is turned away at once. An
    // upload that arrived while a probe held a place was itself turned away: it is sent again.
    let mut held = vec![held_upload(&api, &a), held_upload(&api, &a)];
    until("the uploads hold the API's room", async || {
        for slot in held.iter_mut() {
            if answered(slot) {
                *slot = held_upload(&api, &a);
            }
        }
        api.call(Method::GET, "/notebooks", Some(&a), None).await.0 == StatusCode::SERVICE_UNAVAILABLE
            && !held.iter().any(answered)
    })
    .await;
    let resp = api.http.get(api.url("/notebooks")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: Value = resp.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("capacity"), "{body}");
    for probe in ["/health", "/live"] {
        let (status, body) = api.call(Method::GET, probe, None, None).await;
        assert_eq!(status, StatusCode::OK, "{probe}: {body}");
    }
    drop(held);
    until("the closed uploads give their places back", async || {
        api.call(Method::GET, "/notebooks", Some(&a), None).await.0 == StatusCode::OK
    })
    .await;

    // A flood on two places: every answer is a success or a 503 with Retry-After.
    let flood: Vec<_> = (0..64)
        .map(|i| {
            let (http, url, token) = (api.http.clone(), api.url("/notes"), a.clone());
            tokio::spawn(async move {
                let resp = http.post(url).bearer_auth(token).json(&json!({"content": format!("n{i}")})).send().await;
                let resp = resp.unwrap();
                (resp.status(), resp.headers().get("retry-after").is_some())
            })
        })
        .collect();
    let mut served = 0;
    for task in flood {
        let (status, retry_after) = task.await.unwrap();
        match status {
            StatusCode::CREATED => served += 1,
            StatusCode::SERVICE_UNAVAILABLE => assert!(retry_after, "a 503 without Retry-After"),
            other => panic!("{other} in a flood:\n{}", api.log()),
        }
    }
    assert!(served >= 1, "nothing served");
    let (_, notes) = api.call(Method::GET, "/notes?limit=500", Some(&a), None).await;
    assert_eq!(ids(&notes).len(), served, "every 201 is a note, every 503 wrote nothing");
}

#[tokio::test]
async fn a_database_crash_heals_inside_the_same_api_process() {
    let mut api = Api::start();
    let (a, _) = api.user("a@example.com").await;
    let pid = api.pid();

    // Writers keep going while the database is killed: each answer is a 201 or a 503.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, token, stop) = (api.http.clone(), api.url("/notes"), a.clone(), stop.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let resp = http.post(&url).bearer_auth(&token).json(&json!({"content": "x"})).send().await;
                    statuses.push(resp.map(|r| r.status().as_u16()).unwrap_or(0));
                }
                statuses
            })
        })
        .collect();
    until("writes succeed", async || api.call(Method::GET, "/notes?limit=1", Some(&a), None).await.1 != json!([]))
        .await;
    api.db.crash();
    until("the API sees the database down", async || {
        api.call(Method::GET, "/health", None, None).await.0 == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    // Liveness does not depend on the database; requests get 503, not 500.
    let (status, body) = api.call(Method::GET, "/live", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp = api.http.post(api.url("/notes")).bearer_auth(&a).json(&json!({"content": "x"})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");

    api.db.restart();
    let ready = Instant::now();
    until("a write succeeds again", async || {
        api.call(Method::POST, "/notes", Some(&a), Some(json!({"content": "after"}))).await.0 == StatusCode::CREATED
    })
    .await;
    eprintln!("first write {:?} after the database was ready again", ready.elapsed());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        for status in writer.await.unwrap() {
            assert!(status == 201 || status == 503, "{status} while the database crashed:\n{}", api.log());
        }
    }
    assert!(api.running() && api.pid() == pid, "the same API process healed");
    let (status, _) = api.call(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn uploads_are_stored_as_streamed_and_an_oversize_one_leaves_nothing() {
    let api = Api::start_with(&[("UPLOAD_MAX_BYTES".into(), (3 << 20).to_string())]);
    let (a, _) = api.user("a@example.com").await;
    // Not one repeated byte: a chunking mistake would show.
    let bytes: Vec<u8> = (0..(3u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let form = Form::new().text("type", "upload").part("file", Part::bytes(bytes.clone()).file_name("data.bin"));
    let resp = api.http.post(api.url("/sources")).bearer_auth(&a).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let source: Value = resp.json().await.unwrap();
    let stored = api.data.path().join(source["asset"]["file_path"].as_str().unwrap());
    let on_disk = std::fs::read(&stored).unwrap();
    assert_eq!(on_disk.len(), bytes.len());
    assert_eq!(sha2::Sha256::digest(&on_disk), sha2::Sha256::digest(&bytes));
    assert!(api.log().contains(&format!("sha256 {:x}", sha2::Sha256::digest(&bytes))), "{}", api.log());

    // One byte over: 413, and neither a file nor a partial one is left.
    let mut over = bytes.clone();
    over.push(0);
    let form = Form::new().part("file", Part::bytes(over).file_name("big.bin")).text("type", "upload");
    let resp = api.http.post(api.url("/sources")).bearer_auth(&a).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let dir = stored.parent().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, vec![stored.file_name().unwrap().to_owned()], "only the first upload's file");
}

#[tokio::test]
async fn each_request_gets_one_access_log_line() {
    let api = Api::start_with(&[("EPHITUP_LOG_FORMAT".into(), "json".into())]);
    let (a, user) = api.user("a@example.com").await;
    let (status, _) = api.call(Method::GET, "/notes?limit=5&secret=hunter2", Some(&a), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.call(Method::GET, "/notes", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let lines = || -> Vec<Value> {
        api.log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["target"] == "access" && l["path"] == "/api/notes")
            .collect()
    };
    until("both requests are logged", async || lines().len() == 2).await;
    let lines = lines();
    assert_eq!((lines[0]["method"].as_str(), lines[0]["status"].as_u64()), (Some("GET"), Some(200)));
    assert_eq!(lines[0]["user"], user.as_str());
    assert!(lines[0]["latency_ms"].as_f64().is_some(), "{}", lines[0]);
    assert_eq!((lines[1]["status"].as_u64(), lines[1]["user"].as_str()), (Some(401), Some("-")));
    assert!(!api.log().contains("hunter2"), "the query string is never logged");
}

/// The load bounds are the operator's: a value out of range or not a number stops the API at
/// start with an error that names the variable, before anything is served.
#[test]
fn a_bad_load_bound_stops_the_api_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let bad =
        [("API_MAX_STREAMS", "0"), ("API_MAX_STREAMS", "lots"), ("API_MAX_IN_FLIGHT", "0"), ("API_MAX_SEARCHES", "0")];
    for (name, value) in bad {
        let mut child = std::process::Command::new(ephitup_testkit::workspace_bin("ephitup-api"))
            .arg("serve")
            .env("JWT_SECRET", support::JWT_SECRET)
            .env("DATA_PATH", data.path())
            .env("API_BIND", format!("127.0.0.1:{}", ephitup_testkit::free_port()))
            .env(name, value)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{name}={value}: the API started");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{name}={value}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(value), "{name}={value}: {stderr}");
    }
}
