//! `ephitup-api backup` and `restore` against real SurrealDB servers: backups are kept by
//! count, a backup killed mid-way (SIGKILL) leaves the earlier ones intact and is never
//! counted, and a restore into a fresh data directory gives back every row of every table;
//! a non-empty database is refused without `--force`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

use ephitup_store::backup::list;
use ephitup_testkit::TestDb;
use surrealdb::types::Value;

fn cmd(db: &TestDb, data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ephitup-api"));
    cmd.args(args)
        .envs(db.env())
        .env("DATA_PATH", data)
        .env("BACKUP_KEEP", "2")
        .env_remove("EPHITUP_BACKUP_TEST_PAUSE");
    cmd
}

fn run(mut cmd: Command) -> (bool, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("run ephitup-api");
    (status.success(), format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr)))
}

fn backups(data: &Path) -> Vec<PathBuf> {
    list(&data.join("backups")).unwrap()
}

/// Rows the migrations did not make, of a schemaless table, some with nested values.
async fn fill(db: &TestDb) {
    let conn = support::connect(db).await;
    conn.query(
        "FOR $i IN 1..=300 { CREATE probe SET n = $i, tags = ['a', 'b'], nested = { at: time::now(), half: $i / 2 } }",
    )
    .await
    .unwrap()
    .check()
    .unwrap();
}

/// Every table and every row of the test database, in a comparable form.
async fn everything(db: &TestDb) -> Vec<(String, Value)> {
    let conn = support::connect(db).await;
    let mut tables: Vec<String> =
        conn.query("RETURN object::keys((INFO FOR DB).tables)").await.unwrap().take(0).unwrap();
    tables.sort();
    let mut out = Vec::new();
    for t in tables {
        let rows: Value = conn
            .query("SELECT * FROM type::table($t) ORDER BY id")
            .bind(("t", t.clone()))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        out.push((t, rows));
    }
    out
}

#[tokio::test]
async fn backups_are_kept_by_count_and_a_restore_gives_back_every_row() {
    let db = TestDb::start_migrated();
    fill(&db).await;
    let data = tempfile::tempdir().unwrap();
    let mut made = Vec::new();
    for _ in 0..3 {
        let (ok, out) = run(cmd(&db, data.path(), &["backup"]));
        assert!(ok, "{out}");
        made.push(backups(data.path()).last().unwrap().clone());
    }
    assert_eq!(backups(data.path()), made[1..], "the newest two are kept");
    let original = everything(&db).await;
    assert!(original.iter().any(|(t, _)| t == "probe") && original.len() > 3, "{original:?}");

    // A fresh data directory: an empty server.
    let fresh = TestDb::start();
    let newest = made[2].to_str().unwrap();
    let (ok, out) = run(cmd(&fresh, data.path(), &["restore", newest]));
    assert!(ok, "{out}");
    assert_eq!(everything(&fresh).await, original);

    // Now it is not empty: refused, unless --force.
    let (ok, out) = run(cmd(&fresh, data.path(), &["restore", newest]));
    assert!(!ok && out.contains("is not empty") && out.contains("--force"), "{out}");
    let (ok, out) = run(cmd(&fresh, data.path(), &["restore", "--force", newest]));
    assert!(ok, "{out}");
    assert_eq!(everything(&fresh).await, original);
    // The password reaches ephitup-db by environment; nothing prints it.
    assert!(!out.contains(TestDb::PASSWORD), "{out}");
}

#[tokio::test]
async fn a_backup_killed_midway_leaves_the_earlier_ones_intact() {
    let db = TestDb::start_migrated();
    fill(&db).await;
    let data = tempfile::tempdir().unwrap();
    let (ok, out) = run(cmd(&db, data.path(), &["backup"]));
    assert!(ok, "{out}");
    let earlier = backups(data.path());
    assert_eq!(earlier.len(), 1);
    let earlier_bytes = std::fs::read(&earlier[0]).unwrap();

    // The second backup holds once its export is written, before it becomes a backup.
    let marker = data.path().join("paused");
    let mut second = cmd(&db, data.path(), &["backup"]).env("EPHITUP_BACKUP_TEST_PAUSE", &marker).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(second.try_wait().unwrap().is_none(), "the backup ended before its pause");
        assert!(Instant::now() < deadline, "the backup never reached its pause");
        std::thread::sleep(Duration::from_millis(20));
    }
    second.kill().unwrap(); // SIGKILL
    second.wait().unwrap();
    let partials: Vec<_> = std::fs::read_dir(data.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".partial-"))
        .collect();
    assert_eq!(partials.len(), 1, "the killed backup's export is there, aside");
    assert_eq!(backups(data.path()), earlier, "not counted as a backup");
    assert_eq!(std::fs::read(&earlier[0]).unwrap(), earlier_bytes, "the earlier backup is intact");

    // The next backup removes the partial file and counts right.
    let (ok, out) = run(cmd(&db, data.path(), &["backup"]));
    assert!(ok, "{out}");
    assert_eq!(backups(data.path()).len(), 2);
    assert!(!data.path().join("backups").join(&partials[0]).exists());
    // The earlier backup restores.
    let fresh = TestDb::start();
    let (ok, out) = run(cmd(&fresh, data.path(), &["restore", earlier[0].to_str().unwrap()]));
    assert!(ok, "{out}");
    assert_eq!(everything(&fresh).await, everything(&db).await);
}
