//! Streaming a body into a temp record while computing its MD5 and CRC-64, and the durable
//! file-system steps around publishing it.

use std::io;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::{AsyncWriteExt, BufWriter};

use super::layout::Layout;
use super::record::RecordHeader;
use crate::types::ByteStream;
use crate::{Result, StoreError};

/// Write buffer; large enough that the blocking pool sees few, big writes.
const WRITE_BUFFER: usize = 256 * 1024;

/// A staged file that is deleted when dropped unless it was published.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// Track `path` for deletion.
    pub(crate) fn new(path: PathBuf) -> TempFile {
        TempFile { path, armed: true }
    }

    /// The staged file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Forget the file: it has been renamed into place.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // An unlink is quick; failing it only leaves garbage that open() sweeps later.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Digests of a written body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDigests {
    /// MD5 of the body.
    pub md5: [u8; 16],
    /// CRC-64/XZ of the body.
    pub crc64: u64,
    /// Bytes written.
    pub size: u64,
}

/// A record being written to the staging directory.
pub(crate) struct RecordWriter {
    file: BufWriter<tokio::fs::File>,
    temp: TempFile,
    md5: Md5,
    crc: crc::Digest<'static, u64, crc::Table<16>>,
    size: u64,
}

impl RecordWriter {
    /// Start a new temp record.
    pub(crate) async fn create(layout: &Layout) -> Result<RecordWriter> {
        let path = layout.tmp_path("tmp");
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(RecordWriter {
            file: BufWriter::with_capacity(WRITE_BUFFER, file),
            temp: TempFile::new(path),
            md5: Md5::new(),
            crc: crate::CRC64.digest(),
            size: 0,
        })
    }

    /// Append body bytes; large inputs are hashed slice by slice, with a write (and so a
    /// chance to yield) between slices, so one big chunk never holds the runtime thread long.
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<()> {
        for slice in data.chunks(WRITE_BUFFER) {
            self.md5.update(slice);
            self.crc.update(slice);
            self.size += slice.len() as u64;
            self.file.write_all(slice).await?;
        }
        Ok(())
    }

    /// Append a whole stream, chunk by chunk.
    pub(crate) async fn write_stream(&mut self, mut body: ByteStream) -> Result<()> {
        while let Some(chunk) = body.next().await {
            self.write(&chunk?).await?;
        }
        Ok(())
    }

    /// Digests of the body written so far.
    pub(crate) fn digests(&self) -> BodyDigests {
        BodyDigests {
            md5: self.md5.clone().finalize().into(),
            crc64: self.crc.clone().finalize(),
            size: self.size,
        }
    }

    /// Fail with `BadDigest` if the body's MD5 is not `expected`.
    pub(crate) fn check_md5(&self, expected: Option<[u8; 16]>) -> Result<()> {
        match expected {
            Some(want) if want != self.digests().md5 => Err(StoreError::BadDigest),
            _ => Ok(()),
        }
    }

    /// Append the trailer and make the file durable; it stays staged until renamed.
    pub(crate) async fn seal(mut self, header: &RecordHeader) -> Result<TempFile> {
        let trailer = header.encode_trailer()?;
        self.file.write_all(&trailer).await?;
        self.file.flush().await?;
        let file = self.file.into_inner();
        file.sync_all().await?;
        Ok(self.temp)
    }
}

/// Make a directory's entries durable (after a rename, create or unlink inside it).
pub(crate) async fn sync_dir(dir: PathBuf) -> Result<()> {
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(|e| StoreError::Io(io::Error::other(e)))??;
    Ok(())
}

/// How many directory syncs run at once.
const SYNC_CONCURRENCY: usize = 16;

/// Make several directories durable, each once.
pub(crate) async fn sync_dirs(mut dirs: Vec<PathBuf>) -> Result<()> {
    use futures::TryStreamExt;
    dirs.sort();
    dirs.dedup();
    futures::stream::iter(dirs.into_iter().map(sync_dir))
        .buffer_unordered(SYNC_CONCURRENCY)
        .try_collect::<()>()
        .await
}

/// Create `dir` (and missing parents); returns the directories whose entries changed and so
/// need a sync.
pub(crate) async fn ensure_dir(dir: &Path, stop_at: &Path) -> Result<Vec<PathBuf>> {
    if tokio::fs::metadata(dir).await.is_ok() {
        return Ok(Vec::new());
    }
    tokio::fs::create_dir_all(dir).await?;
    let mut changed = Vec::new();
    let mut current = dir.parent();
    while let Some(parent) = current {
        changed.push(parent.to_path_buf());
        if parent == stop_at {
            break;
        }
        current = parent.parent();
    }
    changed.push(dir.to_path_buf());
    Ok(changed)
}

/// Remove a directory tree: first renamed into the staging area so it vanishes atomically
/// (a concurrent writer renaming into it then fails cleanly), then deleted.
pub(crate) async fn remove_tree(layout: &Layout, dir: &Path) -> Result<()> {
    let grave = layout.tmp_path("gone");
    tokio::fs::rename(dir, &grave).await?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent.to_path_buf()).await?;
    }
    // The tree is already invisible; leftovers are swept from the staging area at open.
    let _ = tokio::fs::remove_dir_all(&grave).await;
    Ok(())
}

/// Stage a small file (bucket or upload facts) durably; it stays staged until renamed.
pub(crate) async fn stage_small_file(layout: &Layout, bytes: &[u8]) -> Result<TempFile> {
    let path = layout.tmp_path("tmp");
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await?;
    let temp = TempFile::new(path);
    file.write_all(bytes).await?;
    file.sync_all().await?;
    Ok(temp)
}
