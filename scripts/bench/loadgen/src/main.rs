//! The API benchmark's load generator. It drives the same operations — create a note, list a
//! user's notebooks, read one page of a notebook of 10,000 notes, create a source — first
//! through the API over HTTP, then straight through the store's own functions (the SurrealDB
//! SDK, the same connection pool the API uses, exactly the queries the API runs), at each
//! concurrency for the same time. The second run is the floor: the ratio of the two is what
//! the API (HTTP, JSON, auth, routing, the bound on work in flight) costs on top of its
//! queries. Writes are also timed into an empty notebook and into the 10,000-note one: the
//! ratio says whether a write's cost grows with the notebook.
//!
//! Prints Markdown tables; used by `scripts/bench/api.sh`, which starts the stack.
//! `--chat-search` runs issue 16's figures instead (`chat_search`, `scripts/bench/chat-search.sh`).

mod chat_search;

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ephitup_store::records::Asset;
use ephitup_store::repo::Window;
use ephitup_store::repo::notebooks::{self, OrderBy};
use ephitup_store::repo::notes::{self, NewNote};
use ephitup_store::repo::sources::{self, NewSource};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Load the API and its database floor; print throughput and latency")]
struct Args {
    /// Base URL of the API.
    #[arg(long, default_value = "http://127.0.0.1:5055")]
    api: String,
    /// Requests in flight at any time: each concurrency is one round of every phase.
    #[arg(long, value_delimiter = ',', default_value = "1,16,128")]
    concurrency: Vec<usize>,
    /// How long each phase runs.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Notebooks of the benchmark user (what the list returns).
    #[arg(long, default_value_t = 50)]
    notebooks: usize,
    /// Notes of the big notebook (the page and the write-cost phases).
    #[arg(long, default_value_t = 10_000)]
    big: usize,
    /// Instead of the benchmark: a flood of this long (e.g. `60s`) from the largest
    /// concurrency, half note writes and half `GET /api/health`, then the answers by status.
    #[arg(long, value_parser = humantime::parse_duration)]
    flood: Option<Duration>,
    /// In the flood, a client answered 503 sends again at once instead of waiting the
    /// answer's `Retry-After` (at most 5 s) as HTTP asks of clients.
    #[arg(long)]
    flood_ignore_retry_after: bool,
    /// Instead of the benchmark: the SDK stall. This many queries are handed at once to one
    /// bare SDK connection, then to the pool (bounded room per connection), each behind a
    /// probe query sent first; prints when the probe's answer arrived and when the last did.
    #[arg(long)]
    stall: Option<usize>,
    /// Instead of the benchmark: embedding, search and chat figures against this stand-in AI
    /// (`ephitup-fake-ai`'s base URL, e.g. `http://127.0.0.1:9000/v1`); see `chat_search`.
    #[arg(long)]
    chat_search: Option<String>,
    /// The stand-in's key.
    #[arg(long, default_value = "sk-fake")]
    fake_key: String,
    /// The public proxy's base URL (chat's time to first token is taken through it).
    #[arg(long, default_value = "http://127.0.0.1:8502")]
    proxy: String,
    /// Chunks of the large source the chat-search figures embed, about.
    #[arg(long, default_value_t = 1_000)]
    source_chunks: usize,
    /// Sequential chat answers timed per row.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Earlier messages of the chat session the chat-search figures time a row in.
    #[arg(long, default_value_t = 1_000)]
    history: usize,
    /// Sequential logins timed to state the password hashing cost.
    #[arg(long, default_value_t = 8)]
    logins: usize,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The API as one user sees it.
#[derive(Clone)]
struct Api {
    client: HttpClient,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let mut request = Request::builder().method(method).uri(format!("{}/api{path}", self.base));
        if !self.token.is_empty() {
            request = request.header("authorization", format!("Bearer {}", self.token));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(serde_json::to_vec(v)?))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self.client.request(request.body(body)?).await.context(path.to_string())?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("{path}: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

/// Latencies and errors of one phase.
struct Phase {
    elapsed: Duration,
    latencies_us: Vec<u64>,
    errors: usize,
}

impl Phase {
    fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// `req/s | p50 ms | p99 ms`, cells of a Markdown table.
    fn cells(&self) -> String {
        format!("{:.0} | {:.2} | {:.2}", self.throughput(), self.percentile_ms(50.0), self.percentile_ms(99.0))
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank] as f64 / 1000.0
    }
}

/// Runs `op` from `concurrency` tasks, each back to back, for `duration`.
async fn run<F, Fut>(name: &str, concurrency: usize, duration: Duration, op: F) -> Phase
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let op = op.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0usize, None);
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    match op().await {
                        Ok(()) => latencies.push(t0.elapsed().as_micros() as u64),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut phase = Phase { elapsed: Duration::ZERO, latencies_us: Vec::new(), errors: 0 };
    for task in tasks {
        if let Ok((latencies, errors, first_error)) = task.await {
            phase.latencies_us.extend(latencies);
            phase.errors += errors;
            if let Some(e) = first_error {
                eprintln!("{name}: first error: {e:#}");
            }
        }
    }
    phase.elapsed = start.elapsed();
    phase.latencies_us.sort_unstable();
    phase
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(queries) = args.stall {
        return stall(queries).await;
    }
    let most = args.concurrency.iter().copied().max().unwrap_or(1);
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(most).build_http();
    let base = Api { client, base: args.api.trim_end_matches('/').to_string(), token: String::new() };
    let password = "Bench-password-1!";
    let register = |who: &'static str| {
        let base = base.clone();
        async move {
            let email = format!("bench-{who}-{}@example.com", std::process::id());
            let registered = base
                .call(Method::POST, "/auth/register", Some(&json!({"email": email, "password": password})))
                .await
                .context("registering a benchmark user")?;
            let token = registered["access_token"].as_str().context("no access_token")?.to_string();
            let owner = registered["user"]["id"].as_str().context("no user id")?.to_string();
            anyhow::Ok((Api { token, ..base }, owner, email))
        }
    };
    // One user whose notebooks are listed, one who writes (its notebooks change all the time).
    let (lister, lister_id, lister_email) = register("lister").await?;
    let (writer, owner) = {
        let (api, owner, _) = register("writer").await?;
        (api, owner)
    };
    if let Some(length) = args.flood {
        return flood(&writer, most, length, !args.flood_ignore_retry_after).await;
    }
    if let Some(fake_ai) = args.chat_search {
        let db = ephitup_store::connect_app(&ephitup_store::DbSettings::from_env()?).await?;
        let setup = chat_search::Setup {
            fake_ai,
            fake_key: args.fake_key,
            proxy: args.proxy,
            notes: args.big,
            source_chunks: args.source_chunks,
            concurrency: args.concurrency,
            duration: args.duration,
            samples: args.samples,
            history: args.history,
        };
        return chat_search::bench(&writer, &owner, &db, setup).await;
    }
    for i in 0..args.notebooks {
        lister.call(Method::POST, "/notebooks", Some(&json!({"name": format!("Notebook {i}")}))).await?;
    }

