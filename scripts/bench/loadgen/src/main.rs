//! The API benchmark's load generator. It drives the same two operations — list a user's
//! notebooks, create a note — first through the API over HTTP, then straight through the
//! store's own functions (the SurrealDB SDK, one shared connection, exactly the queries the
//! API runs), at the same concurrency for the same time. The second run is the floor: the
//! ratio of the two is what the API (HTTP, JSON, auth, routing) costs on top of its queries.
//!
//! Prints a Markdown table; used by `scripts/bench/api.sh`, which starts the stack.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ephitup_store::repo::notebooks::{self, OrderBy};
use ephitup_store::repo::notes::{self, NewNote};
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
    /// Requests in flight at any time.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long each phase runs.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Notebooks of the benchmark user (what the list returns).
    #[arg(long, default_value_t = 50)]
    notebooks: usize,
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
    name: String,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    errors: usize,
}

impl Phase {
    fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
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
    let mut phase = Phase { name: name.to_string(), elapsed: Duration::ZERO, latencies_us: Vec::new(), errors: 0 };
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
    let client: HttpClient =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(args.concurrency).build_http();
    let mut api = Api { client, base: args.api.trim_end_matches('/').to_string(), token: String::new() };

    let email = format!("bench-{}@example.com", std::process::id());
    let password = "Bench-password-1!";
    let registered = api
        .call(Method::POST, "/auth/register", Some(&json!({"email": email, "password": password})))
        .await
        .context("registering the benchmark user")?;
    api.token = registered["access_token"].as_str().context("no access_token")?.to_string();
    let owner = registered["user"]["id"].as_str().context("no user id")?.to_string();

    let mut notebook = String::new();
    for i in 0..args.notebooks {
        let nb = api.call(Method::POST, "/notebooks", Some(&json!({"name": format!("Notebook {i}")}))).await?;
        notebook = nb["id"].as_str().context("no notebook id")?.to_string();
    }

    // Login cost: sequential, so each is one argon2id verification plus a token.
    let mut logins = Vec::new();
    let anonymous = Api { token: String::new(), ..api.clone() };
    for _ in 0..args.logins {
        let t0 = Instant::now();
        anonymous.call(Method::POST, "/auth/login", Some(&json!({"email": email, "password": password}))).await?;
        logins.push(t0.elapsed());
    }
    logins.sort();

    let db = ephitup_store::connect_app(&ephitup_store::DbSettings::from_env()?).await?;
    let (c, d) = (args.concurrency, args.duration);
    let mut phases = Vec::new();

    let a = api.clone();
    phases.push(
        run("GET /api/notebooks", c, d, move || {
            let a = a.clone();
            async move {
                let list = a.call(Method::GET, "/notebooks", None).await?;
                anyhow::ensure!(list.as_array().map(Vec::len) == Some(args.notebooks), "wrong list");
                Ok(())
            }
        })
        .await,
    );
    let (sdk, o) = (db.clone(), owner.clone());
    phases.push(
        run("notebooks::list via SDK", c, d, move || {
            let (sdk, o) = (sdk.clone(), o.clone());
            async move {
                let list = notebooks::list(&sdk, &o, None, OrderBy::Updated, true).await?;
                anyhow::ensure!(list.len() == args.notebooks, "wrong list");
                Ok(())
            }
        })
        .await,
    );
    let (a, nb) = (api.clone(), notebook.clone());
    phases.push(
        run("POST /api/notes", c, d, move || {
            let (a, nb) = (a.clone(), nb.clone());
            async move {
                let body = json!({"title": "Bench", "content": "A note written under load.", "notebook_id": nb});
                a.call(Method::POST, "/notes", Some(&body)).await.map(drop)
            }
        })
        .await,
    );
    let (sdk, o, nb) = (db.clone(), owner.clone(), notebook.clone());
    phases.push(
        run("notes::create via SDK", c, d, move || {
            let (sdk, o, nb) = (sdk.clone(), o.clone(), nb.clone());
            async move {
                let new = NewNote {
                    title: Some("Bench".into()),
                    content: "A note written under load.".into(),
                    note_type: "human".into(),
                    notebook_id: Some(nb),
                };
                notes::create(&sdk, &o, new).await.map(drop).map_err(Into::into)
            }
        })
        .await,
    );

    println!("concurrency {c}, {} per phase, {} notebooks\n", humantime::format_duration(d), args.notebooks);
    println!("| phase | requests/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    for p in &phases {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} |",
            p.name,
            p.throughput(),
            p.percentile_ms(50.0),
            p.percentile_ms(99.0),
            p.errors
        );
    }
    println!("\n| operation | API / SDK floor: throughput | p50 | p99 |");
    println!("|---|---|---|---|");
    for (label, api, floor) in
        [("list 50 notebooks", &phases[0], &phases[1]), ("create a note", &phases[2], &phases[3])]
    {
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} |",
            api.throughput() / floor.throughput(),
            api.percentile_ms(50.0) / floor.percentile_ms(50.0),
            api.percentile_ms(99.0) / floor.percentile_ms(99.0)
        );
    }
    let median = logins.get(logins.len() / 2).copied().unwrap_or_default();
    println!("\nlogin (argon2id m=19 MiB, t=2, p=1, one verification): median {median:?} of {}", logins.len());
    Ok(())
}
