//! One client connection on the public port: hyper's HTTP/1 with mogr's header spellings,
//! timed bodies, the header-read and idle limits, and a graceful close when the server drains.
//!
//! The two limits are kept here rather than by hyper, whose header timer starts as soon as a
//! connection waits for a request and so cannot tell a quiet kept-alive connection from a
//! slow client. Here a connection with no request in flight is *idle* until the first byte of
//! the next request arrives; from that byte on, the head must be complete within the header
//! read timeout.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::time::Instant;

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http::{Extensions, Request};
use http_body::{Frame, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::body::{BodyTimeouts, TimedBody};
use crate::config::ConnectionLimits;
use crate::header_case;

/// What every connection of one server shares.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// The app requests go to.
    pub app: Router,
    /// Header-case template attached to every response.
    pub template: Extensions,
    /// Request body timing.
    pub body_timeouts: BodyTimeouts,
    /// Header read and idle limits.
    pub limits: ConnectionLimits,
}

/// Serves `stream` until the client closes it, a limit closes it, or `drain` is cancelled
/// and the request in flight on it is done (hyper's graceful close: the response in progress
/// finishes, then the connection closes instead of waiting for another request).
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    settings: ConnectionSettings,
    drain: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let ConnectionSettings {
        app,
        template,
        body_timeouts,
        limits,
    } = settings;
    let tracked = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let (app, template) = (app.clone(), template.clone());
        let in_flight = tracked.start();
        async move {
            // Every body is timed where it enters, so no handler can wait on a stalled
            // client for ever. When the client goes, hyper drops this future, and with it
            // any image job's cancellation guard.
            let req = req.map(|b| Body::new(TimedBody::new(b, body_timeouts)));
            let mut res = app.oneshot(req).await?;
            // Outermost, so axum's own responses carry the spellings too.
            res.extensions_mut().extend(template);
            // The request counts as in flight until its body is sent.
            Ok::<_, Infallible>(res.map(|body| {
                Body::new(Holding {
                    inner: body,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer is replaced by the one below (see the module comment).
    header_case::configure_http1(&mut builder).header_read_timeout(None);
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut expiry = Box::pin(Arc::clone(&activity).expiry(limits));
    let mut closing = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = drain.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            expired = &mut expiry => match expired {
                Expiry::SlowHead => {
                    tracing::debug!(%peer, "closing a connection: request head too slow");
                    return;
                }
                Expiry::Idle => {
                    tracing::debug!(%peer, "closing an idle connection");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    // A head that started meanwhile is still held to its limit.
                    expiry = Box::pin(Arc::clone(&activity).expiry(limits));
                }
            },
        }
    }
}

/// Which limit a connection ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// No request for the idle timeout: close it gracefully.
    Idle,
    /// A request head started and did not complete in time: drop it.
    SlowHead,
}

/// Requests in flight on one connection and how long it has been waiting.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

struct ActivityState {
    in_flight: usize,
    /// When the last request ended (or the connection opened).
    idle_since: Instant,
    /// When the first byte of the next request's head arrived, while none was in flight.
    head_started: Option<Instant>,
}

/// Held while a request is in flight (until its response body is dropped).
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                idle_since: Instant::now(),
                head_started: None,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start(self: &Arc<Self>) -> InFlight {
        {
            let mut s = self.lock();
            s.in_flight += 1;
            s.head_started = None;
        }
        self.changed.notify_waiters();
        InFlight(Arc::clone(self))
    }

    /// Bytes came in: between requests, that starts the next head's clock.
    fn bytes_arrived(&self) {
        let started = {
            let mut s = self.lock();
            let starts = s.in_flight == 0 && s.head_started.is_none();
            if starts {
                s.head_started = Some(Instant::now());
            }
            starts
        };
        if started {
            self.changed.notify_waiters();
        }
    }

    /// Completes when the connection has been idle, or slow with a head, for too long.
    async fn expiry(self: Arc<Self>, limits: ConnectionLimits) -> Expiry {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the state is read, so no change between the two is missed.
            changed.as_mut().enable();
            let deadline = {
                let s = self.lock();
                if s.in_flight > 0 {
                    None
                } else if let Some(started) = s.head_started {
                    limits
                        .header_read_timeout
                        .map(|limit| (started + limit, Expiry::SlowHead))
                } else {
                    limits
                        .idle_timeout
                        .map(|limit| (s.idle_since + limit, Expiry::Idle))
                }
            };
            match deadline {
                Some((at, expiry)) if at <= Instant::now() => return expiry,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        {
            let mut s = self.0.lock();
            s.in_flight -= 1;
            s.idle_since = Instant::now();
        }
        self.0.changed.notify_waiters();
    }
}

/// The client socket, reporting arriving bytes to the connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Holding {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Holding {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
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
    use std::time::Duration;

    fn limits(idle_ms: u64, head_ms: u64) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Some(Duration::from_millis(head_ms)),
            idle_timeout: Some(Duration::from_millis(idle_ms)),
            max_connections: 1,
        }
    }

    #[tokio::test]
    async fn a_quiet_connection_expires_as_idle() {
        let activity = Arc::new(Activity::new());
        let expiry = Arc::clone(&activity).expiry(limits(20, 60_000)).await;
        assert_eq!(expiry, Expiry::Idle);
    }

    #[tokio::test]
    async fn a_started_head_is_held_to_the_header_limit_not_the_idle_one() {
        let activity = Arc::new(Activity::new());
        activity.bytes_arrived();
        let expiry = Arc::clone(&activity).expiry(limits(60_000, 20)).await;
        assert_eq!(expiry, Expiry::SlowHead);
    }

    #[tokio::test]
    async fn nothing_expires_while_a_request_is_in_flight() {
        let activity = Arc::new(Activity::new());
        let in_flight = activity.start();
        // Body bytes of the request in flight start no head clock.
        activity.bytes_arrived();
        let waiting = tokio::spawn(Arc::clone(&activity).expiry(limits(20, 20)));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished());
        drop(in_flight);
        assert_eq!(waiting.await.unwrap(), Expiry::Idle);
    }
}
