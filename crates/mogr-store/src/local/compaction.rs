//! Folding a bucket's change log into a new snapshot, in the background, once the log has
//! grown: the log (and so the replay at the next open) stays short.

use std::io;
use std::sync::Arc;

use super::bucket::{write_snapshot_blocking, Bucket};
use super::LocalStore;

impl LocalStore {
    /// Start writing a new snapshot of `bucket` if its log is due for one and no snapshot
    /// is being written already. Returns at once.
    pub(crate) fn schedule_compaction(&self, bucket: &Arc<Bucket>) {
        if !bucket.claim_compaction() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            bucket.compaction_done();
            return;
        };
        let (bucket, boot) = (bucket.clone(), self.boot.clone());
        runtime.spawn(async move {
            // A failure leaves the previous snapshot and every log since: still complete.
            let _ = compact(&bucket, boot).await;
            bucket.compaction_done();
        });
    }
}

/// Rotate the log under the gate (so the copy of the index and the new log meet exactly),
/// then write the copy as the snapshot the new log starts from, outside the gate.
async fn compact(bucket: &Arc<Bucket>, boot: String) -> io::Result<()> {
    let gate = bucket.gate.lock().await;
    if gate.deleted {
        return Ok(());
    }
    let rotating = bucket.clone();
    let (generation, copy) = tokio::task::spawn_blocking(move || rotating.rotate_blocking(&boot))
        .await
        .map_err(io::Error::other)??;
    drop(gate);
    let dir = bucket.index_dir();
    tokio::task::spawn_blocking(move || write_snapshot_blocking(&dir, generation, &copy))
        .await
        .map_err(io::Error::other)?
}
