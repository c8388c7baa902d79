#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ephitup_store::email` against the real database's `string::is_email` (the user table's
//! ASSERT): every address it accepts the database accepts, and the ones the database refuses
//! it refuses too (it is stricter only about control characters).

use ephitup_testkit::TestDb;

#[tokio::test]
async fn the_email_check_is_the_databases() {
    let db = TestDb::start_migrated();
    let settings = ephitup_store::DbSettings::from_pairs(&db.env()).unwrap();
    let conn = ephitup_store::connect_app(&settings).await.unwrap();
    let candidates = [
        "ada@example.com",
        "first.last+tag@sub.example.co.uk",
        "a@b",
        "a@localhost",
        "user@xn--85x722f.xn--55qx5d.cn",
        "üser@exämple.com",
        "a@@b.com",
        "a@b..com",
        ".a@b.com",
        "a.@b.com",
        "a@-b.com",
        "a@b-.com",
        "a@b.c@d.com",
        "a@127.0.0.1",
        "a@[127.0.0.1]",
        "<script>@example.com",
        "a\u{0}@example.com",
        "a b@example.com",
        "\"a b\"@example.com",
        "a@example.com.",
        "a@example..com",
        "@example.com",
        "a@",
        "plain",
    ];
    for email in candidates {
        let mut answer = conn.query("RETURN string::is_email($e)").bind(("e", email.to_string())).await.unwrap();
        let database: Option<bool> = answer.take(0).unwrap();
        let ours = ephitup_store::email::normalize(email).is_some();
        if ours {
            assert_eq!(database, Some(true), "{email:?}: we accept what the database refuses");
        } else if !email.chars().any(char::is_control) {
            assert_eq!(database, Some(false), "{email:?}: we refuse what the database accepts");
        }
    }
}
