//! `ephitup-api migrate` against a real SurrealDB server: from empty, twice, two runners at
//! once, a tampered file, a failing file, and data surviving a server restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;
use std::process::{Command, Output};

mod support;

use ephitup_store::migrate;
use ephitup_testkit::TestDb;

fn migrate_cmd(db: &TestDb, dir: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ephitup-api"));
    cmd.arg("migrate").envs(db.env()).env_remove("MIGRATIONS_DIR");
    if let Some(dir) = dir {
        cmd.arg("--dir").arg(dir);
    }
    cmd
}

fn run(mut cmd: Command) -> (Option<i32>, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("run ephitup-api migrate");
    (status.code(), format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr)))
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let conn = support::connect(db).await;
    let rows: Option<i64> =
        conn.query(format!("RETURN count(SELECT * FROM {table})")).await.expect("query").take(0).expect("take");
    rows.unwrap_or(0)
}

/// The repository's migrations copied into a directory a test may change.
fn copy_of_migrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for m in migrate::embedded().expect("embedded") {
        std::fs::write(dir.path().join(&m.name), &m.sql).expect("copy");
    }
    dir
}

#[tokio::test]
async fn migrate_from_empty_applies_every_file_and_seeds_defaults() {
    let db = TestDb::start();
    let (code, out) = run(migrate_cmd(&db, None));
    assert_eq!(code, Some(0), "{out}");
    let files = migrate::embedded().expect("embedded").len() as i64;
    assert_eq!(count(&db, "_migration").await, files);
    assert_eq!(count(&db, "episode_profile").await, 3);
    assert_eq!(count(&db, "speaker_profile").await, 3);

    // The schema is enforced: an invalid email is refused, a duplicate one too.
    let conn = support::connect(&db).await;
    let bad = conn.query("CREATE user SET email = 'nope', password_hash = 'x'").await.expect("send").check();
    assert!(bad.is_err(), "a SCHEMAFULL user must have a valid email");
    conn.query("CREATE user SET email = 'a@example.com', password_hash = 'x'")
        .await
        .expect("send")
        .check()
        .expect("first user");
    let dup = conn.query("CREATE user SET email = 'a@example.com', password_hash = 'y'").await.expect("send").check();
    assert!(dup.is_err(), "emails are unique");
}

#[tokio::test]
async fn migrate_twice_is_a_no_op() {
    let db = TestDb::start();
    assert_eq!(run(migrate_cmd(&db, None)).0, Some(0));
    let conn = support::connect(&db).await;
    let before: Vec<surrealdb::types::Value> =
        conn.query("SELECT version, applied_at FROM _migration ORDER BY version").await.expect("q").take(0).expect("t");
    let (code, out) = run(migrate_cmd(&db, None));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 applied now"), "{out}");
    let after: Vec<surrealdb::types::Value> =
        conn.query("SELECT version, applied_at FROM _migration ORDER BY version").await.expect("q").take(0).expect("t");
    assert_eq!(before, after);
    assert_eq!(count(&db, "speaker_profile").await, 3, "seeds are not duplicated");
}

#[tokio::test]
async fn two_runners_at_once_apply_each_file_once() {
    let db = TestDb::start();
    let files = migrate::embedded().expect("embedded").len();
    let a = migrate_cmd(&db, None)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("a");
    let b = migrate_cmd(&db, None)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("b");
    let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    let text = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let applied_lines = [text(&a), text(&b)]
        .iter()
        .map(|t| t.lines().filter(|l| l.contains(" applied ") && l.contains(" in ")).count())
        .sum::<usize>();
    assert_eq!(applied_lines, files, "each file applied exactly once\n{}\n{}", text(&a), text(&b));
    assert_eq!(count(&db, "_migration").await, files as i64);
    assert_eq!(count(&db, "speaker_profile").await, 3);
}

#[tokio::test]
async fn a_file_changed_after_it_was_applied_is_refused_by_name() {
    let db = TestDb::start();
    let dir = copy_of_migrations();
    assert_eq!(run(migrate_cmd(&db, Some(dir.path()))).0, Some(0));
    let first = dir.path().join("0001_schema.surql");
    let mut text = std::fs::read_to_string(&first).expect("read");
    text.push_str("\nDEFINE TABLE sneaky SCHEMAFULL;\n");
    std::fs::write(&first, text).expect("tamper");
    let (code, out) = run(migrate_cmd(&db, Some(dir.path())));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("0001_schema.surql was changed after it was applied"), "{out}");
}

