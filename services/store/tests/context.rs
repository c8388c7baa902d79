#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A notebook's context against a real server, read for a model's window: what fits a budget
//! of tokens is read (the notebook's newest first, each item counted as its prompt holds it;
//! the crossing item taken, a few after it to be named), the rest only counted, and every
//! chosen id is still checked against its owner. A text is read up to `CHARS_PER_TOKEN`
//! characters a token of what is left. Read whole, it is everything, in the same order.

use ephitup_store::chunks::tokens;
use ephitup_store::records::Asset;
use ephitup_store::repo::context::{self, CHARS_PER_TOKEN, NAMED_PAST_BUDGET, PromptItem, Selection, SourceDepth};
use ephitup_store::repo::notes::{self, NewNote};
use ephitup_store::repo::sources::{self, NewSource};
use ephitup_store::{DbSettings, StoreError, ai, connect_app, repo};
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

    // A budget of the source and 20 notes, and a few tokens more: the 21st crosses it (the
    // prompt cuts it), ten more are read to be named, the rest only counted.
    let source_tokens = whole.sources[0].count();
    let tokens_of = |n: usize| -> usize { whole.notes[..n].iter().map(PromptItem::count).sum() };
    let fitted = context::fit(&db, &a, &nb, Selection::default(), source_tokens + tokens_of(20) + 5).await.unwrap();
    assert_eq!(fitted.notes.len(), 21 + NAMED_PAST_BUDGET);
    let ids_of = |notes: &[context::NoteContext]| notes.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids_of(&fitted.notes), ids_of(&whole.notes[..21 + NAMED_PAST_BUDGET]));
    assert_eq!(fitted.notes[20].content, whole.notes[20].content, "the text is read whole: the prompt cuts it");
    assert_eq!(fitted.notes[0].tokens, Some(whole.notes[0].count()), "counted as it was read");
    assert_eq!((fitted.sliced.as_deref(), fitted.unread), (None, NOTES - 21 - NAMED_PAST_BUDGET));

    // More than the first page of links holds: the next page is sized for what is left.
    let fitted = context::fit(&db, &a, &nb, Selection::default(), source_tokens + tokens_of(200) + 1).await.unwrap();
    assert_eq!(ids_of(&fitted.notes), ids_of(&whole.notes[..201 + NAMED_PAST_BUDGET]));
    assert_eq!(fitted.unread, NOTES - 201 - NAMED_PAST_BUDGET);

    // Read for a model's prompt, the store and the prompt agree: what the store took fills the
    // prompt's room, the crossing note is the one the prompt cuts, the ten after it are the
    // ones it names, and every other note is counted as left out.
    let room = ai::chat::context_room(ai::chat::budget("qwen-7b", "Q"), &repo::chat::History::default());
    let fitted = context::fit(&db, &a, &nb, Selection::default(), room).await.unwrap();
    let p = ai::chat::prompt("qwen-7b", &fitted, &repo::chat::History::default(), "Q");
    let kept = p.report.notes.len();
    assert!(kept > 20 && kept + NAMED_PAST_BUDGET < NOTES, "{kept} notes in");
    assert_eq!(fitted.notes.len(), kept + NAMED_PAST_BUDGET);
    let truncated: Vec<&str> = p.report.cut.iter().filter(|c| c.how == "truncated").map(|c| c.id.as_str()).collect();
    assert_eq!(truncated, [fitted.notes[kept - 1].id.as_str()]);
    let named: Vec<&str> = p.report.cut.iter().filter(|c| c.how == "left out").map(|c| c.id.as_str()).collect();
    assert_eq!(named, ids_of(&fitted.notes[kept..]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(p.report.left_out, NOTES - kept);
    assert!(
        p.report.context_tokens <= room && p.report.context_tokens + 100 > room,
        "{} of {room}",
        p.report.context_tokens
    );

    // A chosen source in full is read up to the characters of the budget; the notes after it
    // are counted only.
    let chosen = Selection { sources: Some(vec![(source.clone(), SourceDepth::Full)]), notes: Some(ids.clone()) };
    let fitted = context::fit(&db, &a, &nb, chosen, 100).await.unwrap();
    assert_eq!(fitted.sources[0].full_text.as_deref(), Some(&text[..100 * CHARS_PER_TOKEN - "Long".len()]));
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
    let refused = context::fit(&db, &a, &nb, selection, 100).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    // A chat with one source reads its text up to the budget too.
    let one = context::of_source(&db, &a, &source, 13).await.unwrap();
    assert_eq!(one.sources[0].full_text.as_deref().map(str::len), Some(13 * CHARS_PER_TOKEN - "Long".len()));
    assert_eq!(one.sliced.as_deref(), Some(source.as_str()));
    assert!(matches!(context::of_source(&db, &b, &source, 13).await, Err(StoreError::NotFound)));

    // A note longer than a page reads with its size is read on its own: whole when it fits,
    // else up to the characters of the budget, and said to be cut.
    let nb = repo::notebooks::create(&db, &a, "Long note", "").await.unwrap().id;
    let content = "y".repeat(40_000);
    let new =
        NewNote { title: None, content: content.clone(), note_type: "human".into(), notebook_id: Some(nb.clone()) };
    let long = notes::create(&db, &a, new).await.unwrap().id;
    let fitted = context::fit(&db, &a, &nb, Selection::default(), 100_000).await.unwrap();
    assert_eq!((fitted.notes[0].content.len(), fitted.sliced.as_deref()), (content.len(), None));
    let fitted = context::fit(&db, &a, &nb, Selection::default(), 1_000).await.unwrap();
    assert_eq!(fitted.notes[0].content.len(), 1_000 * CHARS_PER_TOKEN);
    assert_eq!(fitted.sliced.as_deref(), Some(long.as_str()));
}

/// A note keeps its text's tokens, counted as it is split and written with every new text; a
/// chat's context takes a note in those (not tokenizing it again), and one written before them
/// is counted as read.
#[tokio::test(flavor = "multi_thread")]
async fn a_notes_tokens_are_kept_with_its_text_and_read_with_it() {
    let server = TestDb::start_migrated();
    let db = connect_app(&DbSettings::from_pairs(&server.env()).unwrap()).await.unwrap();
    let a = repo::users::create(&db, "a@example.com", "x", None).await.unwrap().id;
    let nb = repo::notebooks::create(&db, &a, "Counted", "").await.unwrap().id;
    let text = "  The quick brown fox jumps over the lazy dog.  ";
    let new = NewNote {
        title: Some("Fox".into()),
        content: text.into(),
        note_type: "human".into(),
        notebook_id: Some(nb.clone()),
    };
    let id = notes::create(&db, &a, new).await.unwrap().id;
    let stored = || async {
        let tokens: Vec<Option<usize>> =
            db.query(format!("SELECT VALUE content_tokens FROM {id}")).await.unwrap().take(0).unwrap();
        tokens[0]
    };
    assert_eq!(stored().await, Some(tokens(text.trim())));
    let edit = "A longer text now, with more words in it than the first one had.";
    let changes = notes::NoteChanges { content: Some(edit.into()), ..Default::default() };
    notes::update(&db, &a, &id, changes).await.unwrap();
    assert_eq!(stored().await, Some(tokens(edit)));
    let retitled = notes::NoteChanges { title: Some("Vixen".into()), ..Default::default() };
    notes::update(&db, &a, &id, retitled).await.unwrap();
    assert_eq!(stored().await, Some(tokens(edit)), "a new title keeps the text's count");

    // The context counts the note in its stored tokens: a count set aside shows through.
    let fitted = |db: ephitup_store::Db, nb: String, a: String| async move {
        let c = context::fit(&db, &a, &nb, Selection::default(), 100_000).await.unwrap();
        c.notes[0].tokens().unwrap()
    };
    let heading = tokens(&format!("\n## [{id}] Vixen\n"));
    assert_eq!(fitted(db.clone(), nb.clone(), a.clone()).await, heading + tokens(edit) + tokens("\n"));
    db.query(format!("UPDATE {id} SET content_tokens = 5000")).await.unwrap().check().unwrap();
    assert_eq!(fitted(db.clone(), nb.clone(), a.clone()).await, heading + 5000 + tokens("\n"));
    // Without one (a note written before migration 0008): counted as read.
    db.query(format!("UPDATE {id} UNSET content_tokens")).await.unwrap().check().unwrap();
    assert_eq!(fitted(db.clone(), nb.clone(), a.clone()).await, heading + tokens(&format!("{edit}\n")));
}
