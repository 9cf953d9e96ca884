//! The processed-variant cache: outputs of processing on download kept on local disk, so the
//! same variant is never computed twice and a stale one is never served.
//!
//! - An entry is named by [`VariantKey`]: the source's bucket, key and ETag, the canonical
//!   rule, and the engine fingerprint. Overwriting the source changes its ETag, so the old
//!   variants become unreachable at once and are evicted later.
//! - The cache knows nothing of HTTP or of who may read what: callers authorise the request
//!   against the source object before they ask.
//! - Bounded by bytes, least recently used evicted first; entries are verified on read.
//! - Safe to purge from outside while the server runs ([`purge`]): a missing file is a miss.

mod entry;
pub mod flight;
mod index;
mod key;
pub mod purge;
mod stats;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;

pub use entry::{EntryError, EntryHeader, Reach};
pub use key::{engine_fingerprint, VariantId, VariantKey};
pub use stats::{CacheCounters, CacheStats};

use index::Index;

/// Default byte bound of the cache.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// Folder of the cache under the data folder, unless configured elsewhere.
pub const DEFAULT_DIR: &str = "cache";
/// Entries live under this folder of the cache folder; a change of the entry format
/// changes it, and the old folder is simply left to a purge.
const ENTRIES_DIR: &str = "v1";
/// Temp files, renamed into `ENTRIES_DIR` when complete.
const TMP_DIR: &str = "tmp";

/// A stored variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The output bytes.
    pub bytes: Bytes,
    /// Their `Content-Type`.
    pub mime: String,
}

/// What a header-only look-up finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantHead {
    /// Output length.
    pub len: u64,
    /// Output `Content-Type`.
    pub mime: String,
}

/// The cache: a folder of entries, their index and the counters.
#[derive(Debug)]
pub struct VariantCache {
    entries: PathBuf,
    tmp: PathBuf,
    max_bytes: u64,
    index: Mutex<Index>,
    counters: CacheCounters,
}

impl VariantCache {
    /// A cache that stores nothing (`max_bytes = 0`).
    pub fn disabled() -> Arc<VariantCache> {
        Arc::new(VariantCache {
            entries: PathBuf::new(),
            tmp: PathBuf::new(),
            max_bytes: 0,
            index: Mutex::default(),
            counters: CacheCounters::default(),
        })
    }

