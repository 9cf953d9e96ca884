//! Streaming a body into a temp record while computing its MD5 and CRC-64, and the durable
//! file-system steps around publishing it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use futures::StreamExt;
use std::io::Write;

use tokio::io::AsyncWriteExt;

use super::layout::Layout;
use super::record::RecordHeader;
use crate::types::ByteStream;
use crate::Md5Stream;
use crate::{Result, StoreError};

/// Write buffer; large enough that the blocking pool sees few, big writes.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Write buffers of finished uploads kept for the next ones, at most this many (16 MiB when
/// idle): a fresh 1 MiB buffer costs 256 page faults, each page zeroed by the kernel, about
/// 3 % of a 1 MiB PUT's CPU.
const SPARE_BUFFERS: usize = 16;

static SPARES: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty write buffer, reused if one is spare.
fn take_buffer() -> Vec<u8> {
    let spare = SPARES.lock().unwrap_or_else(PoisonError::into_inner).pop();
    spare.unwrap_or_else(|| Vec::with_capacity(WRITE_BUFFER))
}

/// Keeps `buf` for the next upload if there is room among the spares.
fn give_buffer(mut buf: Vec<u8>) {
    if buf.capacity() != WRITE_BUFFER {
        return;
    }
    buf.clear();
    let mut spares = SPARES.lock().unwrap_or_else(PoisonError::into_inner);
    if spares.len() < SPARE_BUFFERS {
        spares.push(buf);
    }
}

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

/// The file and the running digests; moved to a blocking thread for each flush.
struct Sink {
    path: PathBuf,
    /// Created by the first write, on a blocking thread that writes anyway.
    file: Option<std::fs::File>,
    md5: Md5Stream,
    crc: crate::Crc64,
}

impl Sink {
    /// The temp file, created on first use.
    fn file(&mut self) -> io::Result<&mut std::fs::File> {
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.path)?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("temp record not open"))
    }

    /// Hashes and writes `data` and hands the buffer back (on a blocking thread: both are
    /// CPU or disk work). The MD5 of a large buffer may be computed side by side with other
    /// uploads' (see `Md5Stream::update_owned`).
    fn absorb(&mut self, data: Vec<u8>) -> io::Result<Vec<u8>> {
        self.crc.update(&data);
        self.file()?.write_all(&data)?;
        Ok(self.md5.update_owned(data))
    }

    fn digests(&self, size: u64) -> BodyDigests {
        BodyDigests {
            md5: self.md5.finalize(),
            crc64: self.crc.value(),
            size,
        }
    }

    /// Appends the trailer and makes the file durable.
    fn seal(&mut self, trailer: &[u8]) -> io::Result<()> {
        let file = self.file()?;
        file.write_all(trailer)?;
        file.sync_all()
    }
}

/// A record being written to the staging directory.
///
/// Bytes are gathered into a large buffer and handed to the blocking pool a buffer at a
/// time, where they are hashed and written: the async runtime never hashes, and a 1 MiB
/// upload costs one trip to the pool instead of one per network chunk.
pub(crate) struct RecordWriter {
    /// `None` only if a flush failed half-way (the writer is then unusable).
    sink: Option<Sink>,
    buf: Vec<u8>,
    temp: TempFile,
    size: u64,
}

fn broken() -> StoreError {
    StoreError::Io(io::Error::other("record writer failed earlier"))
}

impl RecordWriter {
    /// Start a new temp record (the file itself is created by the first write).
    pub(crate) async fn create(layout: &Layout) -> Result<RecordWriter> {
        let path = layout.tmp_path("tmp");
        Ok(RecordWriter {
            sink: Some(Sink {
                path: path.clone(),
                file: None,
                md5: Md5Stream::new(),
                crc: crate::Crc64::new(),
            }),
            buf: take_buffer(),
            temp: TempFile::new(path),
            size: 0,
        })
    }