    // Login cost: sequential, so each is one argon2id verification plus a token.
    let mut logins = Vec::new();
    let anonymous = Api { token: String::new(), ..lister.clone() };
    for _ in 0..args.logins {
        let t0 = Instant::now();
        anonymous
            .call(Method::POST, "/auth/login", Some(&json!({"email": lister_email, "password": password})))
            .await?;
        logins.push(t0.elapsed());
    }
    logins.sort();

    let db = ephitup_store::connect_app(&ephitup_store::DbSettings::from_env()?).await?;
    let new_notebook = |name: String| {
        let writer = writer.clone();
        async move {
            let nb = writer.call(Method::POST, "/notebooks", Some(&json!({ "name": name }))).await?;
            anyhow::Ok(nb["id"].as_str().context("no notebook id")?.to_string())
        }
    };
    let big = new_notebook("Big".into()).await?;
    let seeded = Instant::now();
    seed(&db, &owner, &big, args.big).await?;
    eprintln!("seeded {} notes in {:?}", args.big, seeded.elapsed());

    let d = args.duration;
    let mut rows = Vec::new();
    let mut write_costs = Vec::new();
    for &c in &args.concurrency {
        // Note create, into an empty notebook and into the big one, both ways.
        let empty = new_notebook(format!("Empty {c}")).await?;
        let api_empty = run("POST /api/notes (empty notebook)", c, d, api_note(&writer, &empty)).await;
        let sdk_empty = run("notes::create (empty)", c, d, sdk_note(&db, &owner, &empty)).await;
        let api_big = run("POST /api/notes (10,000-note notebook)", c, d, api_note(&writer, &big)).await;
        let sdk_big = run("notes::create (10,000)", c, d, sdk_note(&db, &owner, &big)).await;
        write_costs.push((c, "API", api_empty.throughput() / api_big.throughput()));
        write_costs.push((c, "SDK", sdk_empty.throughput() / sdk_big.throughput()));
        rows.push(("create a note", c, api_big, sdk_big));
        drop((api_empty, sdk_empty));

        let (a, n) = (lister.clone(), args.notebooks);
        let api = run("GET /api/notebooks", c, d, move || {
            let a = a.clone();
            async move {
                let list = a.call(Method::GET, "/notebooks", None).await?;
                anyhow::ensure!(list.as_array().map(Vec::len) == Some(n), "wrong list");
                Ok(())
            }
        })
        .await;
        let (sdk, o) = (db.clone(), lister_id.clone());
        let floor = run("notebooks::list", c, d, move || {
            let (sdk, o) = (sdk.clone(), o.clone());
            async move {
                let list = notebooks::list(&sdk, &o, None, OrderBy::Updated, true).await?;
                anyhow::ensure!(list.len() == n, "wrong list");
                Ok(())
            }
        })
        .await;
        rows.push(("list 50 notebooks", c, api, floor));

        let (a, nb) = (writer.clone(), big.clone());
        let api = run("GET /api/notes?notebook_id (page of 50)", c, d, move || {
            let (a, nb) = (a.clone(), nb.clone());
            async move {
                let page = a.call(Method::GET, &format!("/notes?notebook_id={nb}&limit=50"), None).await?;
                anyhow::ensure!(page.as_array().map(Vec::len) == Some(50), "wrong page");
                Ok(())
            }
        })
        .await;
        let (sdk, o, nb) = (db.clone(), owner.clone(), big.clone());
        let floor = run("notes::list (page of 50)", c, d, move || {
            let (sdk, o, nb) = (sdk.clone(), o.clone(), nb.clone());
            async move {
                let page = notes::list(&sdk, &o, Some(&nb), Window { limit: 50, offset: 0 }).await?;
                anyhow::ensure!(page.len() == 50, "wrong page");
                Ok(())
            }
        })
        .await;
        rows.push(("a page of a 10,000-note notebook", c, api, floor));

        let (a, nb) = (writer.clone(), empty.clone());
        let api = run("POST /api/sources/json", c, d, move || {
            let (a, nb) = (a.clone(), nb.clone());
            async move {
                let body = json!({"type": "text", "content": "A source written under load.", "notebooks": [nb]});
                a.call(Method::POST, "/sources/json", Some(&body)).await.map(drop)
            }
        })
        .await;
        let (sdk, o, nb) = (db.clone(), owner.clone(), empty.clone());
        let floor = run("sources::create", c, d, move || {
            let (sdk, o, nb) = (sdk.clone(), o.clone(), nb.clone());
            async move {
                let new = NewSource {
                    kind: "text".into(),
                    title: None,
                    content: Some("A source written under load.".into()),
                    asset: Asset::default(),
                    notebooks: vec![nb],
                    embed: false,
                    delete_source: false,
                    transformations: Vec::new(),
                };
                sources::create(&sdk, &o, new).await.map(drop).map_err(Into::into)
            }
        })
        .await;
        rows.push(("create a source", c, api, floor));
    }

