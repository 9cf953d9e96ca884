//! Crash-safe commits of several records at once.
//!
//! One rename is atomic, so a single record needs nothing more. A batch (Pic-Operations
//! outputs, or a multipart completion that must also retire its upload) is several renames,
//! and a crash between two of them would leave it half done. So a batch is first written
//! down as an intent: with every staged record already synced, the list of renames (staged
//! record -> place) and of upload directories to retire is written to a temp file, synced,
//! renamed into `journal/` and that directory synced. From then on the batch is bound to
//! complete: now, or at the next open, which replays every intent before it sweeps the
//! staging area or loads an index. Replaying is idempotent: a rename whose source is gone
//! was already done (sources are fresh random names in the staging area that nothing
//! reuses), and an upload directory that is gone was already retired.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use super::layout::Layout;
use super::writer::{stage_small_file, sync_dir};
use crate::Result;

/// Suffix of intent records.
const INTENT_EXT: &str = "json";

/// One rename of an intent, both paths relative to the data root.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Rename {
    from: String,
    to: String,
}

/// What a multi-record commit will do, in order.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Intent {
    /// Applied in order, so a later record for the same place wins.
    renames: Vec<Rename>,
    /// Upload directories (relative to the root) to retire once every rename is done.
    retire: Vec<String>,
}

/// An intent path that is not under the data root: a bug, never input.
fn outside_root(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is not under the data root", path.display()),
    )
}

/// A damaged or foreign intent record.
fn damaged(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("commit intent {}: {why}", path.display()),
    )
}

impl Intent {
    /// Add the rename of staged file `from` to `to`.
    pub(crate) fn rename(&mut self, layout: &Layout, from: &Path, to: &Path) -> io::Result<()> {
        let rename = Rename {
            from: layout.relative(from).ok_or_else(|| outside_root(from))?,
            to: layout.relative(to).ok_or_else(|| outside_root(to))?,
        };
        self.renames.push(rename);
        Ok(())
    }

    /// Add the retirement of upload directory `dir`.
    pub(crate) fn retire(&mut self, layout: &Layout, dir: &Path) -> io::Result<()> {
        self.retire
            .push(layout.relative(dir).ok_or_else(|| outside_root(dir))?);
        Ok(())
    }

    /// How many steps [`apply_blocking`] takes: each rename, then each retirement.
    pub(crate) fn steps(&self) -> usize {
        self.renames.len() + self.retire.len()
    }
}

/// Write `intent` durably into the journal; returns where it lives.
pub(crate) async fn record(layout: &Layout, intent: &Intent) -> Result<PathBuf> {
    let bytes = serde_json::to_vec(intent).map_err(io::Error::other)?;
    let staged = stage_small_file(layout, &bytes).await?;
    let path = layout.journal_path();
    tokio::fs::rename(staged.path(), &path).await?;
    staged.disarm();
    sync_dir(layout.journal_dir()).await?;
    Ok(path)
}

/// Drop an intent whose every step is done and durable. Failing only leaves an intent whose
/// replay at the next open changes nothing.
pub(crate) async fn forget(path: PathBuf) {
    let _ = tokio::fs::remove_file(path).await;
}

/// Why [`apply_blocking`] stopped early.
pub(crate) fn simulated_crash() -> io::Error {
    io::Error::other("simulated crash during a commit")
}

/// Do every step of `intent` that is not done yet and make it durable (blocking). Upload
/// directories are retired by moving them into the staging area; their paths are returned
/// for the caller to delete (the next open sweeps them otherwise). `stop_after`, for crash
/// tests, stops as a dying process would once that many steps are done.
pub(crate) fn apply_blocking(
    layout: &Layout,
    intent: &Intent,
    stop_after: Option<usize>,
) -> io::Result<Vec<PathBuf>> {
    let resolve = |relative: &str| {
        layout
            .resolve(relative)
            .ok_or_else(|| damaged(Path::new(relative), "path leaves the data root"))
    };
    let stop = |done: usize| stop_after.is_some_and(|n| n <= done);
    let mut dirs = BTreeSet::new();
    for (done, rename) in intent.renames.iter().enumerate() {
        if stop(done) {
            return Err(simulated_crash());
        }
        let (from, to) = (resolve(&rename.from)?, resolve(&rename.to)?);
        if !exists(&from)? {
            // Renamed before a crash: the intent is written only once all sources exist.
            continue;
        }
        if let Some(parent) = to.parent() {
            if !exists(parent)? {
                // Created before the intent, but perhaps not durably.
                std::fs::create_dir_all(parent)?;
                let under_root = parent
                    .ancestors()
                    .take_while(|d| d.starts_with(layout.root()));
                dirs.extend(under_root.map(Path::to_path_buf));
            }
            dirs.insert(parent.to_path_buf());
        }
        std::fs::rename(&from, &to)?;
        if let Some(parent) = from.parent() {
            dirs.insert(parent.to_path_buf());
        }
    }
    // Both ends: a source that came back after a crash would be renamed again by a replay.
    for dir in &dirs {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let mut graves = Vec::new();
    for (i, relative) in intent.retire.iter().enumerate() {
        if stop(intent.renames.len() + i) {
            return Err(simulated_crash());
        }
        let dir = resolve(relative)?;
        let grave = layout.tmp_path("gone");
        match std::fs::rename(&dir, &grave) {
            Ok(()) => graves.push(grave),
            // Retired before a crash, or aborted meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    if stop(intent.steps()) {
        return Err(simulated_crash());
    }
    Ok(graves)
}

/// Whether `path` exists (without following a final symlink).
fn exists(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Roll forward every intent left by a process that died mid-commit, oldest first, then
/// delete it (blocking; at open, before the staging area is swept). An intent that cannot be read stops the open: applying part of a batch, or
/// dropping its staged records, would break the all-or-nothing promise silently.
pub(crate) fn recover_blocking(layout: &Layout) -> io::Result<()> {
    let mut intents = Vec::new();
    for entry in std::fs::read_dir(layout.journal_dir())? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(INTENT_EXT) {
            intents.push(path);
        }
    }
    // Names begin with the creation time, so name order is the order the batches were made.
    intents.sort();
    for path in &intents {
        let bytes = std::fs::read(path)?;
        let intent: Intent = serde_json::from_slice(&bytes).map_err(|e| damaged(path, e))?;
        // Retired uploads moved into the staging area are deleted by the sweep that follows.
        apply_blocking(layout, &intent, None)?;
        std::fs::remove_file(path)?;
    }
    if !intents.is_empty() {
        std::fs::File::open(layout.journal_dir())?.sync_all()?;
    }
    Ok(())
}
