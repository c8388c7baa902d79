#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A notebook's context against a real server, read for a model's window: what fits a budget
//! of characters is read (the notebook's newest first, the crossing item cut at the budget),
//! the rest only counted, and every chosen id is still checked against its owner. Read whole,
//! it is everything, in the same order.

use ephitup_store::records::Asset;
use ephitup_store::repo::context::{self, Selection, SourceDepth};
use ephitup_store::repo::notes::{self, NewNote};
use ephitup_store::repo::sources::{self, NewSource};
use ephitup_store::{DbSettings, StoreError, connect_app, repo};
use ephitup_testkit::TestDb;

const NOTES: usize = 300;
/// Each note's title and content: "Note 007" and 992 characters.
const NOTE_CHARS: usize = 1_000;

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_reads_what_fits_and_counts_the_rest() {
    let server = TestDb::start_migrated();
    let db = connect_app(&DbSettings::from_pairs(&server.env()).unwrap()).await.unwrap();
    let a = repo::users::create(&db, "a@example.com", "x", None).await.unwrap().id;
    let b = repo::users::create(&db, "b@example.com", "x", None).await.unwrap().id;
    let nb = repo::notebooks::create(&db, &a, "Big", "").await.unwrap().id;
    let mut ids = Vec::new();
    for i in 0..NOTES {
        let content = format!("{i:03} ").repeat(248);
        let new = NewNote {
            title: Some(format!("Note {i:03}")),
            content,
            note_type: "human".into(),
            notebook_id: Some(nb.clone()),
        };
        ids.push(notes::create(&db, &a, new).await.unwrap().id);
    }
    let text = "x".repeat(5_000);
    let new = NewSource {
        kind: "text".into(),
        title: Some("Long".into()),
        content: Some(text.clone()),
        asset: Asset { url: None, file_path: None },
        notebooks: vec![nb.clone()],
        embed: false,
        delete_source: false,
        transformations: Vec::new(),
    };
    let source = sources::create(&db, &a, new).await.unwrap().id;

    // Whole: every note, newest first, nothing cut or counted.
    let whole = context::build(&db, &a, &nb, Selection::default()).await.unwrap();
    assert_eq!(whole.notes.len(), NOTES);
    let newest_first: Vec<&String> = ids.iter().rev().collect();
    assert_eq!(whole.notes.iter().map(|n| &n.id).collect::<Vec<_>>(), newest_first);
    assert_eq!(whole.notes[0].content.len() + "Note 299".len(), NOTE_CHARS);
    assert_eq!((whole.unread, whole.sliced.as_deref()), (0, None));
    assert_eq!(whole.sources.len(), 1);
    assert_eq!(whole.sources[0].full_text, None, "the default takes a source's insights only");

    // 20,500 characters: the source's title, then 20 notes whole and the 21st cut.
    let fitted = context::fit(&db, &a, &nb, Selection::default(), 20_500).await.unwrap();
    assert_eq!(fitted.notes.len(), 21);
    assert_eq!(fitted.notes[..20], whole.notes[..20]);
    let last = &fitted.notes[20];
    assert_eq!(fitted.sliced.as_deref(), Some(last.id.as_str()));
    // 20,500 less 4 for the source's title and 20 × 1,000, less the last one's title.
    assert_eq!(last.content, whole.notes[20].content[..20_500 - 4 - 20 * NOTE_CHARS - "Note 279".len()]);
    assert_eq!(fitted.unread, NOTES - 21);

    // A chosen source in full is cut at the budget; the notes after it are counted only.
    let chosen = Selection { sources: Some(vec![(source.clone(), SourceDepth::Full)]), notes: Some(ids.clone()) };
    let fitted = context::fit(&db, &a, &nb, chosen, 1_000).await.unwrap();
    assert_eq!(fitted.sources[0].full_text.as_deref(), Some(&text[..1_000 - "Long".len()]));
    assert_eq!(fitted.sliced.as_deref(), Some(source.as_str()));
    assert_eq!((fitted.notes.len(), fitted.unread), (0, NOTES));

    // An id of another user's note is refused though it lies far past the budget.
    let theirs = notes::create(
        &db,
        &b,
        NewNote { title: None, content: "theirs".into(), note_type: "human".into(), notebook_id: None },
    )
    .await
    .unwrap()
    .id;
    let mut chosen: Vec<String> = ids.clone();
    chosen.push(theirs);
    let selection = Selection { sources: Some(Vec::new()), notes: Some(chosen) };
    let refused = context::fit(&db, &a, &nb, selection, 1_000).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    // A chat with one source reads its text up to the budget too.
    let one = context::of_source(&db, &a, &source, 104).await.unwrap();
    assert_eq!(one.sources[0].full_text.as_deref().map(str::len), Some(100));
    assert_eq!(one.sliced.as_deref(), Some(source.as_str()));
    assert!(matches!(context::of_source(&db, &b, &source, 104).await, Err(StoreError::NotFound)));
}
