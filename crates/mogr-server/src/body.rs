//! Request bodies: streamed to the store with a size cap, or collected when small (XML), and
//! timed so that a client that stops sending cannot hold a connection, a temp file or a place
//! in the image pool for as long as it likes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http_body::{Frame, SizeHint};
use mogr_cos::ErrorCode;
use mogr_store::ByteStream;
use tokio::time::Sleep;

use crate::error_map::ApiError;
use crate::unread_body;

/// Boxed error of a body layer.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Largest XML request body read into memory (Complete Multipart with 10,000 parts fits).
pub const MAX_XML_BODY: u64 = 4 * 1024 * 1024;

/// Why reading a request body failed; travels inside `std::io::Error` through the store.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More bytes than allowed.
    #[error("body is larger than {0} bytes")]
    TooLarge(u64),
    /// The client stopped sending (or the framing was broken) before the end.
    #[error("incomplete body: {0}")]
    Incomplete(String),
    /// The client sent too slowly, or not at all, for too long.
    #[error("request body timed out: {0}")]
    TimedOut(String),
}

impl BodyError {
    /// The COS error for this failure.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            BodyError::TooLarge(_) => ApiError::new(ErrorCode::EntityTooLarge),
            BodyError::Incomplete(_) => ApiError::new(ErrorCode::IncompleteBody),
            BodyError::TimedOut(why) => ApiError::with_message(
                ErrorCode::RequestTimeout,
                format!(
                    "{} ({why})",
                    ErrorCode::RequestTimeout
                        .default_message()
                        .trim_end_matches('.')
                ),
            ),
        }
    }

    fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// Why a body read failed: a [`TimedBody`] timeout keeps its meaning, anything else (the
/// client closed the connection, broken chunking) is an incomplete body.
fn read_error(e: axum::Error) -> BodyError {
    match e.into_inner().downcast::<BodyError>() {
        Ok(own) => *own,
        Err(other) => BodyError::Incomplete(other.to_string()),
    }
}

/// The request body as a store stream that fails with [`BodyError::TooLarge`] past `limit`.
/// Nothing is buffered beyond the chunk in flight. Past the limit the rest of the body is
/// read and thrown away in the background (bounded), so the client, still sending, receives
/// the `EntityTooLarge` answer instead of a reset connection.
pub fn limited_stream(body: Body, limit: u64) -> ByteStream {
    let state = (Some(body.into_data_stream()), 0u64);
    let stream = futures::stream::unfold(state, move |(inner, seen)| async move {
        let mut inner = inner?;
        match inner.next().await? {
            Ok(bytes) => {
                let seen = seen.saturating_add(bytes.len() as u64);
                if seen > limit {
                    unread_body::discard_stream_in_background(inner);
                    return Some((Err(BodyError::TooLarge(limit).into_io()), (None, seen)));
                }
                Some((Ok(bytes), (Some(inner), seen)))
            }
            Err(e) => Some((Err(read_error(e).into_io()), (None, seen))),
        }
    });
    // Readers may poll again after the end (or after the error); a fused stream answers None.
    Box::pin(stream.fuse())
}

