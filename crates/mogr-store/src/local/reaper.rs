//! Replaced and deleted object files, let go in the background.
//!
//! When the last link and the last handle of a file go, the file system frees its blocks;
//! on ext4 that took 1-2 ms for a 1 MiB object while uploads were being written, and under
//! the bucket's gate it held up every other write to the bucket. A write that replaces (or
//! a delete that removes) an object opens the old file first, so the rename or unlink only
//! drops a link, and hands the handle here; one thread closes it later, off the gate and off
//! the request.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::LazyLock;

/// Handles waiting to be closed; past this the caller closes its own, so a burst of
/// overwrites or deletes keeps few descriptors open.
const QUEUE: usize = 32;
/// Bytes of deleted or replaced objects the queue may keep allocated on disk; past this the
/// caller frees its own (a client that deletes to make room must get it back soon).
const QUEUE_BYTES: u64 = 1 << 30;

/// Bytes of the files in the queue.
static QUEUED_BYTES: AtomicU64 = AtomicU64::new(0);

static REAPER: LazyLock<Option<SyncSender<(File, u64)>>> = LazyLock::new(|| {
    let (tx, rx) = sync_channel::<(File, u64)>(QUEUE);
    std::thread::Builder::new()
        .name("mogr-reaper".into())
        .spawn(move || {
            for (file, bytes) in rx {
                drop(file);
                QUEUED_BYTES.fetch_sub(bytes, Ordering::Relaxed);
            }
        })
        .ok()?;
    Some(tx)
});

/// The file at `path`, held open so that renaming over it or unlinking it does not free it
/// yet; `None` if there is none (or it cannot be opened: then it is freed in place, as
/// without this).
pub(crate) fn hold(path: &Path) -> Option<File> {
    File::open(path).ok()
}

/// Closes `file` on the reaper thread, or here if the reaper is behind (by count or bytes)
/// or did not start. Call it after letting the bucket's gate go: closing here may free the
/// file's blocks.
pub(crate) fn release(file: Option<File>) {
    let Some(file) = file else { return };
    let Some(tx) = REAPER.as_ref() else { return };
    let bytes = file.metadata().map_or(0, |m| m.len());
    if QUEUED_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes > QUEUE_BYTES {
        QUEUED_BYTES.fetch_sub(bytes, Ordering::Relaxed);
        return;
    }
    if let Err(TrySendError::Full((file, bytes)) | TrySendError::Disconnected((file, bytes))) =
        tx.try_send((file, bytes))
    {
        drop(file);
        QUEUED_BYTES.fetch_sub(bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_file_outlives_its_name_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old");
        std::fs::write(&path, b"old bytes").unwrap();
        let held = hold(&path);
        std::fs::write(dir.path().join("new"), b"new").unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        let mut file = held.as_ref().unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert_eq!(text, "old bytes");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        release(held);
        assert!(hold(&dir.path().join("missing")).is_none());
    }
}
