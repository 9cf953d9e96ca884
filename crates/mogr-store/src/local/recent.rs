//! Metadata of recently read records, so a HEAD (and a processed download, which needs the
//! source's ETag, `Cache-Control` and `Last-Modified` before it reads a cached output) does
//! not open the record file each time.
//!
//! Nothing here is ever trusted on its own: an entry is used only when it names the very
//! version the key index holds now (size, ETag, CRC-64 and write time to the nanosecond),
//! and the index changes with every publish and delete. So an entry cannot outlive an
//! overwrite or a delete, and no write path has to remember to invalidate it.
//!
//! Bounded by entry count with two generations: new entries go into the young map; when it
//! is full it becomes the old map (the previous old map is dropped), and a hit in the old
//! map moves the entry back to the young one. Recently used records stay, at O(1) per call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use super::bucket::IndexEntry;
use crate::types::ObjectMeta;

/// Entries per generation: at most twice this many records are remembered. Keys are at most
/// 850 bytes and user metadata is bounded by the HTTP layer, so this stays a few MiB.
const GENERATION: usize = 1024;

/// (bucket, key).
type Slot = (String, String);

/// The version of a record the key index names; what a remembered record must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    size: u64,
    etag: String,
    crc64: u64,
    last_modified: SystemTime,
}

impl Version {
    /// The version an index entry names.
    pub(crate) fn of(entry: &IndexEntry) -> Version {
        Version {
            size: entry.size,
            etag: entry.etag.clone(),
            crc64: entry.crc64,
            last_modified: entry.last_modified,
        }
    }

    /// Whether `meta` describes this version.
    fn matches(&self, meta: &ObjectMeta) -> bool {
        meta.size == self.size
            && meta.crc64 == self.crc64
            && meta.last_modified == self.last_modified
            && meta.etag == self.etag
    }
}

/// Bounded memory of recently read record metadata.
#[derive(Debug, Default)]
pub(crate) struct RecentRecords {
    maps: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<Slot, Arc<ObjectMeta>>,
    old: HashMap<Slot, Arc<ObjectMeta>>,
}

impl RecentRecords {
    /// The remembered metadata of `bucket`/`key` if it is of version `version`.
    pub(crate) fn get(&self, bucket: &str, key: &str, version: &Version) -> Option<ObjectMeta> {
        let slot = (bucket.to_string(), key.to_string());
        let mut maps = self.lock();
        if let Some(meta) = maps.young.get(&slot) {
            return version.matches(meta).then(|| (**meta).clone());
        }
        let meta = maps.old.remove(&slot)?;
        if !version.matches(&meta) {
            return None;
        }
        let found = (*meta).clone();
        maps.insert(slot, meta);
        Some(found)
    }

    /// Remembers `meta` as `bucket`/`key`'s metadata, if it is of version `version` (the
    /// record read from disk may already be newer than the index entry looked up before).
    pub(crate) fn remember(&self, bucket: &str, key: &str, version: &Version, meta: &ObjectMeta) {
        if !version.matches(meta) {
            return;
        }
        let slot = (bucket.to_string(), key.to_string());
        self.lock().insert(slot, Arc::new(meta.clone()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        // Maps are changed by single inserts and removes: a panic cannot leave them torn.
        self.maps.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Generations {
    fn insert(&mut self, slot: Slot, meta: Arc<ObjectMeta>) {
        if self.young.len() >= GENERATION && !self.young.contains_key(&slot) {
            self.old = std::mem::take(&mut self.young);
        }
        self.old.remove(&slot);
        self.young.insert(slot, meta);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn meta(key: &str, etag: &str, at: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            size: 3,
            etag: etag.to_string(),
            crc64: 7,
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_nanos(at),
            attrs: Default::default(),
        }
    }

    fn version(m: &ObjectMeta) -> Version {
        Version {
            size: m.size,
            etag: m.etag.clone(),
            crc64: m.crc64,
            last_modified: m.last_modified,
        }
    }

    #[test]
    fn answers_only_the_version_the_index_names() {
        let recent = RecentRecords::default();
        let mut first = meta("k", "e1", 1);
        first.attrs.cache_control = Some("max-age=1".into());
        recent.remember("b", "k", &version(&first), &first);
        assert_eq!(recent.get("b", "k", &version(&first)), Some(first.clone()));
        assert_eq!(recent.get("other", "k", &version(&first)), None);

        // Same bytes rewritten a nanosecond later (new attributes): not the remembered one.
        let second = meta("k", "e1", 2);
        assert_eq!(recent.get("b", "k", &version(&second)), None);
        // A record newer than the index entry looked up first is not remembered for it.
        recent.remember("b", "k", &version(&first), &second);
        assert_eq!(recent.get("b", "k", &version(&second)), None);
    }

    #[test]
    fn stays_bounded_and_keeps_what_is_used() {
        let recent = RecentRecords::default();
        let hot = meta("hot", "e", 1);
        recent.remember("b", "hot", &version(&hot), &hot);
        for i in 0..GENERATION * 5 {
            let m = meta(&format!("k{i}"), "e", 1);
            recent.remember("b", &m.key, &version(&m), &m);
            // Used now and then, so it keeps coming back to the young generation.
            if i % (GENERATION / 2) == 0 {
                assert_eq!(recent.get("b", "hot", &version(&hot)), Some(hot.clone()));
            }
            assert!(recent.lock().len() <= 2 * GENERATION);
        }
        assert_eq!(recent.get("b", "hot", &version(&hot)), Some(hot.clone()));
        assert_eq!(recent.get("b", "k0", &version(&meta("k0", "e", 1))), None);
    }
}
