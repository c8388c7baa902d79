//! Where podcast audio lives: under `DATA_PATH/podcasts/<owner>/`, or in an S3 bucket when
//! `S3_BUCKET_NAME` is set (Render's disk is then free of audio, and several containers can
//! serve it). The worker puts, the API reads ranges and deletes; both go through
//! [`AudioStore`], so the two agree on names and on where an episode's audio is.
//!
//! An episode's `audio_file` is a *reference*: `podcasts/<owner>/<name>.mp3` for a file under
//! `DATA_PATH`, `s3://<bucket>/podcasts/<owner>/<name>.mp3` for an object. Names are generated,
//! never the user's text; episodes made before a switch of storage keep playing from where
//! they were put.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

const S3_SCHEME: &str = "s3://";

/// What can go wrong with stored audio, in the terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The reference names nothing that exists (or points outside `DATA_PATH`).
    #[error("no such audio")]
    NotFound,
    /// The reference names a bucket this process is not configured for.
    #[error("the audio is in S3 bucket `{bucket}`, and {configured}")]
    Unreachable { bucket: String, configured: String },
    /// The storage failed.
    #[error("{context}: {message}")]
    Storage { context: String, message: String },
}

impl AudioError {
    fn storage(context: impl Into<String>, e: impl std::fmt::Display) -> AudioError {
        AudioError::Storage { context: context.into(), message: e.to_string() }
    }
}

/// The S3 settings from the environment, as in the seed's deployment plan.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `S3_BUCKET_NAME`: setting it turns S3 storage on.
    pub bucket: String,
    /// `S3_ENDPOINT_URL`: an S3-compatible service (R2, MinIO, ...); AWS when unset.
    pub endpoint: Option<String>,
    /// `S3_REGION`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`); when unset, the
    /// instance's own credentials are asked for.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "<redacted>"))
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl S3Settings {
    /// From `NAME=value` pairs, e.g. the environment a test gives the programs it starts.
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<S3Settings> {
        S3Settings::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    /// `None` when `S3_BUCKET_NAME` is unset or empty: audio stays under `DATA_PATH`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<S3Settings> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Some(S3Settings {
            bucket: get("S3_BUCKET_NAME")?,
            endpoint: get("S3_ENDPOINT_URL"),
            region: get("S3_REGION")
                .or_else(|| get("AWS_REGION"))
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            access_key_id: get("AWS_ACCESS_KEY_ID"),
            secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
            session_token: get("AWS_SESSION_TOKEN"),
        })
    }
}

/// The size and validators of a stored audio file, for HTTP caching and ranges.
#[derive(Debug, Clone)]
pub struct AudioMeta {
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// A strong validator, quoted as HTTP wants it.
    pub etag: Option<String>,
}

/// A byte stream of stored audio.
pub type AudioStream = BoxStream<'static, std::io::Result<Bytes>>;

struct Bucket {
    name: String,
    store: AmazonS3,
}

/// Puts, reads and deletes episodes' audio; see the module docs for the references it hands out.
/// Both backends are `object_store` stores: files are written aside and renamed into place, S3
/// requests are retried with backoff on transient failures.
pub struct AudioStore {
    data_path: PathBuf,
    files: LocalFileSystem,
    bucket: Option<Bucket>,
}

impl std::fmt::Debug for AudioStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl AudioStore {
    /// Files under `data_path`, or the S3 bucket of the environment's `S3_*` settings.
    pub fn from_env(data_path: &Path) -> Result<AudioStore, AudioError> {
        AudioStore::new(data_path, S3Settings::from_lookup(|name| std::env::var(name).ok()))
    }

    pub fn new(data_path: &Path, s3: Option<S3Settings>) -> Result<AudioStore, AudioError> {
        std::fs::create_dir_all(data_path)
            .map_err(|e| AudioError::storage(format!("creating {}", data_path.display()), e))?;
        let files = LocalFileSystem::new_with_prefix(data_path)
            .map_err(|e| AudioError::storage(format!("audio under {}", data_path.display()), e))?;
        let bucket = match s3 {
            None => None,
            Some(s3) => {
                let mut builder = AmazonS3Builder::new().with_bucket_name(&s3.bucket).with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    // A local S3-compatible server is commonly plain HTTP; AWS itself is HTTPS.
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                if let Some(token) = &s3.session_token {
                    builder = builder.with_token(token);
                }
                let store = builder.build().map_err(|e| AudioError::storage("S3 settings", e))?;
                Some(Bucket { name: s3.bucket, store })
            }
        };
        Ok(AudioStore { data_path: data_path.to_path_buf(), files, bucket })
    }

