//! The in-memory index of entries on disk: their sizes and least-recently-used order.
//!
//! Rebuilt after a restart by a background scan that adds what it finds as older than
//! anything used since; until it is done, lookups go to the disk directly, so the index only
//! decides what to evict, never whether an entry exists.

use std::collections::{BTreeMap, HashMap};

use super::key::VariantId;

/// One indexed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Source bucket (the entry's folder).
    pub bucket: String,
    /// Bytes the file takes.
    pub size: u64,
    tick: i64,
}

/// Entries by id, plus their use order.
#[derive(Debug, Default)]
pub struct Index {
    entries: HashMap<VariantId, Slot>,
    order: BTreeMap<i64, VariantId>,
    bytes: u64,
    next_tick: i64,
    oldest_tick: i64,
}

impl Index {
    /// Total bytes of indexed entries.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Number of indexed entries.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Marks `id` as just used; false if it is not indexed.
    pub fn touch(&mut self, id: &VariantId) -> bool {
        let tick = self.tick();
        let Some(slot) = self.entries.get_mut(id) else {
            return false;
        };
        self.order.remove(&slot.tick);
        slot.tick = tick;
        self.order.insert(tick, *id);
        true
    }

    /// Adds (or replaces) `id` as the most recently used entry.
    pub fn insert(&mut self, id: VariantId, bucket: &str, size: u64) {
        let tick = self.tick();
        self.put(id, bucket, size, tick);
    }

    /// Adds `id` as older than every entry so far, unless it is already indexed (an entry
    /// found by the restart scan must not look fresher than one used since).
    pub fn insert_old(&mut self, id: VariantId, bucket: &str, size: u64) {
        if self.entries.contains_key(&id) {
            return;
        }
        self.oldest_tick -= 1;
        let tick = self.oldest_tick;
        self.put(id, bucket, size, tick);
    }

    fn put(&mut self, id: VariantId, bucket: &str, size: u64, tick: i64) {
        self.remove(&id);
        self.entries.insert(
            id,
            Slot {
                bucket: bucket.to_string(),
                size,
                tick,
            },
        );
        self.order.insert(tick, id);
        self.bytes += size;
    }

    /// Forgets `id`; returns its slot if it was indexed.
    pub fn remove(&mut self, id: &VariantId) -> Option<Slot> {
        let slot = self.entries.remove(id)?;
        self.order.remove(&slot.tick);
        self.bytes -= slot.size;
        Some(slot)
    }

    /// Removes and returns the least recently used entry.
    pub fn pop_oldest(&mut self) -> Option<(VariantId, Slot)> {
        let (_, id) = self.order.pop_first()?;
        let slot = self.entries.remove(&id)?;
        self.bytes -= slot.size;
        Some((id, slot))
    }

    /// Forgets every entry of `bucket` (after a purge of the whole bucket).
    pub fn remove_bucket(&mut self, bucket: &str) {
        let gone: Vec<VariantId> = self
            .entries
            .iter()
            .filter(|(_, s)| s.bucket == bucket)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.remove(&id);
        }
    }

    fn tick(&mut self) -> i64 {
        self.next_tick += 1;
        self.next_tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> VariantId {
        VariantId([n; 32])
    }

    #[test]
    fn evicts_least_recently_used_and_counts_bytes() {
        let mut ix = Index::default();
        ix.insert(id(1), "b", 10);
        ix.insert(id(2), "b", 20);
        ix.insert(id(3), "c", 30);
        assert_eq!(ix.bytes(), 60);
        assert!(ix.touch(&id(1)));
        assert_eq!(ix.pop_oldest().map(|(i, _)| i), Some(id(2)));
        assert_eq!(ix.bytes(), 40);
        // Found by the restart scan: older than everything, and never over a live entry.
        ix.insert_old(id(4), "b", 5);
        ix.insert_old(id(3), "c", 999);
        assert_eq!(ix.bytes(), 45);
        assert_eq!(ix.pop_oldest().map(|(i, _)| i), Some(id(4)));
        ix.insert(id(1), "b", 11);
        assert_eq!(ix.bytes(), 41);
        assert_eq!(ix.count(), 2);
        ix.remove_bucket("c");
        assert_eq!(ix.bytes(), 11);
        assert_eq!(ix.pop_oldest().map(|(i, _)| i), Some(id(1)));
        assert!(ix.pop_oldest().is_none());
        assert_eq!(ix.count(), 0);
        assert!(!ix.touch(&id(9)));
    }
}