    println!(
        "{} per phase; {} notebooks listed; the big notebook holds {}+ notes; {} database connections\n",
        humantime::format_duration(d),
        args.notebooks,
        args.big,
        db.connections()
    );
    println!(
        "| operation | concurrency | API req/s | API p50 ms | API p99 ms | SDK req/s | SDK p50 ms | SDK p99 ms | API/SDK throughput | errors (API/SDK) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (label, c, api, floor) in &rows {
        println!(
            "| {label} | {c} | {} | {} | {:.2} | {}/{} |",
            api.cells(),
            floor.cells(),
            api.throughput() / floor.throughput(),
            api.errors,
            floor.errors
        );
    }
    println!(
        "\n| note create: cost in the 10,000-note notebook ÷ in an empty one | concurrency | ratio (goal ≤ 1.2) |"
    );
    println!("|---|---|---|");
    for (c, via, ratio) in &write_costs {
        println!("| {via} | {c} | {ratio:.2} |");
    }
    let median = logins.get(logins.len() / 2).copied().unwrap_or_default();
    println!("\nlogin (argon2id m=19 MiB, t=2, p=1, one verification): median {median:?} of {}", logins.len());
    Ok(())
}

/// The probe's and the flood's times on a bare SDK connection, then through the pool.
async fn stall(queries: usize) -> anyhow::Result<()> {
    let settings = ephitup_store::DbSettings::from_env()?;
    let bare = ephitup_store::connect_app(&ephitup_store::DbSettings { pool_size: 1, ..settings.clone() }).await?;
    let pool = ephitup_store::connect_app(&settings).await?;
    println!("{queries} queries handed over at once, behind one probe\n");
    println!("| connection | probe answered after ms | last answer after ms |");
    println!("|---|---|---|");
    for (label, bounded) in [("one SDK connection, unbounded", false), ("the pool, bounded room", true)] {
        let start = Instant::now();
        let query = |db: ephitup_store::Db| async move {
            if bounded {
                // A read through the repositories: it waits for room on a connection.
                let _ = ephitup_store::repo::users::get(&db, "user:nobody").await;
            } else {
                let _ = db.query("SELECT * FROM type::record('user', 'nobody')").await;
            }
            start.elapsed()
        };
        let db = if bounded { pool.clone() } else { bare.clone() };
        let probe = tokio::spawn(query(db.clone()));
        tokio::task::yield_now().await;
        let flood: Vec<_> = (0..queries).map(|_| tokio::spawn(query(db.clone()))).collect();
        let probe = probe.await?;
        let mut last = Duration::ZERO;
        for task in flood {
            last = last.max(task.await?);
        }
        println!("| {label} | {:.1} | {:.1} |", probe.as_secs_f64() * 1e3, last.as_secs_f64() * 1e3);
    }
    Ok(())
}

