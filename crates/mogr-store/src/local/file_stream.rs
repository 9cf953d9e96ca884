//! Object bodies read from disk with few trips to the blocking pool: sequential reads of
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

use bytes::Bytes;
use futures::Stream;
use tokio::task::JoinHandle;

/// Bytes per read: a 1 MiB object is read in one blocking task, with its open.
pub(crate) const FILE_CHUNK: usize = 1024 * 1024;

/// Reads the next `len` bytes of `file` from its current position into fresh memory that
/// is not zeroed first (short only if the file is).
pub(crate) fn read_next(file: &File, len: usize) -> io::Result<Bytes> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(len);
    file.take(len as u64).read_to_end(&mut buf)?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "object file shorter than its record",
        ));
    }
    Ok(Bytes::from(buf))
}

/// The body of one record version: the next `remaining` bytes of the file from its current
/// position, after an optional chunk already read. One read at a time, so the position is
/// the stream's own.
pub(crate) struct FileStream {
    file: Arc<File>,
    remaining: u64,
    first: Option<Bytes>,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
}

impl FileStream {
    /// Streams the next `remaining` bytes of `file`; `first` was already read just before.
    pub(crate) fn new(file: File, remaining: u64, first: Option<Bytes>) -> Self {
        FileStream {
            file: Arc::new(file),
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
        let file = Arc::clone(&self.file);
        self.remaining -= len as u64;
        self.pending = Some(tokio::task::spawn_blocking(move || read_next(&file, len)));
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
