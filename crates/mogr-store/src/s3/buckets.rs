//! mogr buckets over the engine: each is a record under the reserved prefix (creation time
//! and ACL) and a top-level prefix of object keys. Records and settings are read on almost
//! every request, so each node caches them for [`CACHE_TTL`]: a change made through one
//! node is seen by every other node within that time.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::engine::Engine;
use super::layout;
use crate::types::{validate_bucket, Acl, BucketInfo, BucketSettings};
use crate::StoreError;

/// How long a node trusts what it read of a bucket's record or settings.
pub const CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    created_ms: u64,
    acl: String,
}

/// Bucket records and settings, read through a short cache.
#[derive(Default)]
pub(crate) struct Buckets {
    records: Mutex<HashMap<String, (Instant, BucketInfo)>>,
    settings: Mutex<HashMap<String, (Instant, BucketSettings)>>,
}

impl Buckets {
    /// The bucket's facts; `NoSuchBucket` if it has no record. Only existing buckets are
    /// cached, so a bucket created through another node is usable at once.
    pub(crate) async fn info(
        &self,
        engine: &Engine,
        bucket: &str,
    ) -> Result<BucketInfo, StoreError> {
        validate_bucket(bucket)?;
        if let Some(info) = fresh(&self.records, bucket) {
            return Ok(info);
        }
        let bytes = engine
            .get_small(&layout::bucket_record(bucket))
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        let info = parse_record(bucket, &bytes)?;
        remember(&self.records, bucket, info.clone());
        Ok(info)
    }

    /// Writes the bucket's record.
    pub(crate) async fn write(&self, engine: &Engine, info: &BucketInfo) -> Result<(), StoreError> {
        let record = Record {
            created_ms: info
                .created
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            acl: info.acl.as_str().to_string(),
        };
        let body = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        engine
            .put(&layout::bucket_record(&info.name), body.into(), None)
            .await?;
        remember(&self.records, &info.name, info.clone());
        Ok(())
    }

    /// Forgets the bucket (after deleting it).
    pub(crate) fn forget(&self, bucket: &str) {
        lock(&self.records).remove(bucket);
        lock(&self.settings).remove(bucket);
    }

    /// Every bucket, by name.
    pub(crate) async fn all(&self, engine: &Engine) -> Result<Vec<BucketInfo>, StoreError> {
        let prefix = layout::bucket_records();
        let mut out = Vec::new();
        for (key, _, _) in engine.list_all(&prefix).await? {
            let name = key.get(prefix.len()..).unwrap_or_default();
            match self.info(engine, name).await {
                Ok(info) => out.push(info),
                // Deleted since the listing.
                Err(StoreError::NoSuchBucket) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The bucket's settings (the defaults when it has none).
    pub(crate) async fn settings(
        &self,
        engine: &Engine,
        bucket: &str,
    ) -> Result<BucketSettings, StoreError> {
        self.info(engine, bucket).await?;
        if let Some(settings) = fresh(&self.settings, bucket) {
            return Ok(settings);
        }
        let settings = match engine.get_small(&layout::bucket_settings(bucket)).await? {
            Some(bytes) => BucketSettings::from_json(&bytes).map_err(|e| {
                StoreError::Io(std::io::Error::other(format!(
                    "settings of bucket {bucket}: {e}"
                )))
            })?,
            None => BucketSettings::default(),
        };
        remember(&self.settings, bucket, settings.clone());
        Ok(settings)
    }

    /// Replaces the bucket's settings (one PUT: readers see the old or the new document).
    pub(crate) async fn put_settings(
        &self,
        engine: &Engine,
        bucket: &str,
        settings: BucketSettings,
    ) -> Result<(), StoreError> {
        self.info(engine, bucket).await?;
        let body = settings.to_json().map_err(std::io::Error::other)?;
        engine
            .put(&layout::bucket_settings(bucket), body.into(), None)
            .await?;
        remember(&self.settings, bucket, settings);
        Ok(())
    }
}

fn parse_record(bucket: &str, bytes: &[u8]) -> Result<BucketInfo, StoreError> {
    let record: Record = serde_json::from_slice(bytes).map_err(|e| {
        StoreError::Io(std::io::Error::other(format!(
            "record of bucket {bucket}: {e}"
        )))
    })?;
    Ok(BucketInfo {
        name: bucket.to_string(),
        created: UNIX_EPOCH + Duration::from_millis(record.created_ms),
        acl: Acl::parse(&record.acl).unwrap_or_default(),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn fresh<T: Clone>(cache: &Mutex<HashMap<String, (Instant, T)>>, bucket: &str) -> Option<T> {
    lock(cache)
        .get(bucket)
        .filter(|(at, _)| at.elapsed() < CACHE_TTL)
        .map(|(_, v)| v.clone())
}

fn remember<T>(cache: &Mutex<HashMap<String, (Instant, T)>>, bucket: &str, value: T) {
    let mut map = lock(cache);
    // Bounded: stale entries go whenever the map grows past a few thousand buckets.
    if map.len() > 4096 {
        map.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
    }
    map.insert(bucket.to_string(), (Instant::now(), value));
}