    /// Append body bytes; every full buffer is hashed and written off the runtime.
    pub(crate) async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            // A full buffer is flushed only when more comes, so a body of exactly one buffer
            // is written with its trailer in one trip (`finish`).
            if self.buf.len() >= WRITE_BUFFER {
                self.flush().await?;
            }
            let room = WRITE_BUFFER - self.buf.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            self.size += now.len() as u64;
            data = later;
        }
        Ok(())
    }

    /// Hashes and writes the buffered bytes on a blocking thread.
    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut sink = self.sink.take().ok_or_else(broken)?;
        let buf = std::mem::take(&mut self.buf);
        let (sink, buf) = tokio::task::spawn_blocking(move || {
            let mut buf = sink.absorb(buf)?;
            buf.clear();
            Ok::<_, io::Error>((sink, buf))
        })
        .await
        .map_err(io::Error::other)??;
        self.sink = Some(sink);
        self.buf = buf;
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
    pub(crate) async fn digests(&mut self) -> Result<BodyDigests> {
        self.flush().await?;
        let sink = self.sink.as_ref().ok_or_else(broken)?;
        Ok(sink.digests(self.size))
    }

    /// Writes what is buffered, checks the body's MD5 against `expected` (`BadDigest`),
    /// appends the trailer `header_of` makes from the digests and makes the file durable:
    /// the end of an upload in one trip to the blocking pool.
    pub(crate) async fn finish(
        mut self,
        expected: Option<[u8; 16]>,
        header_of: impl FnOnce(BodyDigests) -> RecordHeader + Send + 'static,
    ) -> Result<(RecordHeader, TempFile)> {
        let mut sink = self.sink.take().ok_or_else(broken)?;
        let (buf, size) = (std::mem::take(&mut self.buf), self.size);
        let header = tokio::task::spawn_blocking(move || {
            give_buffer(sink.absorb(buf)?);
            let digests = sink.digests(size);
            if expected.is_some_and(|want| want != digests.md5) {
                return Err(StoreError::BadDigest);
            }
            let header = header_of(digests);
            sink.seal(&header.encode_trailer()?)?;
            Ok(header)
        })
        .await
        .map_err(io::Error::other)??;
        Ok((header, self.temp))
    }

    /// Fail with `BadDigest` if the body's MD5 is not `expected`.
    pub(crate) async fn check_md5(&mut self, expected: Option<[u8; 16]>) -> Result<()> {
        match expected {
            Some(want) if want != self.digests().await?.md5 => Err(StoreError::BadDigest),
            _ => Ok(()),
        }
    }

    /// Append the trailer and make the file durable; it stays staged until renamed.
    pub(crate) async fn seal(mut self, header: &RecordHeader) -> Result<TempFile> {
        let trailer = header.encode_trailer()?;
        let mut sink = self.sink.take().ok_or_else(broken)?;
        let buf = std::mem::take(&mut self.buf);
        tokio::task::spawn_blocking(move || {
            give_buffer(sink.absorb(buf)?);
            sink.seal(&trailer)
        })
        .await
        .map_err(io::Error::other)??;
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

/// Make several directories durable, each once, one after the other on this thread.
pub(crate) fn sync_dirs_now(mut dirs: Vec<PathBuf>) -> io::Result<()> {
    dirs.sort();
    dirs.dedup();
    dirs.iter()
        .try_for_each(|dir| std::fs::File::open(dir)?.sync_all())
}

/// [`ensure_dir`] on the calling thread.
pub(crate) fn ensure_dir_blocking(dir: &Path, stop_at: &Path) -> io::Result<Vec<PathBuf>> {
    if std::fs::metadata(dir).is_ok() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)?;
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

/// Create `dir` (and missing parents); returns the directories whose entries changed and so
/// need a sync.
pub(crate) async fn ensure_dir(dir: &Path, stop_at: &Path) -> Result<Vec<PathBuf>> {
    let (dir, stop_at) = (dir.to_path_buf(), stop_at.to_path_buf());
    let changed = tokio::task::spawn_blocking(move || ensure_dir_blocking(&dir, &stop_at))
        .await
        .map_err(|e| StoreError::Io(io::Error::other(e)))??;
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