    /// Where new audio goes, for the startup log.
    pub fn describe(&self) -> String {
        match &self.bucket {
            Some(b) => format!("S3 bucket `{}`", b.name),
            None => format!("{}/podcasts", self.data_path.display()),
        }
    }

    /// Stores an episode's audio; returns the reference that goes into `audio_file`.
    pub async fn put(&self, owner_key: &str, audio: Bytes) -> Result<String, AudioError> {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| AudioError::storage("no randomness", e))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("podcasts/{owner_key}/{name}.mp3");
        let (store, reference): (&dyn ObjectStore, String) = match &self.bucket {
            Some(bucket) => (&bucket.store, format!("{S3_SCHEME}{}/{key}", bucket.name)),
            None => (&self.files, key.clone()),
        };
        let path = ObjectPath::parse(&key).map_err(|e| AudioError::storage(format!("audio name {key}"), e))?;
        store
            .put(&path, PutPayload::from(audio))
            .await
            .map_err(|e| AudioError::storage(format!("putting {reference}"), e))?;
        Ok(reference)
    }

    /// Size and validators of the audio at `reference`.
    pub async fn meta(&self, reference: &str) -> Result<AudioMeta, AudioError> {
        let (store, path) = self.resolve(reference)?;
        let meta = store.head(&path).await.map_err(|e| object_error(reference, e))?;
        let etag = meta.e_tag.map(|t| if t.ends_with('"') { t } else { format!("\"{t}\"") });
        Ok(AudioMeta { size: meta.size, modified: Some(meta.last_modified.into()), etag })
    }

    /// The bytes `range` of the audio at `reference` (a range within [`AudioStore::meta`]'s size).
    pub async fn read(&self, reference: &str, range: Range<u64>) -> Result<AudioStream, AudioError> {
        let (store, path) = self.resolve(reference)?;
        let options = GetOptions { range: Some(GetRange::Bounded(range)), ..GetOptions::default() };
        let got = store.get_opts(&path, options).await.map_err(|e| object_error(reference, e))?;
        Ok(got.into_stream().map_err(std::io::Error::other).boxed())
    }

    /// Removes the audio at `reference`; audio already gone is not an error.
    pub async fn delete(&self, reference: &str) -> Result<(), AudioError> {
        let removed = match self.resolve(reference) {
            Ok((store, path)) => store.delete(&path).await.map_err(|e| object_error(reference, e)),
            Err(e) => Err(e),
        };
        match removed {
            Err(AudioError::NotFound) => Ok(()),
            other => other,
        }
    }

    /// Removes all audio of one owner (`podcasts/<owner_key>/…`), as files and in the bucket;
    /// returns how many pieces were removed. Found by name, not by rows, so running it again
    /// finishes what an interrupted run (or a crash after the rows were deleted) left.
    pub async fn delete_owner(&self, owner_key: &str) -> Result<usize, AudioError> {
        if owner_key.is_empty() || !owner_key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(AudioError::storage("audio of an owner", format!("`{owner_key}` is not a plain key")));
        }
        let prefix = ObjectPath::parse(format!("podcasts/{owner_key}"))
            .map_err(|e| AudioError::storage(format!("audio of {owner_key}"), e))?;
        let mut stores: Vec<(&dyn ObjectStore, String)> = vec![(&self.files, self.data_path.display().to_string())];
        if let Some(b) = &self.bucket {
            stores.push((&b.store, format!("{S3_SCHEME}{}", b.name)));
        }
        let mut removed = 0;
        for (store, name) in stores {
            let listed: Vec<object_store::ObjectMeta> = match store.list(Some(&prefix)).try_collect().await {
                Ok(listed) => listed,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(AudioError::storage(format!("listing audio of {owner_key} in {name}"), e)),
            };
            for meta in listed {
                match store.delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                    Err(e) => return Err(AudioError::storage(format!("deleting {} in {name}", meta.location), e)),
                }
            }
        }
        Ok(removed)
    }

    /// The store and object path a reference names. A file reference must name an existing
    /// file inside `DATA_PATH` (no `..`, no symlink out): rows are not trusted with paths.
    fn resolve<'a>(&'a self, reference: &'a str) -> Result<(&'a dyn ObjectStore, ObjectPath), AudioError> {
        let (store, key): (&dyn ObjectStore, &str) =
            match reference.strip_prefix(S3_SCHEME).and_then(|rest| rest.split_once('/')) {
                Some((bucket, key)) => (self.bucket(bucket)?, key),
                None => {
                    crate::files::within(&self.data_path, reference).ok_or(AudioError::NotFound)?;
                    (&self.files, reference)
                }
            };
        Ok((store, ObjectPath::parse(key).map_err(|_| AudioError::NotFound)?))
    }

    fn bucket(&self, name: &str) -> Result<&AmazonS3, AudioError> {
        match &self.bucket {
            Some(b) if b.name == name => Ok(&b.store),
            Some(b) => Err(AudioError::Unreachable {
                bucket: name.into(),
                configured: format!("S3_BUCKET_NAME is `{}`", b.name),
            }),
            None => {
                Err(AudioError::Unreachable { bucket: name.into(), configured: "S3_BUCKET_NAME is not set".into() })
            }
        }
    }
}

