//! The S3 backend: mogr's buckets and objects kept in an existing S3-compatible engine
//! (Garage, MinIO, Ceph RGW, AWS S3, COS), so several stateless mogr nodes can serve the
//! same data; the engine does replication and placement.
//!
//! All mogr buckets live in one engine bucket, each as a top-level key prefix (this needs
//! only the rights to one bucket on every engine). mogr's own records (bucket facts,
//! settings, unfinished uploads, staged bodies) live under a reserved `.mogr/` prefix that
//! no mogr bucket name can produce.

mod batch;
mod buckets;
mod commit;
mod engine;
mod layout;
mod meta;
mod multipart;
mod objects;
mod stage;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;

use crate::types::{
    validate_bucket, Acl, BucketInfo, BucketSettings, ByteRange, ByteStream, GetObject, ListPage,
    ListQuery, ListUploadsPage, ListUploadsQuery, MultipartUpload, ObjectMeta, PartInfo,
    PutOptions,
};
use crate::{Result, Stage, Store, StoreError};

/// How long a node caches what it read of a bucket (record, ACL, settings).
pub use buckets::CACHE_TTL;
pub use commit::{Swept, COMMIT_GRACE, STAGED_GRACE};

/// How often each node sweeps the engine for interrupted commits and stale staged bodies.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// How to reach the engine.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Base URL of the engine's S3 API, e.g. `http://127.0.0.1:3900`.
    pub endpoint: String,
    /// Region the engine expects in signatures (`garage` for Garage).
    pub region: String,
    /// The engine bucket holding every mogr bucket.
    pub bucket: String,
    /// Access key id.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
    /// Path-style requests (`endpoint/bucket/key`) rather than virtual-host ones.
    pub path_style: bool,
    /// Where mogr buckets live in the engine.
    pub buckets: EngineBuckets,
    /// Smallest engine multipart part the engine accepts (but the last): 5 MiB on AWS S3 and
    /// MinIO, 0 on Garage. Completing an upload whose COS parts (1 MiB minimum) are smaller
    /// joins them into engine parts this large.
    pub min_engine_part: u64,
}

/// Where mogr buckets live in the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EngineBuckets {
    /// Each mogr bucket is a top-level prefix of the one engine bucket (needs the rights to
    /// one bucket only).
    #[default]
    Prefixes,
    /// Each mogr bucket is an engine bucket of its own, named `name_prefix` + its name,
    /// created and deleted with it (needs the right to create buckets). mogr's records stay
    /// in the main engine bucket.
    PerBucket {
        /// Prepended to each mogr bucket's name.
        name_prefix: String,
    },
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: configurations end up in logs.
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key", &self.access_key)
            .field("path_style", &self.path_style)
            .field("buckets", &self.buckets)
            .field("min_engine_part", &self.min_engine_part)
            .finish_non_exhaustive()
    }
}

/// A [`Store`] over an S3-compatible engine.
pub struct S3Store {
    engine: Arc<engine::Engine>,
    min_engine_part: u64,
    buckets: buckets::Buckets,
    /// Whether the next commit stops right after writing its record (crash tests).
    #[cfg(feature = "crash-points")]
    crash: std::sync::atomic::AtomicBool,
}

