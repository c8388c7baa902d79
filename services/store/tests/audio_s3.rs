#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `AudioStore` on S3, against a local S3-compatible server (moto): what the worker puts is an
//! object in the bucket (not a file), read back whole and in ranges, and deleted.

use bytes::Bytes;
use ephitup_store::AudioStore;
use ephitup_store::audio::{AudioError, S3Settings};
use ephitup_testkit::TestS3;
use futures_util::TryStreamExt;

fn store(s3: &TestS3, data: &std::path::Path) -> AudioStore {
    AudioStore::new(data, Some(S3Settings::from_pairs(&s3.env()).expect("S3 on"))).expect("store")
}

async fn read(store: &AudioStore, reference: &str, range: std::ops::Range<u64>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store.read(reference, range).await.expect("read").try_collect().await.expect("bytes");
    chunks.concat()
}

#[tokio::test]
async fn audio_goes_to_the_bucket_and_comes_back_in_ranges() {
    let s3 = TestS3::start("podcasts-audio");
    let data = tempfile::tempdir().unwrap();
    let store = store(&s3, data.path());
    let audio: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();

    let reference = store.put("user1", Bytes::from(audio.clone())).await.expect("put");
    let key = reference.strip_prefix("s3://podcasts-audio/").expect("an s3 reference to the bucket");
    assert!(key.starts_with("podcasts/user1/") && key.ends_with(".mp3"), "{reference}");
    assert!(s3.object(key).is_some_and(|o| o == audio), "the object holds the audio");
    assert!(!data.path().join("podcasts").exists(), "nothing written under DATA_PATH");

    let meta = store.meta(&reference).await.expect("meta");
    assert_eq!(meta.size, audio.len() as u64);
    assert!(meta.etag.as_deref().is_some_and(|e| e.starts_with('"') && e.ends_with('"')), "{meta:?}");
    assert!(read(&store, &reference, 0..audio.len() as u64).await == audio, "read whole");
    assert!(read(&store, &reference, 1000..71_000).await == audio[1000..71_000], "read a range");

    // Another bucket's reference is named as such, not served from this one.
    let elsewhere = reference.replace("podcasts-audio", "other-bucket");
    assert!(matches!(store.meta(&elsewhere).await, Err(AudioError::Unreachable { .. })));

    store.delete(&reference).await.expect("delete");
    assert_eq!(s3.keys(), Vec::<String>::new(), "the object is gone");
    assert!(matches!(store.meta(&reference).await, Err(AudioError::NotFound)));
    store.delete(&reference).await.expect("deleting what is gone is fine");
}

#[tokio::test]
async fn audio_put_before_s3_was_turned_on_is_still_read_from_the_data_path() {
    let data = tempfile::tempdir().unwrap();
    let local = AudioStore::new(data.path(), None).unwrap();
    let old = local.put("user1", Bytes::from_static(b"ID3 old episode")).await.unwrap();
    let s3 = TestS3::start("media");
    let store = store(&s3, data.path());
    assert_eq!(read(&store, &old, 0..15).await, b"ID3 old episode");
    let new = store.put("user1", Bytes::from_static(b"ID3 new episode")).await.unwrap();
    assert!(new.starts_with("s3://media/"), "{new}");
    assert_eq!(s3.keys().len(), 1);
}
