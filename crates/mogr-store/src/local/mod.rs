//! The embedded local-disk backend.
//!
//! Layout under the data root:
//! ```text
//! tmp/                                   staging: every write lands here first
//! journal/<id>.json                      intents of multi-record commits under way
//! buckets/<bucket>/bucket.json           creation time and ACL
//! buckets/<bucket>/settings.json         mogr's bucket settings (styles), once set
//! buckets/<bucket>/objects/ab/cd/<sha1(key)>.obj
//!                                        one record per object: body, then a JSON trailer
//!                                        (key, size, ETag, CRC-64, mtime, attributes)
//! buckets/<bucket>/index/snapshot       the key index as of some point (see `snapshot`)
//! buckets/<bucket>/index/log-<gen>      changes to the index since then (see `index_log`)
//! buckets/<bucket>/uploads/<id>/upload.json   key and attributes of a multipart upload
//! buckets/<bucket>/uploads/<id>/part-00001    part records (same format as objects)
//! ```
//! A write streams into a temp record, is synced, then renamed into place and the directory
//! synced, so an object is visible only whole and its metadata travels with it. A commit of
//! several records (or of a record and an upload's retirement) is first written down as an
//! intent in `journal/`, which open rolls forward after a crash (see `journal`). Keys are
//! served from an in-memory ordered index per bucket, loaded at open from its snapshot and
//! log (or rebuilt from the trailers when those cannot be trusted), so one data root belongs
//! to one `LocalStore` (one process) at a time.

mod bucket;
mod buckets;
mod compaction;
mod expiry;
mod file_stream;
mod index_log;
mod journal;
mod layout;
mod list;
mod multipart;
mod objects;
mod reaper;
mod recent;
mod record;
mod snapshot;
mod stage;
pub(crate) mod upload_list;
mod writer;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;

use self::bucket::Bucket;
use self::layout::Layout;
use crate::types::{
    validate_bucket, Acl, BucketInfo, BucketSettings, ByteRange, ByteStream, GetObject, ListPage,
    ListQuery, ListUploadsPage, ListUploadsQuery, MultipartUpload, ObjectMeta, PartInfo,
    PutOptions,
};
use crate::{Result, Stage, Store, StoreError};

/// A store on the local file system.
#[derive(Debug)]
pub struct LocalStore {
    layout: Layout,
    /// This boot's identity, written into each change log.
    boot: String,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    /// Serialises bucket creation and removal.
    admin: tokio::sync::Mutex<()>,
    /// Metadata of records read lately, valid only for the version the index names.
    recent: recent::RecentRecords,
    /// Places for blocking tasks that wait for a bucket's gate (see `gated_blocking`).
    gate_waiters: Arc<tokio::sync::Semaphore>,
    /// Where the next multi-record commit stops as if the process died (crash tests).
    #[cfg(feature = "crash-points")]
    crash: std::sync::Mutex<Option<CrashPoint>>,
}

/// Where a multi-record commit stops as if the process died there: nothing after it runs,
/// no staged file is deleted and the intent stays. Only for the crash tests (feature
/// `crash-points`); the next [`LocalStore::open`] shows what a restart would find.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "crash-points"), allow(dead_code))]
pub enum CrashPoint {
    /// Every record staged and synced; the intent not yet written.
    BeforeIntent,
    /// The intent written, then this many of its steps done: the renames in order, then
    /// the upload's retirement. At or past the last step: all done, the intent not deleted.
    AfterSteps(usize),
}