/// `clients` tasks for `length`, each back to back: even ones write notes, odd ones ask
/// `/api/health`; prints how many answers had each status (0: no answer at all).
async fn flood(api: &Api, clients: usize, length: Duration, honor_retry_after: bool) -> anyhow::Result<()> {
    let nb = api.call(Method::POST, "/notebooks", Some(&json!({"name": "Flood"}))).await?;
    let nb = nb["id"].as_str().context("no notebook id")?.to_string();
    let deadline = Instant::now() + length;
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (api, nb) = (api.clone(), nb.clone());
            tokio::spawn(async move {
                let mut seen = std::collections::BTreeMap::<(&'static str, u16), usize>::new();
                while Instant::now() < deadline {
                    let (what, request) = if i % 2 == 0 {
                        let body = json!({"content": "A note written in a flood.", "notebook_id": nb}).to_string();
                        let r = Request::post(format!("{}/api/notes", api.base))
                            .header("authorization", format!("Bearer {}", api.token))
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)));
                        ("POST /api/notes", r)
                    } else {
                        (
                            "GET /api/health",
                            Request::get(format!("{}/api/health", api.base)).body(Full::new(Bytes::new())),
                        )
                    };
                    let Ok(request) = request else { continue };
                    let (status, retry_after) =
                        match tokio::time::timeout(Duration::from_secs(30), api.client.request(request)).await {
                            Ok(Ok(response)) => {
                                let status = response.status().as_u16();
                                let retry_after = response
                                    .headers()
                                    .get("retry-after")
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| v.trim().parse::<u64>().ok());
                                let _ = response.into_body().collect().await;
                                (status, retry_after)
                            }
                            _ => (0, None),
                        };
                    *seen.entry((what, status)).or_default() += 1;
                    if let (true, 503, Some(secs)) = (honor_retry_after, status, retry_after) {
                        let pause = Duration::from_secs(secs.min(5));
                        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
                    }
                }
                seen
            })
        })
        .collect();
    let mut total = std::collections::BTreeMap::<(&'static str, u16), usize>::new();
    for task in tasks {
        for (key, n) in task.await? {
            *total.entry(key).or_default() += n;
        }
    }
    let retries = if honor_retry_after { "each waiting a 503's Retry-After" } else { "none waiting after a 503" };
    println!("flood: {clients} clients for {} ({retries})\n", humantime::format_duration(length));
    println!("| request | status | answers |");
    println!("|---|---|---|");
    for ((what, status), n) in &total {
        println!("| {what} | {status} | {n} |");
    }
    let all: usize = total.values().sum();
    let served: usize = total.iter().filter(|((_, s), _)| (200..300).contains(s)).map(|(_, n)| n).sum();
    let bad: usize = total.iter().filter(|((_, s), _)| *s == 0 || (*s >= 500 && *s != 503)).map(|(_, n)| n).sum();
    println!(
        "\nserved {served} of {all} ({:.0}%); 5xx other than 503, or no answer: {bad}",
        100.0 * served as f64 / all.max(1) as f64
    );
    Ok(())
}