/// Reads a small body whole, refusing more than `limit` bytes (the rest is discarded in the
/// background, as for [`limited_stream`]).
pub async fn collect_limited(body: Body, limit: u64) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(read_error)?;
        if buf.len() as u64 + chunk.len() as u64 > limit {
            unread_body::discard_stream_in_background(stream);
            return Err(BodyError::TooLarge(limit).into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// How long a request body may take to arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeouts {
    /// Longest wait for the next byte while the server wants one (`None`: no limit).
    pub idle: Option<Duration>,
    /// Bytes per second the body must average once it has been read for `idle`
    /// (0: no minimum). Catches clients that send a byte now and then, just often enough
    /// never to be idle.
    pub min_rate: u64,
}

/// A request body that fails with [`BodyError::TimedOut`] when the client stalls or trickles.
///
/// Time is counted from the first read, so a handler that looks at headers first does not eat
/// into the client's allowance.
pub struct TimedBody<B> {
    inner: B,
    limits: BodyTimeouts,
    /// Armed while the server waits for bytes; cleared whenever some arrive.
    idle: Option<Pin<Box<Sleep>>>,
    started: Option<Instant>,
    received: u64,
}

impl<B> TimedBody<B> {
    /// Wraps `inner` with `limits`.
    pub fn new(inner: B, limits: BodyTimeouts) -> TimedBody<B> {
        TimedBody {
            inner,
            limits,
            idle: None,
            started: None,
            received: 0,
        }
    }

    /// A trickle: after the first idle period, the average rate is below the minimum.
    fn too_slow(&self, started: Instant) -> Option<BodyError> {
        let (Some(grace), rate) = (self.limits.idle, self.limits.min_rate) else {
            return None;
        };
        let elapsed = started.elapsed();
        if rate == 0 || elapsed <= grace {
            return None;
        }
        let average = self.received as f64 / elapsed.as_secs_f64();
        (average < rate as f64).then(|| {
            BodyError::TimedOut(format!(
                "{} bytes in {} s is below the minimum of {rate} bytes per second",
                self.received,
                elapsed.as_secs()
            ))
        })
    }
}

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let started = *this.started.get_or_insert_with(Instant::now);
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.idle = None;
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                match this.too_slow(started) {
                    Some(e) => Poll::Ready(Some(Err(e.into()))),
                    None => Poll::Ready(Some(Ok(frame))),
                }
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let Some(limit) = this.limits.idle else {
                    return Poll::Pending;
                };
                let sleep = this
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        let e = BodyError::TimedOut(format!(
                            "no data for {} s after {} bytes",
                            limit.as_secs(),
                            this.received
                        ));
                        Poll::Ready(Some(Err(e.into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stream_fails_past_the_limit_with_a_recognisable_error() {
        let body = Body::from(vec![0u8; 10]);
        let mut s = limited_stream(body, 5);
        let err = s.next().await.unwrap().unwrap_err();
        let inner = err.get_ref().unwrap().downcast_ref::<BodyError>().unwrap();
        assert!(matches!(inner, BodyError::TooLarge(5)));
        assert!(s.next().await.is_none());
        assert!(s.next().await.is_none(), "polling past the end is harmless");
        let ok: Vec<_> = limited_stream(Body::from("abc"), 3).collect().await;
        assert_eq!(ok.len(), 1);
    }

    #[tokio::test]
    async fn collect_refuses_oversized_bodies() {
        assert_eq!(
            &collect_limited(Body::from("abc"), 3).await.unwrap()[..],
            b"abc"
        );
        let err = collect_limited(Body::from("abcd"), 3).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::EntityTooLarge);
    }

    /// A body that yields `first`, then never anything more.
    fn stalled(first: &'static [u8]) -> Body {
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(first))])
            .chain(futures::stream::pending());
        Body::from_stream(stream)
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_as_request_timeout() {
        let limits = BodyTimeouts {
            idle: Some(Duration::from_millis(100)),
            min_rate: 0,
        };
        let body = Body::new(TimedBody::new(stalled(b"0123456789"), limits));
        let err = collect_limited(body, 1000).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::RequestTimeout);
        let body = Body::new(TimedBody::new(stalled(b"x"), limits));
        let mut s = limited_stream(body, 1000);
        assert!(s.next().await.unwrap().is_ok());
        let err = s.next().await.unwrap().unwrap_err();
        let inner = err.get_ref().unwrap().downcast_ref::<BodyError>().unwrap();
        assert!(matches!(inner, BodyError::TimedOut(_)));
    }

    #[tokio::test]
    async fn a_trickle_below_the_minimum_rate_times_out() {
        let limits = BodyTimeouts {
            idle: Some(Duration::from_millis(300)),
            min_rate: 100,
        };
        // One byte every 200 ms: never idle for 300 ms, far below 100 bytes per second.
        let trickle = futures::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            (n < 100).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
        });
        let body = Body::new(TimedBody::new(Body::from_stream(trickle), limits));
        let err = collect_limited(body, 1000).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::RequestTimeout);
        // A prompt body is untouched.
        let body = Body::new(TimedBody::new(Body::from("abc"), limits));
        assert_eq!(&collect_limited(body, 10).await.unwrap()[..], b"abc");
    }
}
