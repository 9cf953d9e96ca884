//! A bucket's in-memory state (facts, key index and its log, upload index, publish gate) and
//! how it is loaded from disk.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use super::index_log::{self, IndexLog};
use super::layout::{
    is_upload_id, Layout, BUCKET_FILE, INDEX_DIR, OBJECTS_DIR, OBJECT_EXT, SETTINGS_FILE,
    UPLOADS_DIR, UPLOAD_FILE,
};
use super::record::{self, join_time, RecordHeader};
use super::snapshot;
use crate::types::{Acl, BucketInfo, BucketSettings, ListedObject, ObjectAttrs};

/// What the index keeps per key: enough for a listing without touching the disk.
#[derive(Debug, Clone)]
pub(crate) struct IndexEntry {
    /// Body size.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// CRC-64/XZ.
    pub crc64: u64,
    /// Write time.
    pub last_modified: SystemTime,
}

impl IndexEntry {
    /// The entry for a record.
    pub(crate) fn of(header: &RecordHeader) -> IndexEntry {
        IndexEntry {
            size: header.size,
            etag: header.etag.clone(),
            crc64: header.crc64,
            last_modified: header.last_modified(),
        }
    }

    /// The entry as a listing shows it.
    pub(crate) fn to_listed(&self, key: &str) -> ListedObject {
        ListedObject {
            key: key.to_string(),
            size: self.size,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
        }
    }
}

/// Held while changing which records are published in a bucket, so the index, its log and
/// the directory tree change in the same order.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// The bucket was deleted; late writers must not recreate its directories.
    pub deleted: bool,
}

/// An unfinished multipart upload, as the upload index keeps it.
pub(crate) type UploadKey = (String, String);

/// A live bucket.
#[derive(Debug)]
pub(crate) struct Bucket {
    /// `name-appid`.
    pub name: String,
    /// The bucket's directory.
    pub dir: PathBuf,
    info: Mutex<BucketInfo>,
    settings: Mutex<BucketSettings>,
    index: RwLock<BTreeMap<String, IndexEntry>>,
    /// Changes to `index` since its snapshot; appended under `gate`.
    log: Mutex<IndexLog>,
    /// A snapshot is being written.
    compacting: AtomicBool,
    /// Unfinished uploads: (key, upload id) -> initiation time.
    uploads: Mutex<BTreeMap<UploadKey, SystemTime>>,
    /// Serialises publishes, deletes and bucket removal.
    pub gate: tokio::sync::Mutex<Gate>,
    /// Places for blocking tasks that wait for `gate` (see `LocalStore::gated_blocking`).
    pub gate_waiters: Arc<tokio::sync::Semaphore>,
}

/// Blocking tasks that may wait for one bucket's gate at once: writers to a bucket whose
/// gate is held long (while the bucket is deleted) cannot take every place in the store.
const BUCKET_GATE_WAITERS: usize = 8;

impl Bucket {
    /// A bucket with the given facts, settings, index, log and uploads.
    pub(crate) fn new(
        info: BucketInfo,
        settings: BucketSettings,
        dir: PathBuf,
        index: BTreeMap<String, IndexEntry>,
        log: IndexLog,
        uploads: BTreeMap<UploadKey, SystemTime>,
    ) -> Bucket {
        Bucket {
            name: info.name.clone(),
            dir,
            info: Mutex::new(info),
            settings: Mutex::new(settings),
            index: RwLock::new(index),
            log: Mutex::new(log),
            compacting: AtomicBool::new(false),
            uploads: Mutex::new(uploads),
            gate: tokio::sync::Mutex::new(Gate::default()),
            gate_waiters: Arc::new(tokio::sync::Semaphore::new(BUCKET_GATE_WAITERS)),
        }
    }

    /// The bucket's facts.
    pub(crate) fn info(&self) -> BucketInfo {
        self.lock_info().clone()
    }

    /// Replace the ACL in memory (after bucket.json was rewritten).
    pub(crate) fn set_acl(&self, acl: Acl) {
        self.lock_info().acl = acl;
    }

