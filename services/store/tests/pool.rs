#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The connection pool against a real server, watched from the server's side (its log of
//! every RPC request): each connection signs in once, and queries never sign in again. A
//! clone of an SDK handle is a new server session that replays the sign-in, an argon2
//! verification of the root password on the server; a clone per query made every query cost
//! ~20 ms of the database's CPU and 19 MiB of its memory.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ephitup_store::{DbSettings, connect_app, repo};
use ephitup_testkit::TestDb;

/// `(connection id, method)` of every RPC request the server has logged.
fn requests(log: &str) -> Vec<(String, String)> {
    let field = |line: &str, name: &str| {
        let start = line.find(name)? + name.len();
        let rest = line[start..].trim_start_matches('"');
        Some(rest.split(['"', ' ']).next()?.to_string())
    };
    log.lines()
        .filter(|l| l.contains("Process RPC request"))
        .filter_map(|l| Some((field(l, "ws.id=")?, field(l, "rpc.method=")?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_through_the_pool_never_sign_in_again() {
    let db = TestDb::start_migrated_logging_rpc();
    let settings = DbSettings { pool_size: 2, ..DbSettings::from_pairs(&db.env()).unwrap() };
    let pool = connect_app(&settings).await.unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let pool = pool.clone();
        tasks.spawn(async move { repo::users::get(&pool, "user:nobody").await.is_err() });
    }
    while let Some(missing) = tasks.join_next().await {
        assert!(missing.unwrap(), "no such user");
    }

    // Every query is in the log (it is written as the server goes): then count per connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    let per_connection = loop {
        let mut per: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (conn, method) in requests(&db.log()) {
            *per.entry(conn).or_default().entry(method).or_default() += 1;
        }
        per.retain(|_, methods| methods.contains_key("query"));
        if per.values().map(|m| m["query"]).sum::<usize>() >= 40 {
            break per;
        }
        assert!(Instant::now() < deadline, "the server did not log the queries: {per:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The pool's two connections, and the migration runner's.
    assert!(per_connection.len() <= 3, "{per_connection:?}");
    for (conn, methods) in &per_connection {
        assert_eq!(methods.get("signin"), Some(&1), "connection {conn} signed in more than once: {methods:?}");
    }
}