#[tokio::test]
async fn a_failing_statement_is_reported_with_its_file_and_nothing_of_it_stays() {
    let db = TestDb::start();
    let dir = copy_of_migrations();
    std::fs::write(
        dir.path().join("0900_bad.surql"),
        "DEFINE TABLE gadget SCHEMAFULL;\nDEFINE FIELD size ON gadget TYPE int;\nCREATE gadget:one SET size = 'large';\n",
    )
    .expect("write");
    let (code, out) = run(migrate_cmd(&db, Some(dir.path())));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("0900_bad.surql failed at statement 3: `CREATE gadget:one SET size = 'large'`"), "{out}");
    // The earlier files were applied; the failing one left nothing behind.
    assert_eq!(count(&db, "_migration").await, migrate::embedded().expect("embedded").len() as i64);
    let conn = support::connect(&db).await;
    let info: surrealdb::types::Value = conn.query("INFO FOR DB").await.expect("q").take(0).expect("t");
    assert!(!format!("{info:?}").contains("gadget"), "the failed file's table was rolled back: {info:?}");

    std::fs::write(
        dir.path().join("0900_bad.surql"),
        "DEFINE TABLE gadget SCHEMAFULL;\nDEFINE FIELDS size ON gadget;\n",
    )
    .expect("write");
    let (code, out) = run(migrate_cmd(&db, Some(dir.path())));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("0900_bad.surql: does not parse"), "{out}");
    assert!(out.contains("--> [2:"), "the parse error points at line 2: {out}");
}

#[tokio::test]
async fn data_survives_a_server_stop_and_start() {
    let db = TestDb::start();
    assert_eq!(run(migrate_cmd(&db, None)).0, Some(0));
    {
        let conn = support::connect(&db).await;
        conn.query("CREATE user:keep SET email = 'keep@example.com', password_hash = 'x'")
            .await
            .expect("send")
            .check()
            .expect("created");
    }
    let dir = db.stop();
    let db = TestDb::start_in(dir);
    assert_eq!(count(&db, "user").await, 1);
    let (code, out) = run(migrate_cmd(&db, None));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 applied now"), "{out}");
}

/// Migration 0007 moves a source's full text into a record of its own: a source written under
/// 0006 keeps its text (read back as before), the source row no longer holds it, its length is
/// kept on it, and deleting the source deletes the text.
#[tokio::test]
async fn a_sources_text_moves_to_its_own_record() {
    let db = TestDb::start();
    let before = copy_of_migrations();
    std::fs::remove_file(before.path().join("0007_source_text.surql")).expect("0007 is a file");
    let (code, out) = run(migrate_cmd(&db, Some(before.path())));
    assert_eq!(code, Some(0), "{out}");
    let conn = support::connect(&db).await;
    conn.query(
        "CREATE user:u SET email = 'u@example.com', password_hash = 'x';
         CREATE source:s SET title = 'Book', full_text = 'Call me Ishmaël.', owner = user:u, asset = {};
         CREATE source:t SET title = 'No text yet', owner = user:u, asset = {};",
    )
    .await
    .expect("send")
    .check()
    .expect("rows of 0006");

    let (code, out) = run(migrate_cmd(&db, None));
    assert_eq!(code, Some(0), "{out}");
    let mut answer = conn
        .query(
            "SELECT VALUE content FROM source_text:s;
             SELECT VALUE text_chars FROM source:s;
             SELECT VALUE full_text FROM source:s;
             RETURN count(SELECT * FROM source_text);",
        )
        .await
        .expect("send");
    let content: Vec<String> = answer.take(0).expect("content");
    let chars: Vec<i64> = answer.take(1).expect("text_chars");
    let inline: Vec<Option<String>> = answer.take(2).expect("full_text");
    let texts: Option<i64> = answer.take(3).expect("count");
    assert_eq!(content, ["Call me Ishmaël."]);
    assert_eq!(chars, ["Call me Ishmaël.".chars().count() as i64]);
    assert_eq!(inline, [None]);
    assert_eq!(texts, Some(1), "a source without text gets no text record");

    conn.query("DELETE source:s").await.expect("send").check().expect("delete");
    assert_eq!(count(&db, "source_text").await, 0);
}

/// Migration 0008 keeps a session's message count on it: sessions written under 0007 get
/// theirs counted once, and a message added after it counts.
#[tokio::test]
async fn a_sessions_messages_are_counted_once_and_then_kept() {
    let db = TestDb::start();
    let before = copy_of_migrations();
    std::fs::remove_file(before.path().join("0008_chat_turn.surql")).expect("0008 is a file");
    let (code, out) = run(migrate_cmd(&db, Some(before.path())));
    assert_eq!(code, Some(0), "{out}");
    let conn = support::connect(&db).await;
    conn.query(
        "CREATE user:u SET email = 'u@example.com', password_hash = 'x';
         CREATE notebook:n SET name = 'N', description = '', owner = user:u;
         CREATE chat_session:busy SET title = 'Busy', notebook = notebook:n, owner = user:u;
         CREATE chat_session:idle SET title = 'Idle', notebook = notebook:n, owner = user:u;
         FOR $i IN 0..3 { CREATE chat_message SET session = chat_session:busy, type = 'human', content = 'hi', owner = user:u; };",
    )
    .await
    .expect("send")
    .check()
    .expect("rows of 0007");

    let (code, out) = run(migrate_cmd(&db, None));
    assert_eq!(code, Some(0), "{out}");
    let counts = || async {
        let counts: Vec<i64> = conn
            .query("SELECT VALUE message_count FROM [chat_session:busy, chat_session:idle]")
            .await
            .expect("send")
            .take(0)
            .expect("counts");
        counts
    };
    assert_eq!(counts().await, [3, 0]);
    ephitup_store::repo::chat::add_message(&conn, "user:u", "chat_session:idle", "human", "hello", &[])
        .await
        .expect("add a message");
    assert_eq!(counts().await, [3, 1]);
}