impl S3Store {
    /// Connects to the engine and checks that its bucket answers; an engine that cannot be
    /// reached is [`StoreError::Unavailable`].
    pub async fn open(cfg: S3Config) -> Result<S3Store> {
        let engine = engine::Engine::new(&cfg)?;
        engine
            .list(layout::bucket_records().as_str(), "", None, None, 1)
            .await?;
        let engine = Arc::new(engine);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep_forever(Arc::downgrade(&engine)));
        }
        Ok(S3Store {
            engine,
            min_engine_part: cfg.min_engine_part,
            buckets: buckets::Buckets::default(),
            #[cfg(feature = "crash-points")]
            crash: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Finishes commits interrupted more than `commit_grace` ago and drops staged bodies
    /// older than `staged_grace`. Every node does this every [`SWEEP_INTERVAL`] with
    /// [`COMMIT_GRACE`] and [`STAGED_GRACE`]; tests call it with shorter ones.
    pub async fn sweep(&self, commit_grace: Duration, staged_grace: Duration) -> Result<Swept> {
        commit::sweep(&self.engine, commit_grace, staged_grace).await
    }

    /// Make the next commit of several objects stop right after writing its record, as if
    /// the node died there (crash tests).
    #[cfg(feature = "crash-points")]
    #[doc(hidden)]
    pub fn crash_after_commit_record(&self) {
        self.crash.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a crash is armed for this commit (consumed).
    #[cfg(feature = "crash-points")]
    fn take_crash_point(&self) -> bool {
        self.crash.swap(false, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Whether anything really lives under `prefix`. Engines may list a key for a moment after
/// it was deleted (Garage did, right after a burst of deletes), so each listed key is
/// checked with a HEAD; more ghosts than one page holds count as content.
async fn has_live_keys(engine: &engine::Engine, prefix: &str) -> Result<bool> {
    const PAGE: usize = 10;
    let page = engine.list(prefix, "", None, None, PAGE).await?;
    for listed in &page.contents {
        if engine.head(&listed.key).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(page.next_continuation_token.is_some())
}

/// Sweeps every [`SWEEP_INTERVAL`] until the store is dropped. Nodes start at different
/// times, so their sweeps rarely meet; when they do, every step is idempotent.
async fn sweep_forever(engine: Weak<engine::Engine>) {
    loop {
        tokio::time::sleep(SWEEP_INTERVAL).await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if let Err(e) = commit::sweep(&engine, COMMIT_GRACE, STAGED_GRACE).await {
            tracing::warn!(error = %e, "engine sweep failed; retried at the next interval");
        }
    }
}

#[async_trait]
impl Store for S3Store {
    async fn create_bucket(&self, bucket: &str, acl: Acl) -> Result<()> {
        validate_bucket(bucket)?;
        match self.buckets.info(&self.engine, bucket).await {
            Ok(_) => return Err(StoreError::BucketAlreadyExists),
            Err(StoreError::NoSuchBucket) => {}
            Err(e) => return Err(e),
        }
        let info = BucketInfo {
            name: bucket.to_string(),
            created: meta::now(),
            acl,
        };
        // The engine bucket first: the record makes the bucket usable on every node.
        self.engine.create_bucket(bucket).await?;
        self.buckets.write(&self.engine, &info).await
    }

    async fn head_bucket(&self, bucket: &str) -> Result<BucketInfo> {
        self.buckets.info(&self.engine, bucket).await
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        self.buckets.info(&self.engine, bucket).await?;
        // Unfinished uploads keep a bucket, as on COS.
        for prefix in [layout::objects(bucket), layout::uploads(bucket)] {
            if has_live_keys(&self.engine, &prefix).await? {
                return Err(StoreError::BucketNotEmpty);
            }
        }
        self.engine.delete(&layout::bucket_settings(bucket)).await?;
        self.engine.delete(&layout::bucket_record(bucket)).await?;
        self.buckets.forget(bucket);
        // The record is gone, so the bucket is; an engine bucket left behind (a race with a
        // late write) is reused if the bucket is created again.
        if let Err(e) = self.engine.delete_bucket(bucket).await {
            tracing::warn!(bucket, error = %e, "could not delete the engine bucket");
        }
        Ok(())
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        self.buckets.all(&self.engine).await
    }

    async fn set_bucket_acl(&self, bucket: &str, acl: Acl) -> Result<()> {
        let mut info = self.buckets.info(&self.engine, bucket).await?;
        info.acl = acl;
        self.buckets.write(&self.engine, &info).await
    }

    async fn bucket_settings(&self, bucket: &str) -> Result<BucketSettings> {
        self.buckets.settings(&self.engine, bucket).await
    }

    async fn put_bucket_settings(&self, bucket: &str, settings: BucketSettings) -> Result<()> {
        self.buckets
            .put_settings(&self.engine, bucket, settings)
            .await
    }

    fn stage(&self) -> Box<dyn Stage + '_> {
        Box::new(batch::S3Stage::new(self))
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        self.head_object_impl(bucket, key).await
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        self.get_object_impl(bucket, key, range).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.delete_object_impl(bucket, key).await
    }

    async fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<ListPage> {
        self.list_objects_impl(bucket, query).await
    }

    async fn create_multipart(&self, bucket: &str, key: &str, opts: PutOptions) -> Result<String> {
        self.create_multipart_impl(bucket, key, opts).await
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: ByteStream,
        content_md5: Option<[u8; 16]>,
    ) -> Result<PartInfo> {
        self.upload_part_impl(bucket, key, upload_id, part_number, body, content_md5)
            .await
    }

    async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<MultipartUpload> {
        self.list_parts_impl(bucket, key, upload_id).await
    }

    async fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        self.abort_multipart_impl(bucket, key, upload_id).await
    }

    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        query: &ListUploadsQuery,
    ) -> Result<ListUploadsPage> {
        self.list_multipart_uploads_impl(bucket, query).await
    }
}
