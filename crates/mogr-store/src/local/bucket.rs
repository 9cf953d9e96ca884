//! A bucket's in-memory state (facts, key index, publish gate) and how it is loaded from disk.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use super::layout::{BUCKET_FILE, OBJECTS_DIR, OBJECT_EXT, SETTINGS_FILE};
use super::record::{self, RecordHeader};
use crate::types::{Acl, BucketInfo, BucketSettings, ObjectAttrs, ObjectMeta};

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

    /// Listing metadata (listings carry no HTTP attributes).
    pub(crate) fn to_meta(&self, key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            size: self.size,
            etag: self.etag.clone(),
            crc64: self.crc64,
            last_modified: self.last_modified,
            attrs: ObjectAttrs::default(),
        }
    }
}

/// Held while changing which records are published in a bucket, so the index and the
/// directory tree change in the same order.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// The bucket was deleted; late writers must not recreate its directories.
    pub deleted: bool,
}

/// A live bucket.
#[derive(Debug)]
pub(crate) struct Bucket {
    /// `name-appid`.
    pub name: String,
    info: Mutex<BucketInfo>,
    settings: Mutex<BucketSettings>,
    index: RwLock<BTreeMap<String, IndexEntry>>,
    /// Serialises publishes, deletes and bucket removal.
    pub gate: tokio::sync::Mutex<Gate>,
}

impl Bucket {
    /// A bucket with the given facts and index.
    pub(crate) fn new(
        info: BucketInfo,
        settings: BucketSettings,
        index: BTreeMap<String, IndexEntry>,
    ) -> Bucket {
        Bucket {
            name: info.name.clone(),
            info: Mutex::new(info),
            settings: Mutex::new(settings),
            index: RwLock::new(index),
            gate: tokio::sync::Mutex::new(Gate::default()),
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

/// Load a bucket directory with blocking I/O: its facts and an index of every readable record.
/// Damaged records are left on disk and out of the index rather than failing the whole store.
pub(crate) fn load_bucket_blocking(name: &str, dir: &Path) -> io::Result<Bucket> {
    let info = BucketFile::decode(name, &std::fs::read(dir.join(BUCKET_FILE))?)?;
    let settings = load_settings_blocking(dir)?;
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
    Ok(Bucket::new(info, settings, index))
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