    /// The bucket's mogr settings.
    pub(crate) fn settings(&self) -> BucketSettings {
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replace the settings in memory (after settings.json was rewritten).
    pub(crate) fn set_settings(&self, settings: BucketSettings) {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    fn lock_info(&self) -> MutexGuard<'_, BucketInfo> {
        // State behind these locks is replaced whole, so a panic elsewhere cannot leave it torn.
        self.info.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Read access to the key index.
    pub(crate) fn index(&self) -> RwLockReadGuard<'_, BTreeMap<String, IndexEntry>> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write access to the key index; only while holding [`Bucket::gate`].
    pub(crate) fn index_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<String, IndexEntry>> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The change log; only while holding [`Bucket::gate`].
    pub(crate) fn log(&self) -> MutexGuard<'_, IndexLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The directory of the snapshot and the logs.
    pub(crate) fn index_dir(&self) -> PathBuf {
        self.dir.join(INDEX_DIR)
    }

    /// The unfinished uploads.
    pub(crate) fn uploads(&self) -> MutexGuard<'_, BTreeMap<UploadKey, SystemTime>> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the log has grown enough to fold into a new snapshot, claiming the job if so.
    pub(crate) fn claim_compaction(&self) -> bool {
        let due = {
            let log = self.log();
            let entries = self.index().len() as u64;
            log.is_broken() || log.changes() >= compaction_threshold(entries)
        };
        due && !self.compacting.swap(true, Ordering::AcqRel)
    }

    /// The snapshot job claimed with [`Bucket::claim_compaction`] is over.
    pub(crate) fn compaction_done(&self) {
        self.compacting.store(false, Ordering::Release);
    }

    /// Start a new log generation and copy the index it starts from (under the gate, so no
    /// change falls between the two). Blocking.
    pub(crate) fn rotate_blocking(
        &self,
        boot: &str,
    ) -> io::Result<(u64, BTreeMap<String, IndexEntry>)> {
        let mut log = self.log();
        let generation = log.generation() + 1;
        *log = IndexLog::create(&self.index_dir(), generation, boot)?;
        Ok((generation, self.index().clone()))
    }
}

/// How many logged changes make a new snapshot worth writing: a quarter of the index, so
/// snapshots cost a few entry writes per change (small buckets' snapshots are small, so a
/// floor of a thousand is cheap). An open replays at most this many changes.
fn compaction_threshold(entries: u64) -> u64 {
    (entries / 4).max(1024)
}

/// Fold a rotated log into a snapshot of generation `generation`, then drop older logs.
/// Blocking.
pub(crate) fn write_snapshot_blocking(
    index_dir: &Path,
    generation: u64,
    index: &BTreeMap<String, IndexEntry>,
) -> io::Result<()> {
    snapshot::write(index_dir, generation, index)?;
    for (old, path) in index_log::logs(index_dir)? {
        if old < generation {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// The on-disk form of a bucket's facts.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct BucketFile {
    created_secs: u64,
    created_nanos: u32,
    acl: String,
}

impl BucketFile {
    /// The file contents for `info`.
    pub(crate) fn encode(info: &BucketInfo) -> io::Result<Vec<u8>> {
        let (created_secs, created_nanos) = record::split_time(info.created);
        let file = BucketFile {
            created_secs,
            created_nanos,
            acl: info.acl.as_str().to_string(),
        };
        serde_json::to_vec_pretty(&file).map_err(io::Error::other)
    }

    fn decode(name: &str, bytes: &[u8]) -> io::Result<BucketInfo> {
        let file: BucketFile = serde_json::from_slice(bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(BucketInfo {
            name: name.to_string(),
            created: record::join_time(file.created_secs, file.created_nanos),
            acl: Acl::parse(&file.acl).unwrap_or_default(),
        })
    }
}

/// Load a bucket directory with blocking I/O: its facts, its key index (the snapshot and
/// the logs after it, or, failing those, every readable record) and its unfinished uploads.
/// Damaged records are left on disk and out of the index rather than failing the whole store.
pub(crate) fn load_bucket_blocking(
    layout: &Layout,
    name: &str,
    dir: &Path,
    boot: &str,
) -> io::Result<Bucket> {
    let info = BucketFile::decode(name, &std::fs::read(dir.join(BUCKET_FILE))?)?;
    let settings = load_settings_blocking(dir)?;
    let index_dir = dir.join(INDEX_DIR);
    std::fs::create_dir_all(&index_dir)?;
    for leftover in snapshot::leftovers(&index_dir)? {
        std::fs::remove_file(leftover)?;
    }
    let logs = index_log::logs(&index_dir)?;
    let settle = |key: &str| settle_blocking(layout, name, key);
    let (index, start) = match persisted_index(&index_dir, &logs, boot, &settle)? {
        Some((index, generation, 0)) => (index, generation),
        found => {
            let index = match found {
                Some((index, _, _)) => index,
                None => scan_records_blocking(dir)?,
            };
            // Fold what was replayed or rebuilt into a fresh snapshot, so this process's
            // log starts from a durable base whatever happens to the machine.
            let last = logs.last().map_or(0, |(g, _)| *g);
            let generation = last + 1;
            write_snapshot_blocking(&index_dir, generation, &index)?;
            (index, generation)
        }
    };
    for (old, path) in index_log::logs(&index_dir)? {
        if old < start {
            std::fs::remove_file(path)?;
        }
    }
    let log = IndexLog::create(&index_dir, start, boot)?;
    let uploads = scan_uploads_blocking(&dir.join(UPLOADS_DIR))?;
    Ok(Bucket::new(
        info,
        settings,
        dir.to_path_buf(),
        index,
        log,
        uploads,
    ))
}

/// An index loaded from disk, the snapshot's generation and how many changes were replayed.
type Persisted = (BTreeMap<String, IndexEntry>, u64, u64);

/// The index from the snapshot and the logs after it; `None` if they cannot be trusted
/// (missing, damaged, or written in a boot that may have lost some of it).
fn persisted_index(
    index_dir: &Path,
    logs: &[(u64, PathBuf)],
    boot: &str,
    settle: &dyn Fn(&str) -> io::Result<Option<IndexEntry>>,
) -> io::Result<Option<Persisted>> {
    let loaded = match snapshot::read(index_dir) {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut index = loaded.index;
    let mut replayed = 0;
    for (generation, path) in logs {
        if *generation < loaded.generation {
            continue;
        }
        match index_log::replay(path, boot, &mut index, settle)? {
            // An empty log of this generation (a process that changed nothing) counts as
            // replayed so that it is not kept for ever.
            Ok(changes) => replayed += changes.max(u64::from(*generation > loaded.generation)),
            Err(index_log::Untrusted) => return Ok(None),
        }
    }
    Ok(Some((index, loaded.generation, replayed)))
}

/// The index entry of `key`'s record, read from disk; `None` if there is no readable record.
fn settle_blocking(layout: &Layout, bucket: &str, key: &str) -> io::Result<Option<IndexEntry>> {
    let (path, _) = layout.object_path(bucket, key);
    match record::read_header_blocking(&path) {
        Ok(header) if header.key == key => Ok(Some(IndexEntry::of(&header))),
        Ok(_) => Ok(None),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::InvalidData
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Rebuild an index by reading the trailer of every record in the bucket.
pub(crate) fn scan_records_blocking(dir: &Path) -> io::Result<BTreeMap<String, IndexEntry>> {
    let mut index = BTreeMap::new();
    let objects = dir.join(OBJECTS_DIR);
    for level1 in read_dirs(&objects)? {
        for level2 in read_dirs(&level1)? {
            for entry in std::fs::read_dir(&level2)? {
                let path = entry?.path();
                if path.extension().and_then(|e| e.to_str()) != Some(OBJECT_EXT) {
                    continue;
                }
                if let Ok(header) = record::read_header_blocking(&path) {
                    index.insert(header.key.clone(), IndexEntry::of(&header));
                }
            }
        }
    }
    Ok(index)
}

/// The on-disk facts of an upload.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct UploadFile {
    /// The key the upload will be stored under.
    pub key: String,
    /// The attributes given at initiation.
    pub attrs: ObjectAttrs,
    /// Initiation time, seconds since the epoch.
    pub initiated_secs: u64,
}

/// Read the facts of every upload under `uploads_dir` (blocking, at open). Damaged uploads
/// are left out.
fn scan_uploads_blocking(uploads_dir: &Path) -> io::Result<BTreeMap<UploadKey, SystemTime>> {
    let entries = match std::fs::read_dir(uploads_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    let mut uploads = BTreeMap::new();
    for entry in entries {
        let entry = entry?;
        let Some(upload_id) = entry
            .file_name()
            .to_str()
            .filter(|n| is_upload_id(n))
            .map(str::to_string)
        else {
            continue;
        };
        let bytes = match std::fs::read(entry.path().join(UPLOAD_FILE)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let Ok(facts) = serde_json::from_slice::<UploadFile>(&bytes) else {
            continue;
        };
        uploads.insert((facts.key, upload_id), join_time(facts.initiated_secs, 0));
    }
    Ok(uploads)
}

/// A bucket's settings file, or the defaults when it has none. A damaged file fails the open
/// loudly (and not as `InvalidData`, which would hide the whole bucket): it is only ever
/// replaced by an atomic rename, so damage means something outside mogr touched it, and
/// serving the bucket without its styles would silently change every styled URL.
fn load_settings_blocking(dir: &Path) -> io::Result<BucketSettings> {
    let path = dir.join(SETTINGS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BucketSettings::default()),
        Err(e) => return Err(e),
    };
    BucketSettings::from_json(&bytes)
        .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))
}

/// The subdirectories of `dir` (none if it is missing).
fn read_dirs(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}
