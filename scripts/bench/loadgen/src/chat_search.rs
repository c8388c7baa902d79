//! `--chat-search`: issue 16's figures, each against its floor in the same run.
//!
//! - **Embedding throughput.** A 10,000-note notebook's embeddings rebuilt by the worker (one
//!   chunk per note, one provider call per item), and one large text source embedded through
//!   `POST /api/embed` (batches of 64), in chunks/s; the floor is the very same texts sent to
//!   the stand-in through the same client code (`ai::embeddings`) in the same shape, with no
//!   database in between.
//! - **Search** over those 10,000+ chunks: `POST /api/search`, text (BM25) and vector (the
//!   query embedded by the stand-in, then KNN), p50/p99 at each concurrency; the floor is the
//!   store's own search call (`repo::chunks::search_text` / `search_vector`, the query vector
//!   made beforehand), plus the stand-in's embedding of one query on its own.
//! - **Chat time to first token** through the public proxy (`POST /api/chat/execute`,
//!   `Accept: text/event-stream`, until the first `token` event), in a small notebook, in a
//!   session of 1,000 earlier messages there, in a notebook of 500 notes (a window's worth)
//!   and in the 10,000-note one with its default context; the floor is the stand-in's own time to its
//!   first streamed piece for the same kind of request, with a short context and with one as
//!   long as the big notebook's prompt holds (what a longer request costs the stand-in itself
//!   is not the app's).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ephitup_store::ai::{self, Provider};
use ephitup_store::repo::chunks::{self, ItemType, Scope};
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::{Api, Phase, run, seed_with};

/// Where the stand-in listens and how the benchmark user reaches it.
pub struct Setup {
    pub fake_ai: String,
    pub fake_key: String,
    /// The public proxy's base URL (chat goes through it).
    pub proxy: String,
    pub notes: usize,
    /// Chunks of the large source, about.
    pub source_chunks: usize,
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub samples: usize,
    /// Earlier messages of the long session's row.
    pub history: usize,
}

/// A word of a deterministic vocabulary: two to four syllables.
fn word(n: usize) -> String {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ren", "ta", "sol", "vi", "nor", "el", "dru", "pa", "zen", "qui", "bar", "fe", "tho", "gal",
        "ish", "mon", "ul", "ry", "sa", "dek", "or",
    ];
    let mut x = n.wrapping_mul(2_654_435_761) ^ 0x5bd1;
    let len = 2 + x % 3;
    let mut w = String::new();
    for _ in 0..len {
        w.push_str(SYLLABLES[x % SYLLABLES.len()]);
        x /= SYLLABLES.len();
    }
    w
}

const VOCABULARY: usize = 5_000;

/// `words` words of deterministic text starting at `seed`, in sentences.
fn text(seed: usize, words: usize) -> String {
    let mut out = String::with_capacity(words * 8);
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    for i in 0..words {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        out.push_str(&word((x >> 33) % VOCABULARY));
        out.push_str(if i % 12 == 11 { ". " } else { " " });
    }
    out
}

/// Two-word queries, rotated through by the search phases.
fn queries() -> Vec<String> {
    (0..64).map(|i| format!("{} {}", word(i * 7 % VOCABULARY), word(i * 13 % VOCABULARY))).collect()
}

fn next<'a>(items: &'a [String], at: &AtomicUsize) -> &'a String {
    &items[at.fetch_add(1, Ordering::Relaxed) % items.len()]
}

