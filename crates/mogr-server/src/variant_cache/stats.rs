//! Counters of the variant cache, readable while the server runs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Running counts; every field only grows.
#[derive(Debug, Default)]
pub struct CacheCounters {
    /// Requests answered from a stored entry.
    pub hits: AtomicU64,
    /// Requests that found no usable entry.
    pub misses: AtomicU64,
    /// Requests answered by another request's computation of the same variant.
    pub shared: AtomicU64,
    /// Times the engine ran for processing on download (cached or not).
    pub engine_runs: AtomicU64,
    /// Entries written.
    pub stores: AtomicU64,
    /// Entries evicted to stay under the byte bound.
    pub evictions: AtomicU64,
    /// Entries dropped because they failed their length or checksum check.
    pub corrupt: AtomicU64,
}

impl CacheCounters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A copy of the counters and the current size, for metrics and the CLI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// See [`CacheCounters::hits`].
    pub hits: u64,
    /// See [`CacheCounters::misses`].
    pub misses: u64,
    /// See [`CacheCounters::shared`].
    pub shared: u64,
    /// See [`CacheCounters::engine_runs`].
    pub engine_runs: u64,
    /// See [`CacheCounters::stores`].
    pub stores: u64,
    /// See [`CacheCounters::evictions`].
    pub evictions: u64,
    /// See [`CacheCounters::corrupt`].
    pub corrupt: u64,
    /// Entries currently indexed.
    pub entries: u64,
    /// Bytes currently indexed.
    pub bytes: u64,
    /// The byte bound (0: the cache is off).
    pub max_bytes: u64,
}

impl CacheCounters {
    /// The counters now, with the index's size and bound.
    pub fn snapshot(&self, entries: u64, bytes: u64, max_bytes: u64) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            shared: get(&self.shared),
            engine_runs: get(&self.engine_runs),
            stores: get(&self.stores),
            evictions: get(&self.evictions),
            corrupt: get(&self.corrupt),
            entries,
            bytes,
            max_bytes,
        }
    }
}
