#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Chunks against a real server. Vector search: the owner condition is applied inside the
//! HNSW search, not to its top `k` afterwards. A user with one chunk finds it even when
//! another user's hundreds of chunks are all nearer to the query; filtered afterwards, the
//! other user's chunks would fill every one of the `k` places and the owner would find
//! nothing. And the writes of a rebuild's group report what they wrote (a value built up in a
//! `FOR` loop once came back empty: `LET` in a loop's body does not change the variable
//! outside it).

use ephitup_store::repo::chunks::{self, Embed, ItemType, Scope};
use ephitup_store::repo::notes::{self, NewNote};
use ephitup_store::{Db, DbSettings, connect_app, repo};
use ephitup_testkit::TestDb;

const DIM: usize = 8;
const MODEL: &str = "test/embed";

fn note(content: &str) -> NewNote {
    NewNote { title: None, content: content.into(), note_type: "human".into(), notebook_id: None }
}

/// A unit vector at `angle` (radians) from the first axis, in the plane of the first two.
fn at(angle: f32) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[0] = angle.cos();
    v[1] = angle.sin();
    v
}

/// A migrated server (kept running while its handle lives), the pool and two users' ids.
async fn two_users() -> (TestDb, Db, String, String) {
    let server = TestDb::start_migrated();
    let db = connect_app(&DbSettings::from_pairs(&server.env()).unwrap()).await.unwrap();
    let a = repo::users::create(&db, "a@example.com", "x", None).await.unwrap().id;
    let b = repo::users::create(&db, "b@example.com", "x", None).await.unwrap().id;
    (server, db, a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_finds_their_chunk_behind_another_users_nearer_ones() {
    let (_server, db, a, b) = two_users().await;

    // a: one note of one chunk, 45° from the query. b: one note of 300 chunks, all within 6°.
    let mine = notes::create(&db, &a, note("mine")).await.unwrap().id;
    let theirs = notes::create(&db, &b, note("theirs")).await.unwrap().id;
    let texts: Vec<String> = (0..300).map(|i| format!("theirs {i}")).collect();
    chunks::replace(&db, &b, ItemType::Note, &theirs, &texts, Embed::No).await.unwrap();
    chunks::ensure_vector_index(&db, DIM).await.unwrap();
    let with = |pieces: Vec<chunks::ChunkText>, angle: &dyn Fn(usize) -> f32| {
        pieces.into_iter().enumerate().map(|(i, c)| (c.id, at(angle(i)))).collect::<Vec<_>>()
    };
    let a_chunks = chunks::of_item(&db, &a, ItemType::Note, &mine).await.unwrap();
    assert_eq!(a_chunks.len(), 1);
    let stored = chunks::set_vectors(&db, &a, MODEL, DIM, with(a_chunks, &|_| std::f32::consts::FRAC_PI_4)).await;
    assert_eq!(stored.unwrap(), 1);
    let b_chunks = chunks::of_item(&db, &b, ItemType::Note, &theirs).await.unwrap();
    assert_eq!(b_chunks.len(), 300);
    let stored = chunks::set_vectors(&db, &b, MODEL, DIM, with(b_chunks, &|i| i as f32 * 0.0003)).await;
    assert_eq!(stored.unwrap(), 300);

    let scope = Scope { sources: false, notes: true, notebook_id: None };
    let found = chunks::search_vector(&db, &a, MODEL, &at(0.0), &scope, 5, 0.2).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, [mine.as_str()], "a's own chunk, and nothing of b's: {found:?}");
    assert!((found[0].score - std::f64::consts::FRAC_1_SQRT_2).abs() < 0.01, "{found:?}");

    // And b, whose chunks are nearest, finds only their own note.
    let found = chunks::search_vector(&db, &b, MODEL, &at(0.0), &scope, 5, 0.2).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, [theirs.as_str()], "{found:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_of_items_gets_its_chunks_and_vectors_and_says_which() {
    let (_server, db, a, b) = two_users().await;
    let one = notes::create(&db, &a, note("one")).await.unwrap().id;
    let two = notes::create(&db, &a, note("two")).await.unwrap().id;
    let theirs = notes::create(&db, &b, note("theirs")).await.unwrap().id;

    let items = vec![
        (one.clone(), vec!["one a".to_string(), "one b".to_string()]),
        (theirs.clone(), vec!["not a's".to_string()]),
        (two.clone(), vec!["two a".to_string(), "two b".to_string(), "two c".to_string()]),
    ];
    let made = chunks::replace_many(&db, &a, ItemType::Note, &items).await.unwrap();
    let sizes: Vec<usize> = made.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 0, 3], "per item, in order; nothing for b's note");
    let stored_one = chunks::of_item(&db, &a, ItemType::Note, &one).await.unwrap();
    assert_eq!(
        stored_one.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        made[0].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(chunks::of_item(&db, &b, ItemType::Note, &theirs).await.unwrap().len(), 1, "b's own chunk untouched");

    chunks::ensure_vector_index(&db, DIM).await.unwrap();
    let mut vectors: Vec<(String, Vec<f32>)> = made.iter().flatten().map(|id| (id.clone(), at(0.1))).collect();
    let b_chunk = chunks::of_item(&db, &b, ItemType::Note, &theirs).await.unwrap().remove(0).id;
    vectors.push((b_chunk, at(0.1)));
    let stored = chunks::set_vectors(&db, &a, MODEL, DIM, vectors).await.unwrap();
    assert_eq!(stored, 5, "a's five chunks, not b's");
}