fn object_error(reference: &str, e: object_store::Error) -> AudioError {
    match e {
        object_store::Error::NotFound { .. } => AudioError::NotFound,
        e => AudioError::storage(reference, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_is_on_only_with_a_bucket_and_the_region_falls_back() {
        let pairs = |p: &'static [(&'static str, &'static str)]| {
            move |n: &str| p.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
        };
        assert_eq!(S3Settings::from_lookup(pairs(&[("S3_REGION", "eu-west-1")])), None);
        assert_eq!(S3Settings::from_lookup(pairs(&[("S3_BUCKET_NAME", " ")])), None);
        let s = S3Settings::from_lookup(pairs(&[("S3_BUCKET_NAME", "b"), ("AWS_DEFAULT_REGION", "eu-north-1")]))
            .expect("on");
        assert_eq!((s.bucket.as_str(), s.region.as_str(), s.endpoint), ("b", "eu-north-1", None));
        let s =
            S3Settings::from_lookup(pairs(&[("S3_BUCKET_NAME", "b"), ("AWS_SECRET_ACCESS_KEY", "hush")])).expect("on");
        assert_eq!(s.region, "us-east-1");
        assert_eq!(s.secret_access_key.as_deref(), Some("hush"));
        assert!(!format!("{s:?}").contains("hush"), "no secrets in Debug");
    }

    #[tokio::test]
    async fn files_put_read_in_ranges_and_delete_under_the_data_path_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AudioStore::new(dir.path(), None).expect("store");
        let audio: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let reference = store.put("user1", Bytes::from(audio.clone())).await.expect("put");
        assert!(reference.starts_with("podcasts/user1/") && reference.ends_with(".mp3"), "{reference}");
        assert_eq!(store.meta(&reference).await.expect("meta").size, 5000);
        let part: Vec<Bytes> =
            store.read(&reference, 10..4010).await.expect("read").try_collect().await.expect("bytes");
        assert_eq!(part.concat(), audio[10..4010]);
        assert!(matches!(store.meta("../../etc/passwd").await, Err(AudioError::NotFound)));
        assert!(matches!(store.meta("s3://b/k").await, Err(AudioError::Unreachable { .. })));
        store.delete(&reference).await.expect("delete");
        assert!(matches!(store.meta(&reference).await, Err(AudioError::NotFound)));
        store.delete(&reference).await.expect("deleting twice is fine");
        let (a, b) =
            (store.put("user2", Bytes::from_static(b"a")).await, store.put("user2", Bytes::from_static(b"b")).await);
        let kept = store.put("user3", Bytes::from_static(b"c")).await.expect("put");
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(store.delete_owner("user2").await.expect("delete owner"), 2);
        assert_eq!(store.delete_owner("user2").await.expect("again"), 0);
        assert_eq!(store.delete_owner("nobody").await.expect("no audio at all"), 0);
        assert!(store.meta(&kept).await.is_ok(), "another owner's audio stays");
        assert!(store.delete_owner("../x").await.is_err());
    }
}