pub async fn bench(user: &Api, owner: &str, db: &ephitup_store::Db, setup: Setup) -> anyhow::Result<()> {
    // The stand-in as the user's `openai` provider; a chat model now, the embedding model
    // once the corpus is written (so seeding queues no embedding jobs).
    let secret = json!({"provider": "openai", "value": setup.fake_key, "base_url": setup.fake_ai});
    user.call(Method::POST, "/provider-secrets", Some(&secret)).await?;
    let model = |name: &str, kind: &str| {
        let body = json!({"name": name, "provider": "openai", "type": kind});
        async move {
            let m = user.call(Method::POST, "/models", Some(&body)).await?;
            anyhow::Ok(m["id"].as_str().context("no model id")?.to_string())
        }
    };
    let chat_model = model("fake-model", "language").await?;
    let embed_model = model("fake-embed", "embedding").await?;
    user.call(Method::PUT, "/models/defaults", Some(&json!({"default_chat_model": chat_model}))).await?;
    let notebook = |name: &str| {
        let body = json!({"name": name});
        async move {
            let nb = user.call(Method::POST, "/notebooks", Some(&body)).await?;
            anyhow::Ok(nb["id"].as_str().context("no notebook id")?.to_string())
        }
    };
    let corpus = notebook("Corpus").await?;
    let seeded = Instant::now();
    seed_with(db, owner, &corpus, setup.notes, |i| text(i, 40)).await?;
    eprintln!("seeded {} notes in {:?}", setup.notes, seeded.elapsed());
    // The large source (its text cut by the worker), not embedded when processed.
    let big_text = text(1_000_003, setup.source_chunks * 300);
    let body = json!({"type": "text", "title": "Large", "content": big_text, "notebooks": [corpus], "embed": false});
    let source = user.call(Method::POST, "/sources/json", Some(&body)).await?;
    let source = source["id"].as_str().context("no source id")?.to_string();
    wait(user, &format!("/sources/{source}"), |s| s["status"] == "completed", "processing").await?;
    let source_chunks = chunks::of_item(db, owner, ItemType::Source, &source).await?;
    user.call(Method::PUT, "/models/defaults", Some(&json!({"default_embedding_model": embed_model}))).await?;

    // Embedding throughput, the floor first: the same texts straight to the stand-in.
    let http = reqwest::Client::new();
    let provider = Provider::new("openai", &setup.fake_ai, setup.fake_key.clone(), http);
    let note_texts: Vec<String> = (0..setup.notes).map(|i| text(i, 40)).collect();
    let t0 = Instant::now();
    for t in &note_texts {
        ai::embeddings(&provider, "fake-embed", std::slice::from_ref(t)).await?;
    }
    let floor_notes = t0.elapsed();
    let source_texts: Vec<String> = source_chunks.iter().map(|c| c.content.clone()).collect();
    let t0 = Instant::now();
    for batch in source_texts.chunks(64) {
        ai::embeddings(&provider, "fake-embed", batch).await?;
    }
    let floor_source = t0.elapsed();

    let t0 = Instant::now();
    let body = json!({"item_id": source, "item_type": "source"});
    user.call(Method::POST, "/embed", Some(&body)).await?;
    let api_source = t0.elapsed();
    let t0 = Instant::now();
    let rebuild = user
        .call(
            Method::POST,
            "/embeddings/rebuild",
            Some(&json!({"mode": "all", "include_sources": false, "include_insights": false})),
        )
        .await?;
    let command = rebuild["command_id"].as_str().context("no command_id")?;
    let status = wait(
        user,
        &format!("/embeddings/rebuild/{command}/status"),
        |s| s["status"] != "new" && s["status"] != "running",
        "the rebuild",
    )
    .await?;
    let api_notes = t0.elapsed();
    if status["status"] != "completed" || status["stats"]["failed"] != 0 {
        bail!("the rebuild did not complete: {status}");
    }

    println!(
        "{} notes of 40 words (one chunk each) and a source of {} chunks; the stand-in makes {}-dimensional vectors\n",
        setup.notes,
        source_chunks.len(),
        ai::embeddings(&provider, "fake-embed", &["x".into()]).await?.first().map(Vec::len).unwrap_or(0)
    );
    println!("| embedding | chunks | app chunks/s | stand-in alone chunks/s | app ÷ stand-in |");
    println!("|---|---|---|---|---|");
    for (label, n, app, floor) in [
        ("rebuild of the notes (worker, in groups of 64)", setup.notes, api_notes, floor_notes),
        ("`POST /api/embed` of the source (batches of 64)", source_chunks.len(), api_source, floor_source),
    ] {
        let (a, f) = (n as f64 / app.as_secs_f64(), n as f64 / floor.as_secs_f64());
        println!("| {label} | {n} | {a:.0} | {f:.0} | {:.2} |", a / f);
    }

    // Search: through the API, and the store's own call with the vector made beforehand.
    let queries = Arc::new(queries());
    let mut vectors = Vec::new();
    for q in queries.iter() {
        let v = ai::embeddings(&provider, "fake-embed", std::slice::from_ref(q)).await?;
        vectors.push(v.into_iter().next().context("no vector")?);
    }
    let vectors = Arc::new(vectors);
    let tag = "openai/fake-embed".to_string();
    let scope = Scope { sources: true, notes: true, notebook_id: None };
    let mut rows = Vec::new();
    for &c in &setup.concurrency {
        for kind in ["text", "vector"] {
            let (a, qs, at) = (user.clone(), queries.clone(), Arc::new(AtomicUsize::new(0)));
            let api = run(&format!("POST /api/search ({kind})"), c, setup.duration, move || {
                let (a, qs, at) = (a.clone(), qs.clone(), at.clone());
                async move {
                    let body = json!({"query": next(&qs, &at), "type": kind, "limit": 10});
                    let found = a.call(Method::POST, "/search", Some(&body)).await?;
                    anyhow::ensure!(found["results"].is_array(), "no results: {found}");
                    Ok(())
                }
            })
            .await;
            let (sdk, o, qs, vs, tag, scope) =
                (db.clone(), owner.to_string(), queries.clone(), vectors.clone(), tag.clone(), scope.clone());
            let at = Arc::new(AtomicUsize::new(0));
            let floor = run(&format!("repo::chunks::search_{kind}"), c, setup.duration, move || {
                let (sdk, o, qs, vs, tag, scope, at) =
                    (sdk.clone(), o.clone(), qs.clone(), vs.clone(), tag.clone(), scope.clone(), at.clone());
                async move {
                    let i = at.fetch_add(1, Ordering::Relaxed);
                    if kind == "text" {
                        chunks::search_text(&sdk, &o, &qs[i % qs.len()], &scope, 10).await?;
                    } else {
                        chunks::search_vector(&sdk, &o, &tag, &vs[i % vs.len()], &scope, 10, 0.2).await?;
                    }
                    Ok(())
                }
            })
            .await;
            rows.push((kind, c, api, floor));
            // Nothing sheds in front of the floor's direct calls: 16 text searches at once can
            // wedge the db for a while. The next phase starts once it answers again.
            settle(user).await?;
        }
    }
    let (p, qs, at) = (provider.clone(), queries.clone(), Arc::new(AtomicUsize::new(0)));
    let embed_one = run("stand-in: embed one query", 1, setup.duration, move || {
        let (p, qs, at) = (p.clone(), qs.clone(), at.clone());
        async move { ai::embeddings(&p, "fake-embed", std::slice::from_ref(next(&qs, &at))).await.map(drop) }
    })
    .await;
    println!(
        "\nsearch over {} chunks, 10 hits, {} per phase; the stand-in embeds one query in {:.2} ms (p50), {:.2} ms (p99)\n",
        setup.notes + source_chunks.len(),
        humantime::format_duration(setup.duration),
        embed_one.percentile_ms(50.0),
        embed_one.percentile_ms(99.0)
    );
    println!(
        "| search | concurrency | API req/s | API p50 ms | API p99 ms | store req/s | store p50 ms | store p99 ms | errors (API/store) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (kind, c, api, floor) in &rows {
        println!("| {kind} | {c} | {} | {} | {}/{} |", api.cells(), floor.cells(), api.errors, floor.errors);
    }

    // Chat: time to the first token through the proxy, against the stand-in's own.
    let small = notebook("Chat").await?;
    for i in 0..3 {
        let body = json!({"title": format!("Note {i}"), "content": text(i + 77, 60), "notebook_id": small});
        user.call(Method::POST, "/notes", Some(&body)).await?;
    }
    let public = Api { base: setup.proxy.trim_end_matches('/').to_string(), ..user.clone() };
    // A notebook of a window's worth of notes (and a few more): what a chat reads of it is
    // what it reads of the big one, whose other notes are counted, not read.
    const WINDOW_NOTES: usize = 500;
    // Not embedded: the worker embedding them would share the cores with the chats timed.
    user.call(Method::PUT, "/settings", Some(&json!({"default_embedding_option": "never"}))).await?;
    let window = notebook("A window's worth").await?;
    seed_with(db, owner, &window, WINDOW_NOTES, |i| text(i + 20_000, 40)).await?;
    let mut chat_rows = Vec::new();
    // The tokens of context the last answer's prompt held (the big notebook's, in the end).
    let mut big_context_tokens = None;
    let big_label = format!("the notebook of {} notes and the source, default context", setup.notes);
    let long_label = format!("a notebook of 3 notes, a session of {} earlier messages", setup.history);
    let rows = [
        ("a notebook of 3 notes".to_string(), &small, 0, false),
        (long_label, &small, setup.history, false),
        (format!("a notebook of {WINDOW_NOTES} notes"), &window, 0, true),
        (big_label, &corpus, 0, true),
    ];
    for (label, nb, earlier, full) in rows {
        let session = public.call(Method::POST, "/chat/sessions", Some(&json!({"notebook_id": nb}))).await?;
        let session = session["id"].as_str().context("no session id")?.to_string();
        // Written as the API writes a turn's two messages (the session counts them).
        for i in 0..earlier {
            let kind = if i % 2 == 0 { "human" } else { "ai" };
            ephitup_store::repo::chat::add_message(db, owner, &session, kind, &text(i + 500, 30), &[]).await?;
        }
        let mut samples = Vec::with_capacity(setup.samples);
        for i in 0..setup.samples {
            let body = json!({"session_id": session, "message": format!("What is said about {}?", word(i))});
            let (took, context_tokens) = first_token(&public, &body).await?;
            samples.push(took);
            big_context_tokens = context_tokens;
        }
        chat_rows.push((label, phase_of(samples), full));
    }
    let mut samples = Vec::with_capacity(setup.samples);
    for i in 0..setup.samples {
        samples.push(stand_in_first_token(user, &setup, &text(i + 77, 60), &word(i)).await?);
    }
    let stand_in = phase_of(samples);
    // The same with a context of as many tokens as the big notebook's prompt held.
    let big_tokens = big_context_tokens.context("no context event from the big notebook's chat")?;
    let per_word = ephitup_store::chunks::tokens(&text(7, 1_000)) as f64 / 1_000.0;
    let words = (big_tokens as f64 / per_word) as usize;
    let mut samples = Vec::with_capacity(setup.samples);
    for i in 0..setup.samples {
        samples.push(stand_in_first_token(user, &setup, &text(i + 77, words), &word(i)).await?);
    }
    let stand_in_big = phase_of(samples);
    // The store's own read of a window's worth of context (what a turn's prompt holds, for a
    // session without history), straight through the SDK: what a turn cannot do without.
    let room = ai::chat::context_room(ai::chat::budget("fake-model", "What is said about it?"), &Default::default());
    let mut reads = Vec::new();
    for (label, nb) in [
        (format!("the notebook of {WINDOW_NOTES} notes"), &window),
        (format!("the notebook of {} notes", setup.notes), &corpus),
    ] {
        let mut samples = Vec::with_capacity(setup.samples);
        for _ in 0..setup.samples {
            let t0 = Instant::now();
            ephitup_store::repo::context::fit(db, owner, nb, Default::default(), room).await?;
            samples.push(t0.elapsed());
        }
        reads.push((label, phase_of(samples)));
    }
    println!("\nchat time to first token, {} sequential answers each\n", setup.samples);
    println!(
        "| chat | p50 ms | p99 ms | p50 over the stand-in's own, ms | p50 over the stand-in with a context as long, ms |"
    );
    println!("|---|---|---|---|---|");
    for (label, phase) in [
        ("stand-in alone (its first piece), a 60-word context".to_string(), &stand_in),
        (format!("stand-in alone (its first piece), a context of {big_tokens} tokens"), &stand_in_big),
    ] {
        println!("| {label} | {:.1} | {:.1} | — | — |", phase.percentile_ms(50.0), phase.percentile_ms(99.0));
    }
    for (label, phase) in &reads {
        let (p50, p99) = (phase.percentile_ms(50.0), phase.percentile_ms(99.0));
        println!("| store alone: `context::fit` of {label}, {room} tokens of room | {p50:.1} | {p99:.1} | — | — |");
    }
    for (label, phase, full) in &chat_rows {
        // A prompt that fills the window against the stand-in given a context as long.
        let alike = if *full { &stand_in_big } else { &stand_in };
        println!(
            "| through :8502, {label} | {:.1} | {:.1} | {:+.1} | {:+.1} |",
            phase.percentile_ms(50.0),
            phase.percentile_ms(99.0),
            phase.percentile_ms(50.0) - stand_in.percentile_ms(50.0),
            phase.percentile_ms(50.0) - alike.percentile_ms(50.0)
        );
    }
    Ok(())
}

