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
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::LazyLock;

/// Handles waiting to be closed; past this the caller closes its own, so a burst cannot
/// keep an unbounded number of files (and their blocks) alive.
const QUEUE: usize = 256;

static REAPER: LazyLock<Option<SyncSender<File>>> = LazyLock::new(|| {
    let (tx, rx) = sync_channel::<File>(QUEUE);
    std::thread::Builder::new()
        .name("mogr-reaper".into())
        .spawn(move || rx.into_iter().for_each(drop))
        .ok()?;
    Some(tx)
});

/// The file at `path`, held open so that renaming over it or unlinking it does not free it
/// yet; `None` if there is none (or it cannot be opened: then it is freed in place, as
/// without this).
pub(crate) fn hold(path: &Path) -> Option<File> {
    File::open(path).ok()
}

/// Closes `file` on the reaper thread, or here if the reaper is behind or did not start.
pub(crate) fn release(file: Option<File>) {
    let Some(file) = file else { return };
    match REAPER.as_ref() {
        Some(tx) => match tx.try_send(file) {
            Ok(()) => {}
            Err(TrySendError::Full(file) | TrySendError::Disconnected(file)) => drop(file),
        },
        None => drop(file),
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
