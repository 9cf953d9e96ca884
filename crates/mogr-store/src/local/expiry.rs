//! Aborting multipart uploads nobody finished: a background task drops every upload older
//! than the configured age, parts and all, as an Abort Multipart Upload would.

use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use super::LocalStore;

/// Longest pause between two sweeps, however long the age.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(600);
/// Shortest pause between two sweeps, however short the age.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_millis(100);

impl LocalStore {
    /// Abort every upload initiated more than `max_age` ago; returns how many were aborted.
    pub async fn expire_uploads(&self, max_age: Duration) -> usize {
        let Some(cutoff) = SystemTime::now().checked_sub(max_age) else {
            return 0;
        };
        let buckets: Vec<_> = self
            .buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut aborted = 0;
        for bucket in buckets {
            let expired: Vec<(String, String)> = bucket
                .uploads()
                .iter()
                .filter(|(_, initiated)| **initiated <= cutoff)
                .map(|(upload, _)| upload.clone())
                .collect();
            for (key, upload_id) in expired {
                // One completed, aborted or deleted meanwhile is simply gone; one that failed
                // to abort is tried again at the next sweep.
                let done = self
                    .abort_multipart_impl(&bucket.name, &key, &upload_id)
                    .await;
                aborted += usize::from(done.is_ok());
            }
        }
        aborted
    }

    /// Run [`LocalStore::expire_uploads`] in the background, often enough that an upload
    /// outlives `max_age` by at most about an eighth of it (and ten minutes). The task ends
    /// when the store is dropped. Call from within a Tokio runtime.
    pub fn spawn_upload_expiry(self: &Arc<Self>, max_age: Duration) -> tokio::task::JoinHandle<()> {
        let store: Weak<LocalStore> = Arc::downgrade(self);
        let interval = (max_age / 8).clamp(MIN_SWEEP_INTERVAL, MAX_SWEEP_INTERVAL);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(store) = store.upgrade() else {
                    return;
                };
                store.expire_uploads(max_age).await;
            }
        })
    }
}
