//! Walking the entry folders: the restart scan, usage figures and purges.
//!
//! These work on the folder alone, so the CLI can run them while a server uses the same
//! cache: a purged entry is a miss for the server, and its index forgets it on the next
//! look-up or eviction.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::entry::{self, EntryError};
use super::key::VariantId;
use super::{mtime_secs, safe_bucket, ENTRIES_DIR, TMP_DIR};

/// An entry found on disk.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its id (the file name).
    pub id: VariantId,
    /// Its bucket folder.
    pub bucket: String,
    /// Bytes on disk.
    pub size: u64,
    /// Last modification, seconds since the epoch.
    pub mtime: u64,
    /// The file.
    pub path: PathBuf,
}

/// Entries and bytes of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Entries.
    pub entries: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

/// What a purge removed.
#[derive(Debug, Default)]
pub struct Purged {
    /// Entries removed, with their sizes.
    pub removed: Vec<(VariantId, u64)>,
}

impl Purged {
    /// Entries removed.
    pub fn entries(&self) -> u64 {
        self.removed.len() as u64
    }

    /// Bytes freed.
    pub fn bytes(&self) -> u64 {
        self.removed.iter().map(|(_, s)| s).sum()
    }
}

fn dirs(path: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    read.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect()
}

/// Every entry file of one bucket folder (names that are not ids are skipped).
fn bucket_entries(bucket: &str, dir: &Path) -> Vec<Found> {
    let mut out = Vec::new();
    for (_, fan) in dirs(dir) {
        let Ok(read) = std::fs::read_dir(&fan) else {
            continue;
        };
        for e in read.filter_map(Result::ok) {
            let (Some(id), Ok(meta)) = (
                e.file_name().to_str().and_then(VariantId::from_hex),
                e.metadata(),
            ) else {
                continue;
            };
            if meta.is_file() {
                out.push(Found {
                    id,
                    bucket: bucket.to_string(),
                    size: meta.len(),
                    mtime: mtime_secs(&meta),
                    path: e.path(),
                });
            }
        }
    }
    out
}

/// Every entry under `entries` (the cache's entry folder), newest first.
pub fn scan(entries: &Path) -> Vec<Found> {
    let mut all: Vec<Found> = dirs(entries)
        .into_iter()
        .filter(|(b, _)| safe_bucket(b))
        .flat_map(|(b, dir)| bucket_entries(&b, &dir))
        .collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.mtime));
    all
}

/// Entries and bytes per bucket, for the cache folder `cache_dir`.
pub fn usage(cache_dir: &Path) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for f in scan(&cache_dir.join(ENTRIES_DIR)) {
        let u = out.entry(f.bucket).or_default();
        u.entries += 1;
        u.bytes += f.size;
    }
    out
}

/// Purges the cache folder `cache_dir` (see [`purge`]).
pub fn purge_dir(cache_dir: &Path, bucket: Option<&str>, prefix: &str) -> io::Result<Purged> {
    let tmp = cache_dir.join(TMP_DIR);
    std::fs::create_dir_all(&tmp)?;
    purge(&cache_dir.join(ENTRIES_DIR), &tmp, bucket, prefix)
}

/// Removes the entries of `bucket` (every bucket when `None`) whose source key starts with
/// `prefix`. Without a prefix a bucket's folder is renamed away first, so it vanishes at
/// once; with one, each entry's header is read to learn its key.
pub(super) fn purge(
    entries: &Path,
    tmp: &Path,
    bucket: Option<&str>,
    prefix: &str,
) -> io::Result<Purged> {
    let buckets: Vec<(String, PathBuf)> = match bucket {
        Some(b) if !safe_bucket(b) => return Ok(Purged::default()),
        Some(b) => vec![(b.to_string(), entries.join(b))],
        None => dirs(entries)
            .into_iter()
            .filter(|(b, _)| safe_bucket(b))
            .collect(),
    };
    let mut purged = Purged::default();
    for (name, dir) in buckets {
        if prefix.is_empty() {
            let grave = tmp.join(format!("gone-{name}-{}", std::process::id()));
            match std::fs::rename(&dir, &grave) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            purged.removed.extend(
                bucket_entries(&name, &grave)
                    .into_iter()
                    .map(|f| (f.id, f.size)),
            );
            std::fs::remove_dir_all(&grave)?;
            continue;
        }
        for f in bucket_entries(&name, &dir) {
            let matches = match entry::read_head(&f.path, None, entry::Reach::Disk) {
                Ok(h) => h.key.starts_with(prefix),
                // A damaged entry would be dropped on its next read anyway.
                Err(EntryError::Damaged(_)) => true,
                Err(_) => false,
            };
            if matches && std::fs::remove_file(&f.path).is_ok() {
                purged.removed.push((f.id, f.size));
            }
        }
    }
    Ok(purged)
}
