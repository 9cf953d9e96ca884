//! Object bodies read from disk with few trips to the blocking pool: positioned reads of
//! large chunks, the next chunk read while the previous one is being sent.
//!
//! Each chunk is one blocking task, so a slow client holds memory for two chunks and no
//! thread; the first chunk comes with the open (see `get_object_impl`).

use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::task::JoinHandle;

/// Bytes per read: big enough that a 1 MiB object takes two blocking tasks.
pub(crate) const FILE_CHUNK: usize = 512 * 1024;

/// Reads `len` bytes at `offset` of `file` (short only at the end of the file).
pub(crate) fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    let mut filled = 0;
    while filled < len {
        match pread(file, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "object file shorter than its record",
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf.freeze())
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// The body of one record version: `remaining` bytes from `offset`, after an optional chunk
/// already read.
pub(crate) struct FileStream {
    file: Arc<File>,
    offset: u64,
    remaining: u64,
    first: Option<Bytes>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
}

impl FileStream {
    /// Streams `remaining` bytes of `file` from `offset`; `first` was already read from
    /// just before `offset`.
    pub(crate) fn new(file: File, offset: u64, remaining: u64, first: Option<Bytes>) -> Self {
        FileStream {
            file: Arc::new(file),
            offset,
            remaining,
            first,
            pending: None,
        }
    }

    /// Starts reading the next chunk, if any is left.
    fn read_ahead(&mut self) {
        if self.remaining == 0 || self.pending.is_some() {
            return;
        }
        let len = self.remaining.min(FILE_CHUNK as u64) as usize;
        let (file, offset) = (Arc::clone(&self.file), self.offset);
        self.offset += len as u64;
        self.remaining -= len as u64;
        self.pending = Some(tokio::task::spawn_blocking(move || {
            read_at(&file, offset, len)
        }));
    }
}

impl Stream for FileStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            self.read_ahead();
            return Poll::Ready(Some(Ok(first)));
        }
        self.read_ahead();
        let Some(pending) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let done = ready!(Pin::new(pending).poll(cx));
        self.pending = None;
        match done {
            Ok(Ok(chunk)) => {
                self.read_ahead();
                Poll::Ready(Some(Ok(chunk)))
            }
            Ok(Err(e)) => {
                self.remaining = 0;
                Poll::Ready(Some(Err(e)))
            }
            Err(e) => {
                self.remaining = 0;
                Poll::Ready(Some(Err(io::Error::other(e))))
            }
        }
    }
}
