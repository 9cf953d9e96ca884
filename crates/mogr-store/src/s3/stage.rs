//! Staging and publishing: a body is first written under a fresh reserved key, checked, and
//! only then published under its real key by a server-side copy that also attaches mogr's
//! metadata (metadata-only on Garage). A failed or refused write therefore never touches
//! the previous object, and a staged set is published only once all of it is staged.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use md5::{Digest, Md5};

use super::engine::Engine;
use super::{layout, meta};
use crate::types::{ByteStream, ObjectAttrs, ObjectMeta};
use crate::{Crc64, StoreError};

/// What passed through a [`Tap`].
#[derive(Default)]
struct Seen {
    md5: Md5,
    crc: Crc64,
    size: u64,
    /// The first error of the source stream, kept whole so the caller gets the client's
    /// failure (a timeout, a refused size) rather than the engine client's rewording.
    failure: Option<std::io::Error>,
}

/// A stream that hashes what it forwards and keeps its source's first error.
pub(crate) struct Tap {
    inner: ByteStream,
    seen: Arc<Mutex<Seen>>,
}

/// The digests of a body that passed through a [`Tap`].
pub(crate) struct Digests {
    /// MD5 of the body.
    pub md5: [u8; 16],
    /// CRC-64/XZ of the body.
    pub crc64: u64,
    /// Its length.
    pub size: u64,
}

impl Digests {
    /// The metadata of an object (or part) `key` with this body, written now.
    pub(crate) fn meta(&self, key: &str, attrs: ObjectAttrs) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            size: self.size,
            etag: hex::encode(self.md5),
            crc64: self.crc64,
            last_modified: meta::now(),
            attrs,
        }
    }
}

/// Reads what a [`Tap`] saw once the engine has consumed it.
pub(crate) struct TapResult(Arc<Mutex<Seen>>);

impl Tap {
    /// Wraps `inner`.
    pub(crate) fn new(inner: ByteStream) -> (Tap, TapResult) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        (
            Tap {
                inner,
                seen: seen.clone(),
            },
            TapResult(seen),
        )
    }
}

impl Stream for Tap {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match polled {
            Poll::Ready(Some(Ok(chunk))) => {
                seen.md5.update(&chunk);
                seen.crc.update(&chunk);
                seen.size += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                let told = std::io::Error::new(e.kind(), e.to_string());
                seen.failure.get_or_insert(e);
                Poll::Ready(Some(Err(told)))
            }
            other => other,
        }
    }
}

impl TapResult {
    /// The source's own error, if it failed.
    pub(crate) fn failure(&self) -> Option<std::io::Error> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failure
            .take()
    }

    /// The digests of everything forwarded.
    pub(crate) fn digests(&self) -> Digests {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Digests {
            md5: seen.md5.clone().finalize().into(),
            crc64: seen.crc.value(),
            size: seen.size,
        }
    }
}

/// Writes `body` under a fresh staged key; returns the key and the body's digests. A body
/// whose MD5 is not `content_md5` is `BadDigest`. On failure nothing is left to publish (a
/// partial or refused staged body is removed when possible).
pub(crate) async fn stage_stream(
    engine: &Engine,
    body: ByteStream,
    length: Option<u64>,
    content_md5: Option<[u8; 16]>,
) -> Result<(String, Digests), StoreError> {
    let key = layout::staged();
    let (tap, result) = Tap::new(body);
    let sent = engine
        .put(&key, reqwest::Body::wrap_stream(tap), length)
        .await;
    if let Err(e) = sent {
        discard(engine, &key).await;
        return Err(result.failure().map_or(e, StoreError::Io));
    }
    if let Some(failure) = result.failure() {
        discard(engine, &key).await;
        return Err(StoreError::Io(failure));
    }
    let digests = result.digests();
    if content_md5.is_some_and(|md5| md5 != digests.md5) {
        discard(engine, &key).await;
        return Err(StoreError::BadDigest);
    }
    Ok((key, digests))
}

/// Publishes staged `staged` as `dest` with `meta`, then drops the staged copy in the
/// background: the writer is answered one engine request sooner.
pub(crate) async fn publish(
    engine: &Arc<Engine>,
    staged: &str,
    dest: &str,
    meta: &ObjectMeta,
) -> Result<(), StoreError> {
    engine.copy(staged, dest, &meta::encode(meta)).await?;
    discard_later(engine, vec![staged.to_string()]);
    Ok(())
}

/// Drops staged bodies in the background (outside a runtime, or should the engine fail,
/// the sweep drops them later).
pub(crate) fn discard_later(engine: &Arc<Engine>, staged: Vec<String>) {
    if staged.is_empty() {
        return;
    }
    let engine = engine.clone();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            for key in staged {
                discard(&engine, &key).await;
            }
        });
    }
}

/// Drops a staged body; a failure only leaves garbage under the reserved prefix.
pub(crate) async fn discard(engine: &Engine, staged: &str) {
    if let Err(e) = engine.delete(staged).await {
        tracing::warn!(key = staged, error = %e, "could not drop a staged body");
    }
}
