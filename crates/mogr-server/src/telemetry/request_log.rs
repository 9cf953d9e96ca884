//! One log line and one set of metrics per request, written when its response body is done.
//!
//! A tower layer around the whole app: it counts the request body's bytes as the handler
//! reads them and the response body's as hyper sends them, and emits when the response body is
//! dropped (sent in full, or cut short because the client went away), so streamed downloads
//! are timed to their last byte. What only the dispatcher knows (the COS operation, bucket,
//! key, rule, error code) travels to it as a [`RequestRecord`] in the response's extensions.
//!
//! Never logged: headers (the `Authorization` signature), the query string (presigned
//! `q-signature`), bodies. Keys and rules are logged with control characters escaped, so a
//! key cannot forge a line.

use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, Request, StatusCode};
use http_body::{Body as _, Frame, SizeHint};
use metrics::{counter, histogram};
use tower::{Layer, Service};

use super::metrics::{
    HTTP_REQUESTS, HTTP_REQUEST_BYTES, HTTP_REQUEST_DURATION, HTTP_RESPONSE_BYTES,
};

/// Longest rule text logged; longer ones are cut (a rule can be as long as a URL).
const MAX_LOGGED_RULE: usize = 512;

/// What the dispatcher learned about a request, handed to the log in the response extensions.
#[derive(Debug, Clone, Default)]
pub struct RequestRecord {
    /// The `x-cos-request-id` sent back.
    pub request_id: String,
    /// [`Operation::name`](crate::operation::Operation::name); empty when the request was
    /// refused before it could be classified.
    pub operation: &'static str,
    /// The addressed bucket.
    pub bucket: Option<String>,
    /// The decoded key (empty at bucket level).
    pub key: String,
    /// The processing rule(s), if any.
    pub rule: Option<String>,
    /// The COS error code of a failed request.
    pub error_code: Option<&'static str>,
}

/// The layer: wrap an app so each request is logged and measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// The service [`RequestLogLayer`] builds.
#[derive(Debug, Clone)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for RequestLog<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let method = req.method().clone();
        let bytes_in = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&bytes_in);
        let req = req.map(|b| Body::new(Counted::new(b, counted)));
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let (mut parts, body) = res.into_parts();
            let record = parts
                .extensions
                .remove::<RequestRecord>()
                .unwrap_or_default();
            let pending = Pending {
                record,
                method,
                status: parts.status,
                started,
                bytes_in,
            };
            let body = Body::new(Logged {
                expected: body.size_hint().exact(),
                inner: body,
                sent: 0,
                ended: false,
                pending: Some(pending),
            });
            Ok(Response::from_parts(parts, body))
        })
    }
}

/// A request body that counts the bytes read through it.
struct Counted {
    inner: Body,
    seen: Arc<AtomicU64>,
}

impl Counted {
    fn new(inner: Body, seen: Arc<AtomicU64>) -> Counted {
        Counted { inner, seen }
    }
}

impl http_body::Body for Counted {
    type Data = Bytes;
    // The inner error, unwrapped: handlers downcast it (a body timeout keeps its meaning), and
    // `Body::new` would otherwise wrap it a second time.
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(axum::Error::into_inner);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.seen.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Everything the log line needs except the bytes sent, kept until the body is done.
struct Pending {
    record: RequestRecord,
    method: Method,
    status: StatusCode,
    started: Instant,
    bytes_in: Arc<AtomicU64>,
}

/// A response body that counts what it sends and logs the request when dropped.
struct Logged {
    inner: Body,
    sent: u64,
    /// The inner body reported its end.
    ended: bool,
    /// The body's length when known up front (hyper stops polling once it is sent).
    expected: Option<u64>,
    pending: Option<Pending>,
}

impl http_body::Body for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len() as u64;
                }
            }
            Poll::Ready(None) => self.ended = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            let complete =
                self.ended || self.inner.is_end_stream() || self.expected == Some(self.sent);
            emit(&p, self.sent, complete);
        }
    }
}

/// Writes the log line and records the request metrics.
fn emit(p: &Pending, bytes_out: u64, complete: bool) {
    let r = &p.record;
    let elapsed = p.started.elapsed();
    let bytes_in = p.bytes_in.load(Ordering::Relaxed);
    let operation = if r.operation.is_empty() {
        "Unknown"
    } else {
        r.operation
    };
    let status = p.status.as_u16();
    counter!(HTTP_REQUESTS, "operation" => operation, "status" => status.to_string()).increment(1);
    histogram!(HTTP_REQUEST_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
    counter!(HTTP_REQUEST_BYTES, "operation" => operation).increment(bytes_in);
    counter!(HTTP_RESPONSE_BYTES, "operation" => operation).increment(bytes_out);

    let rule = r.rule.as_deref().map(|rule| cut(rule, MAX_LOGGED_RULE));
    tracing::info!(
        target: "mogr::request",
        request_id = %r.request_id,
        method = %p.method,
        operation,
        bucket = %r.bucket.as_deref().map(printable).unwrap_or_default(),
        key = %printable(&r.key),
        rule = %rule.as_deref().map(printable).unwrap_or_default(),
        status,
        error_code = r.error_code.unwrap_or(""),
        bytes_in,
        bytes_out,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        complete,
        "request"
    );
}

/// `s` with control characters escaped (`\n`, `\u{1b}`), so one value stays on one line.
fn printable(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// At most `max` bytes of `s`, cut on a character boundary, marked with `…` when cut.
fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a/b c.jpg"), "a/b c.jpg");
        assert_eq!(printable("x\ny\u{1b}"), "x\\ny\\u{1b}");
    }

    #[test]
    fn long_rules_are_cut_on_a_character_boundary() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ab€d", 3), "ab…");
    }
}