/// Writes `count` notes into the notebook straight through the store, 32 at a time.
async fn seed(db: &ephitup_store::Db, owner: &str, notebook: &str, count: usize) -> anyhow::Result<()> {
    seed_with(db, owner, notebook, count, |_| "A note of the big notebook.".into()).await
}

/// Writes `count` notes, the `i`th with `content(i)`, straight through the store, 32 at a time.
async fn seed_with(
    db: &ephitup_store::Db,
    owner: &str,
    notebook: &str,
    count: usize,
    content: fn(usize) -> String,
) -> anyhow::Result<()> {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (db, owner, notebook, next) = (db.clone(), owner.to_string(), notebook.to_string(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let new = NewNote {
                        title: Some("Seed".into()),
                        content: content(i),
                        note_type: "human".into(),
                        notebook_id: Some(notebook.clone()),
                    };
                    notes::create(&db, &owner, new).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

fn api_note(
    api: &Api,
    notebook: &str,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Clone + Send + 'static {
    let (a, nb) = (api.clone(), notebook.to_string());
    move || {
        let (a, nb) = (a.clone(), nb.clone());
        Box::pin(async move {
            let body = json!({"title": "Bench", "content": "A note written under load.", "notebook_id": nb});
            a.call(Method::POST, "/notes", Some(&body)).await.map(drop)
        })
    }
}

fn sdk_note(
    db: &ephitup_store::Db,
    owner: &str,
    notebook: &str,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Clone + Send + 'static {
    let (sdk, o, nb) = (db.clone(), owner.to_string(), notebook.to_string());
    move || {
        let (sdk, o, nb) = (sdk.clone(), o.clone(), nb.clone());
        Box::pin(async move {
            let new = NewNote {
                title: Some("Bench".into()),
                content: "A note written under load.".into(),
                note_type: "human".into(),
                notebook_id: Some(nb),
            };
            notes::create(&sdk, &o, new).await.map(drop).map_err(Into::into)
        })
    }
}
