#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A chat session's history against a real server: a turn reads the newest messages that fit
//! its room, a page at a time (the first page given, older pages only while there is room),
//! each counted as the prompt holds it; the session keeps its message count; and another
//! user's session gives nothing.

use ephitup_store::chunks::tokens;
use ephitup_store::repo::chat::{self, HISTORY_PAGE, MESSAGE_OVERHEAD, Scope};
use ephitup_store::{DbSettings, connect_app, repo};
use ephitup_testkit::TestDb;

/// More than three pages (16, 32, 64 …): the walk crosses page ends.
const MESSAGES: usize = 70;

fn content(i: usize) -> String {
    format!("message {i:03} ").repeat(1 + i % 5)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_turn_reads_the_newest_messages_that_fit() {
    let server = TestDb::start_migrated();
    let db = connect_app(&DbSettings::from_pairs(&server.env()).unwrap()).await.unwrap();
    let a = repo::users::create(&db, "a@example.com", "x", None).await.unwrap().id;
    let b = repo::users::create(&db, "b@example.com", "x", None).await.unwrap().id;
    let nb = repo::notebooks::create(&db, &a, "Talk", "").await.unwrap().id;
    let scope = Scope::Notebook(nb.clone());
    let sid = chat::create(&db, &a, &scope, Some("Long"), None).await.unwrap().id;
    for i in 0..MESSAGES {
        let kind = if i % 2 == 0 { "human" } else { "ai" };
        chat::add_message(&db, &a, &sid, kind, &content(i), &[]).await.unwrap();
    }
    let session = chat::get(&db, &a, &sid, None).await.unwrap();
    assert_eq!(session.message_count, MESSAGES as i64);
    let listed = chat::list(&db, &a, &scope).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.message_count).collect::<Vec<_>>(), [MESSAGES as i64]);

    let first = chat::newest(&db, &a, &sid, 0, HISTORY_PAGE).await.unwrap();
    let newest_first: Vec<String> = (0..MESSAGES).rev().map(content).collect();
    assert_eq!(
        first.iter().map(|m| &m.message.content).collect::<Vec<_>>(),
        newest_first[..HISTORY_PAGE].iter().collect::<Vec<_>>()
    );
    let cost = |i: usize| tokens(&content(i)) + MESSAGE_OVERHEAD;
    // Each message keeps its tokens from when it was added.
    assert!(first.iter().zip((0..MESSAGES).rev()).all(|(m, i)| m.tokens == Some(tokens(&content(i)))));

    // Room for everything: every page is read, oldest included, nothing left out.
    let all = chat::history(&db, &a, &session, first.clone(), usize::MAX).await.unwrap();
    let contents = |h: &chat::History| h.kept.iter().map(|(m, _)| m.content.clone()).collect::<Vec<_>>();
    assert_eq!(contents(&all), newest_first);
    assert_eq!(all.left_out, 0);
    assert_eq!(all.tokens, (0..MESSAGES).map(cost).sum::<usize>());
    assert!(all.kept.iter().zip((0..MESSAGES).rev()).all(|((_, c), i)| *c == cost(i)));

    // Room for the newest 40 and a few tokens: the 41st does not fit and ends the walk (in the
    // second page, read for it).
    let room = (MESSAGES - 40..MESSAGES).map(cost).sum::<usize>() + cost(MESSAGES - 41) - 1;
    let some = chat::history(&db, &a, &session, first.clone(), room).await.unwrap();
    assert_eq!(contents(&some), newest_first[..40]);
    assert_eq!((some.left_out, some.tokens), (MESSAGES - 40, room + 1 - cost(MESSAGES - 41)));

    // Messages added before their tokens were kept (migration 0008) are counted as read.
    db.query(format!("UPDATE chat_message SET tokens = NONE WHERE session = {sid}")).await.unwrap().check().unwrap();
    let uncounted = chat::newest(&db, &a, &sid, 0, HISTORY_PAGE).await.unwrap();
    assert!(uncounted.iter().all(|m| m.tokens.is_none()));
    let again = chat::history(&db, &a, &session, uncounted, room).await.unwrap();
    assert_eq!((contents(&again), again.left_out, again.tokens), (contents(&some), some.left_out, some.tokens));

    // No room: nothing kept, all left out.
    let none = chat::history(&db, &a, &session, first, 0).await.unwrap();
    assert_eq!((none.kept.len(), none.left_out, none.tokens), (0, MESSAGES, 0));

    // A short session is read in its first page.
    let short = chat::create(&db, &a, &scope, None, None).await.unwrap().id;
    chat::add_message(&db, &a, &short, "human", "only one", &[]).await.unwrap();
    let short = chat::get(&db, &a, &short, None).await.unwrap();
    let page: Vec<chat::Stored> = chat::newest(&db, &a, &short.id, 0, HISTORY_PAGE).await.unwrap();
    let h = chat::history(&db, &a, &short, page, usize::MAX).await.unwrap();
    assert_eq!((contents(&h), h.left_out), (vec!["only one".to_string()], 0));

    // Another user's session: missing, and its messages are not read for them.
    assert!(chat::get(&db, &b, &sid, None).await.is_err());
    assert!(chat::newest(&db, &b, &sid, 0, HISTORY_PAGE).await.unwrap().is_empty());
    assert!(chat::add_message(&db, &b, &sid, "human", "mine now", &[]).await.is_err());
    assert_eq!(chat::get(&db, &a, &sid, None).await.unwrap().message_count, MESSAGES as i64);
}