impl LocalStore {
    /// Open (creating if needed) a store rooted at `root`, loading every bucket's key index
    /// from its snapshot and log (a full scan of the records only when those cannot be
    /// trusted). Blocking: call it before serving, or from `spawn_blocking`.
    pub fn open(root: impl AsRef<Path>) -> Result<LocalStore> {
        let layout = Layout::new(root.as_ref());
        std::fs::create_dir_all(layout.buckets_dir())?;
        std::fs::create_dir_all(layout.tmp_dir())?;
        std::fs::create_dir_all(layout.journal_dir())?;
        // Before the sweep, which would delete the staged records an intent still needs, and
        // before the indexes are read, so they see every batch whole.
        journal::recover_blocking(&layout)?;
        sweep_staging(&layout.tmp_dir())?;
        let boot = index_log::boot_id();
        let mut buckets = BTreeMap::new();
        for entry in std::fs::read_dir(layout.buckets_dir())? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if validate_bucket(&name).is_err() || !entry.file_type()?.is_dir() {
                continue;
            }
            match bucket::load_bucket_blocking(&layout, &name, &entry.path(), &boot) {
                Ok(bucket) => {
                    buckets.insert(name, Arc::new(bucket));
                }
                // Not a bucket of ours (bucket creation is atomic, so ours have bucket.json).
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::InvalidData
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(LocalStore {
            layout,
            boot,
            buckets: RwLock::new(buckets),
            admin: tokio::sync::Mutex::new(()),
            recent: recent::RecentRecords::default(),
            gate_waiters: Arc::new(tokio::sync::Semaphore::new(objects::GATE_WAITERS)),
            #[cfg(feature = "crash-points")]
            crash: std::sync::Mutex::new(None),
        })
    }

    /// Make the next multi-record commit stop at `point` as if the process died there.
    #[cfg(feature = "crash-points")]
    #[doc(hidden)]
    pub fn crash_at(&self, point: CrashPoint) {
        *self.crash.lock().unwrap_or_else(PoisonError::into_inner) = Some(point);
    }

    /// The crash point armed for this commit, if any (consumed).
    fn take_crash_point(&self) -> Option<CrashPoint> {
        #[cfg(feature = "crash-points")]
        return self
            .crash
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        #[cfg(not(feature = "crash-points"))]
        None
    }

    /// The live bucket `name`.
    fn bucket(&self, name: &str) -> Result<Arc<Bucket>> {
        validate_bucket(name)?;
        self.buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or(StoreError::NoSuchBucket)
    }
}

/// Empty the staging area. The data root belongs to one process, so at open nothing can
/// still be writing there: whatever is left came from writers that died (or from trees
/// moved aside for removal), however recent.
fn sweep_staging(tmp: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(tmp)? {
        let entry = entry?;
        let path = entry.path();
        // Failing to remove one only leaves garbage for the next open to sweep.
        let _ = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
    Ok(())
}

#[async_trait]
impl Store for LocalStore {
    async fn create_bucket(&self, bucket: &str, acl: Acl) -> Result<()> {
        self.create_bucket_impl(bucket, acl).await
    }

    async fn head_bucket(&self, bucket: &str) -> Result<BucketInfo> {
        Ok(self.bucket(bucket)?.info())
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        self.delete_bucket_impl(bucket).await
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
        Ok(buckets.values().map(|b| b.info()).collect())
    }

    async fn set_bucket_acl(&self, bucket: &str, acl: Acl) -> Result<()> {
        self.set_bucket_acl_impl(bucket, acl).await
    }

    async fn bucket_settings(&self, bucket: &str) -> Result<BucketSettings> {
        Ok(self.bucket(bucket)?.settings())
    }

    async fn put_bucket_settings(&self, bucket: &str, settings: BucketSettings) -> Result<()> {
        self.put_bucket_settings_impl(bucket, settings).await
    }

    fn stage(&self) -> Box<dyn Stage + '_> {
        Box::new(stage::LocalStage::new(self))
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
        let bucket = self.bucket(bucket)?;
        // A page visits at most `max_keys` entries and skips each rolled-up group with one
        // seek, so the read lock is held for a bounded time whatever the bucket's size.
        let index = bucket.index();
        Ok(list::page(&index, query, |key, entry| entry.to_listed(key)))
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