    /// Opens (creating) the cache under `dir`, bounded by `max_bytes` (0: disabled). Returns
    /// at once: the entries already on disk are indexed by a background thread.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Arc<VariantCache>> {
        if max_bytes == 0 {
            return Ok(Self::disabled());
        }
        let entries = dir.join(ENTRIES_DIR);
        let tmp = dir.join(TMP_DIR);
        std::fs::create_dir_all(&entries)?;
        // Temp files left by a crash are garbage; nothing else writes there.
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        let cache = Arc::new(VariantCache {
            entries,
            tmp,
            max_bytes,
            index: Mutex::default(),
            counters: CacheCounters::default(),
        });
        let weak = Arc::downgrade(&cache);
        let root = cache.entries.clone();
        std::thread::Builder::new()
            .name("mogr-cache-scan".into())
            .spawn(move || {
                let found = purge::scan(&root);
                if let Some(cache) = weak.upgrade() {
                    cache.adopt(found);
                }
            })?;
        Ok(cache)
    }

    /// Whether entries are stored at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The counters; callers count engine runs and shared results here too.
    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    /// Counters and current size.
    pub fn stats(&self) -> CacheStats {
        let index = self.index();
        self.counters
            .snapshot(index.count() as u64, index.bytes(), self.max_bytes)
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path_of(&self, key: &VariantKey, id: &VariantId) -> Option<PathBuf> {
        safe_bucket(&key.bucket).then(|| entry::entry_path(&self.entries, &key.bucket, &id.hex()))
    }

    /// The verified entry for `key`, if there is one. A damaged entry is deleted and counted,
    /// and reads as a miss. Counts a hit or a miss.
    pub async fn get(&self, key: &VariantKey) -> Option<Variant> {
        self.read(key, true).await
    }

    /// As [`Self::get`], counting only a hit: a second look by a request that has already
    /// counted its miss.
    pub async fn recheck(&self, key: &VariantKey) -> Option<Variant> {
        self.read(key, false).await
    }

    async fn read(&self, key: &VariantKey, count_miss: bool) -> Option<Variant> {
        let id = key.id();
        let path = self.enabled().then(|| self.path_of(key, &id)).flatten()?;
        // From memory here when it holds the entry, else on the blocking pool.
        let read = match entry::read_verified(&path, key, Reach::Memory) {
            Err(EntryError::WouldBlock) => {
                let k = key.clone();
                tokio::task::spawn_blocking(move || entry::read_verified(&path, &k, Reach::Disk))
                    .await
            }
            read => Ok(read),
        };
        match read {
            Ok(Ok((header, body))) => {
                self.found(id, &key.bucket, header.len);
                CacheCounters::bump(&self.counters.hits);
                Some(Variant {
                    bytes: body,
                    mime: header.mime,
                })
            }
            Ok(Err(e)) => {
                self.not_found(id, key, e, count_miss).await;
                None
            }
            Err(_) => None,
        }
    }

    /// The length and type of `key`'s entry, from its header alone (for HEAD). Counts a hit
    /// when found; a miss is counted by the [`Self::get`] that follows.
    pub async fn head(&self, key: &VariantKey) -> Option<VariantHead> {
        let id = key.id();
        let path = self.enabled().then(|| self.path_of(key, &id)).flatten()?;
        let read = match entry::read_head(&path, Some(key), Reach::Memory) {
            Err(EntryError::WouldBlock) => {
                let k = key.clone();
                tokio::task::spawn_blocking(move || entry::read_head(&path, Some(&k), Reach::Disk))
                    .await
            }
            read => Ok(read),
        };
        match read {
            Ok(Ok(header)) => {
                self.found(id, &key.bucket, header.len);
                CacheCounters::bump(&self.counters.hits);
                Some(VariantHead {
                    len: header.len,
                    mime: header.mime,
                })
            }
            Ok(Err(e @ EntryError::Damaged(_))) => {
                self.not_found(id, key, e, true).await;
                None
            }
            _ => None,
        }
    }

    /// A read found the entry: mark it used (indexing it if the restart scan has not yet).
    fn found(&self, id: VariantId, bucket: &str, len: u64) {
        let mut index = self.index();
        if !index.touch(&id) {
            index.insert(id, bucket, len);
        }
    }

    async fn not_found(&self, id: VariantId, key: &VariantKey, e: EntryError, count: bool) {
        if count {
            CacheCounters::bump(&self.counters.misses);
        }
        self.index().remove(&id);
        if let EntryError::Damaged(why) = e {
            CacheCounters::bump(&self.counters.corrupt);
            tracing::warn!(bucket = %key.bucket, key = %key.key, rule = %key.rule, why, "dropping a damaged cache entry");
            if let Some(path) = self.path_of(key, &id) {
                let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
            }
        }
    }

    /// Stores `variant` as `key`'s entry (unless it alone exceeds the bound), then evicts
    /// least recently used entries until the cache fits. Failures are logged, not returned:
    /// the cache is an optimisation and the response is already computed.
    pub async fn put(&self, key: &VariantKey, variant: &Variant) {
        let id = key.id();
        if !self.enabled() || variant.bytes.len() as u64 > self.max_bytes {
            return;
        }
        let Some(path) = self.path_of(key, &id) else {
            return;
        };
        let header = EntryHeader {
            bucket: key.bucket.clone(),
            key: key.key.clone(),
            source_etag: key.source_etag.clone(),
            rule: key.rule.clone(),
            fingerprint: key.fingerprint.clone(),
            mime: variant.mime.clone(),
            len: variant.bytes.len() as u64,
            crc64: mogr_store::crc64(&variant.bytes),
        };
        let (tmp, body) = (self.tmp.clone(), variant.bytes.clone());
        let written =
            tokio::task::spawn_blocking(move || entry::write(&tmp, &path, &header, &body)).await;
        match written {
            Ok(Ok(_)) => {
                CacheCounters::bump(&self.counters.stores);
                self.index()
                    .insert(id, &key.bucket, variant.bytes.len() as u64);
                self.evict().await;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot store a cache entry"),
            Err(e) => tracing::warn!(error = %e, "cannot store a cache entry"),
        }
    }

    /// Evicts least recently used entries until the indexed bytes fit the bound.
    async fn evict(&self) {
        let mut doomed = Vec::new();
        {
            let mut index = self.index();
            while index.bytes() > self.max_bytes {
                let Some((id, slot)) = index.pop_oldest() else {
                    break;
                };
                doomed.push(entry::entry_path(&self.entries, &slot.bucket, &id.hex()));
            }
        }
        if doomed.is_empty() {
            return;
        }
        let n = doomed.len() as u64;
        self.counters
            .evictions
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || {
            for path in doomed {
                // Already gone (purged from outside) is fine.
                let _ = std::fs::remove_file(path);
            }
        })
        .await;
    }

    /// Takes in what the restart scan found, older than anything used since, and evicts
    /// down to the bound.
    fn adopt(&self, found: Vec<purge::Found>) {
        let mut doomed = Vec::new();
        {
            let mut index = self.index();
            for f in found {
                index.insert_old(f.id, &f.bucket, f.size);
            }
            while index.bytes() > self.max_bytes {
                let Some((id, slot)) = index.pop_oldest() else {
                    break;
                };
                doomed.push(entry::entry_path(&self.entries, &slot.bucket, &id.hex()));
            }
        }
        self.counters
            .evictions
            .fetch_add(doomed.len() as u64, std::sync::atomic::Ordering::Relaxed);
        for path in doomed {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Removes the entries of `bucket` (all buckets when `None`) whose source key starts
    /// with `prefix`; returns how many entries and bytes went.
    pub fn purge(&self, bucket: Option<&str>, prefix: &str) -> io::Result<purge::Purged> {
        if !self.enabled() {
            return Ok(purge::Purged::default());
        }
        let purged = purge::purge(&self.entries, &self.tmp, bucket, prefix)?;
        let mut index = self.index();
        for (id, _) in &purged.removed {
            index.remove(id);
        }
        if let (Some(b), true) = (bucket, prefix.is_empty()) {
            index.remove_bucket(b);
        }
        Ok(purged)
    }
}

/// Bucket names become folder names: only the characters COS allows in them
/// (`[a-z0-9-]`), never a path separator or a dot.
fn safe_bucket(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket.len() <= 64
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The cache folder for a data folder and an optional configured one.
pub fn cache_dir(data_dir: &Path, configured: Option<&Path>) -> PathBuf {
    configured.map_or_else(|| data_dir.join(DEFAULT_DIR), Path::to_path_buf)
}

/// Seconds since the epoch of a file's modification time (0 if unknown).
fn mtime_secs(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}