/// Waits (at most 5 minutes) until `/api/health` answers 200: the database answers again.
async fn settle(api: &Api) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while api.call(Method::GET, "/health", None).await.is_err() {
        if Instant::now() > deadline {
            bail!("the database did not answer again within 5 minutes of a phase");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

fn phase_of(mut samples: Vec<Duration>) -> Phase {
    samples.sort();
    let elapsed = samples.iter().sum();
    Phase { elapsed, latencies_us: samples.iter().map(|d| d.as_micros() as u64).collect(), errors: 0 }
}

/// Polls `path` until `done` holds of its answer (at most 10 minutes).
async fn wait(api: &Api, path: &str, done: impl Fn(&Value) -> bool, what: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let v = api.call(Method::GET, path, None).await?;
        if done(&v) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("{what} did not finish: {v}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Time from sending a streamed chat request to the first `token` event, and the tokens of
/// context its prompt held (the `context` event); then hangs up.
async fn first_token(api: &Api, body: &Value) -> anyhow::Result<(Duration, Option<u64>)> {
    let request = hyper::Request::post(format!("{}/api/chat/execute", api.base))
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
    let t0 = Instant::now();
    let response = api.client.request(request).await?;
    if !response.status().is_success() {
        bail!("chat: {}", response.status());
    }
    let (took, seen) = until_data(response.into_body(), "\"type\":\"token\"", t0).await?;
    let context_tokens = seen
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|e| e["type"] == "context")
        .and_then(|e| e["context_tokens"].as_u64());
    Ok((took, context_tokens))
}

/// The stand-in's own time to its first streamed piece of a chat answer.
async fn stand_in_first_token(api: &Api, setup: &Setup, context: &str, topic: &str) -> anyhow::Result<Duration> {
    let body = json!({
        "model": "fake-model",
        "stream": true,
        "messages": [
            {"role": "system", "content": format!("Answer from the context.\n\n## [note:1] Note\n{context}")},
            {"role": "user", "content": format!("What is said about {topic}?")},
        ],
    });
    let request = hyper::Request::post(format!("{}/chat/completions", setup.fake_ai.trim_end_matches('/')))
        .header("authorization", format!("Bearer {}", setup.fake_key))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?;
    let t0 = Instant::now();
    // The API's pooled client, so both sides reuse their connections alike.
    let response = api.client.request(request).await?;
    Ok(until_data(response.into_body(), "\"content\"", t0).await?.0)
}

/// Reads a server-sent event stream until a `data:` line holding `marker`: the time since
/// `t0`, and what was read.
async fn until_data(mut body: hyper::body::Incoming, marker: &str, t0: Instant) -> anyhow::Result<(Duration, String)> {
    let mut seen = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
            if seen.lines().any(|l| l.starts_with("data:") && l.contains(marker)) {
                return Ok((t0.elapsed(), seen));
            }
        }
    }
    bail!("the stream ended before its first token: {seen}")
}
