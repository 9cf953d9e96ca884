//! Exact response header spellings on the wire (docs/cos-protocol.md, "Header spellings").
//!
//! hyper lower-cases header names, but COS clients index `ETag`, `Content-Length`,
//! `Last-Modified` and `x-cos-hash-crc64ecma` case-sensitively. hyper's HTTP/1 client records
//! the case of every name it parses in a private extension that its server honours on output,
//! so we let the client parse one canned response that spells every name we ever send, and
//! attach a clone of its extensions to each outgoing response.
//!
//! The server runs with `title_case_headers(false)`: names missing from the template go out
//! lower-case, which is exactly COS's spelling for `x-cos-meta-*`. Every other name we or hyper
//! may send must therefore be in [`CANNED`].

use bytes::Bytes;
use http::{Extensions, Request};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One response that spells every header name the server may send, as COS spells it.
///
/// The status line keeps its canonical reason phrase: a custom one would be recorded too and
/// would replace the reason of every response. It carries both framing headers only to record
/// their spelling; [`case_template`] asks with HEAD, so the client reads no body either way.
const CANNED: &[u8] = b"HTTP/1.1 200 OK\r\n\
ETag: x\r\n\
Content-Length: 0\r\n\
Content-Type: x\r\n\
Last-Modified: x\r\n\
Content-Range: x\r\n\
Accept-Ranges: x\r\n\
Content-Disposition: x\r\n\
Content-Encoding: x\r\n\
Content-Language: x\r\n\
Cache-Control: x\r\n\
Expires: x\r\n\
Date: x\r\n\
Connection: keep-alive\r\n\
Transfer-Encoding: chunked\r\n\
Server: x\r\n\
Location: x\r\n\
Allow: x\r\n\
Vary: x\r\n\
Retry-After: x\r\n\
Access-Control-Allow-Origin: x\r\n\
Access-Control-Allow-Methods: x\r\n\
Access-Control-Allow-Headers: x\r\n\
Access-Control-Expose-Headers: x\r\n\
Access-Control-Max-Age: x\r\n\
X-ErrNo: x\r\n\
x-cos-request-id: x\r\n\
x-cos-trace-id: x\r\n\
x-cos-hash-crc64ecma: x\r\n\
x-cos-bucket-region: x\r\n\
x-cos-acl: x\r\n\
x-cos-storage-class: x\r\n\
x-cos-version-id: x\r\n\
x-cos-object-type: x\r\n\
\r\n";

/// Why the header-case template could not be built or did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum HeaderCaseError {
    /// hyper failed while parsing the canned response or serving the check.
    #[error("hyper: {0}")]
    Hyper(#[from] hyper::Error),
    /// Pipe I/O failed.
    #[error("pipe: {0}")]
    Io(#[from] std::io::Error),
    /// A served response did not carry an expected spelling.
    #[error("response header spelling `{0}` missing on the wire (hyper internals changed?)")]
    Missing(String),
}

/// Lets hyper's client parse [`CANNED`] and returns the parsed response's extensions,
/// which carry hyper's private header-case map.
///
/// The request is a HEAD so the client reads no body whatever the framing headers say.
pub async fn case_template() -> Result<Extensions, HeaderCaseError> {
    let (client_io, mut server_io) = tokio::io::duplex(16 * 1024);
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(client_io))
        .await?;
    let conn_task = tokio::spawn(conn);
    let writer = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        // The request is a few dozen bytes; one read consumes it.
        let _ = server_io.read(&mut buf).await?;
        server_io.write_all(CANNED).await?;
        server_io.flush().await?;
        Ok::<_, std::io::Error>(server_io)
    });
    let req = Request::head("/")
        .body(Empty::new())
        .map_err(|_| HeaderCaseError::Missing("template request could not be built".to_string()))?;
    let res = sender.send_request(req).await?;
    let extensions = res.extensions().clone();
    drop(sender);
    conn_task.abort();
    writer.abort();
    Ok(extensions)
}

/// Serves one response carrying `template` over an in-memory pipe and returns the raw bytes
/// hyper wrote, exactly as the server is configured to write them.
pub async fn render_raw(
    template: &Extensions,
    response: http::Response<http_body_util::Full<Bytes>>,
    head_request: bool,
) -> Result<Vec<u8>, HeaderCaseError> {
    let (mut client_io, server_io) = tokio::io::duplex(64 * 1024);
    let template = template.clone();
    let response = std::sync::Mutex::new(Some(response));
    let svc = hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
        let mut res = response
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .unwrap_or_default();
        res.extensions_mut().extend(template.clone());
        async move { Ok::<_, std::convert::Infallible>(res) }
    });
    let server = tokio::spawn(
        configure_http1(&mut hyper::server::conn::http1::Builder::new())
            .serve_connection(TokioIo::new(server_io), svc),
    );
    let method = if head_request { "HEAD" } else { "GET" };
    client_io
        .write_all(
            format!("{method} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut raw = Vec::new();
    client_io.read_to_end(&mut raw).await?;
    if let Ok(result) = server.await {
        result?;
    }
    Ok(raw)
}

/// Applies the HTTP/1 options the server relies on (shared by the server and the self-check).
pub fn configure_http1(
    builder: &mut hyper::server::conn::http1::Builder,
) -> &mut hyper::server::conn::http1::Builder {
    // Unmapped names (x-cos-meta-*) must go out lower-case, as COS sends them.
    builder
        .title_case_headers(false)
        .keep_alive(true)
        // Without a timer hyper waits forever for a slow request head (slowloris).
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(30))
        // hyper's default of 100 is below what some clients send (SDK headers plus many
        // `x-cos-meta-*`). A request over the limit, or otherwise unparsable, is answered by
        // hyper itself (431 / 400) before any handler runs, so that response cannot carry
        // COS headers (`x-cos-request-id`) or an XML error body.
        .max_headers(MAX_REQUEST_HEADERS)
}

/// Most header fields accepted in one request head.
pub const MAX_REQUEST_HEADERS: usize = 256;

/// Spellings the self-check requires on the wire.
pub const REQUIRED_SPELLINGS: &[&str] = &[
    "\r\nETag: ",
    "\r\nContent-Length: ",
    "\r\nx-cos-request-id: ",
    "\r\nx-cos-trace-id: ",
    "\r\nx-cos-hash-crc64ecma: ",
    "\r\nLast-Modified: ",
    "\r\nContent-Range: ",
    "\r\nAccept-Ranges: ",
    "\r\nContent-Type: ",
    "\r\nServer: ",
    "\r\nDate: ",
    "\r\nx-cos-meta-self-check: ",
];

/// Start-up guard: serve one response through hyper with the template and check that every
/// name in [`REQUIRED_SPELLINGS`] comes out exactly so. Fails if a hyper upgrade broke the trick.
pub async fn self_check(template: &Extensions) -> Result<(), HeaderCaseError> {
    let response = http::Response::builder()
        .status(206)
        .header("etag", "\"0\"")
        .header("x-cos-request-id", "r")
        .header("x-cos-trace-id", "t")
        .header("x-cos-hash-crc64ecma", "0")
        .header("last-modified", "Thu, 01 Jan 1970 00:00:00 GMT")
        .header("content-range", "bytes 0-0/1")
        .header("accept-ranges", "bytes")
        .header("content-type", "text/plain")
        .header("server", "tencent-cos")
        .header("x-cos-meta-self-check", "1")
        .body(http_body_util::Full::new(Bytes::from_static(b"x")))
        .map_err(|e| HeaderCaseError::Missing(e.to_string()))?;
    let raw = render_raw(template, response, false).await?;
    let text = String::from_utf8_lossy(&raw);
    for spelling in REQUIRED_SPELLINGS {
        if !text.contains(spelling) {
            return Err(HeaderCaseError::Missing(spelling.trim().to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn template_gives_exact_spellings_on_the_wire() {
        let template = case_template().await.unwrap();
        self_check(&template).await.unwrap();
    }

    #[tokio::test]
    async fn streamed_body_spells_transfer_encoding_and_connection() {
        let template = case_template().await.unwrap();
        let (mut client_io, server_io) = tokio::io::duplex(64 * 1024);
        let tpl = template.clone();
        let svc = hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
            let body = http_body_util::StreamBody::new(futures::stream::iter(vec![Ok::<
                _,
                std::convert::Infallible,
            >(
                hyper::body::Frame::data(Bytes::from_static(b"abc")),
            )]));
            let mut res = http::Response::new(body);
            res.headers_mut()
                .insert("x-cos-meta-color", http::HeaderValue::from_static("red"));
            res.extensions_mut().extend(tpl.clone());
            async move { Ok::<_, std::convert::Infallible>(res) }
        });
        let server = tokio::spawn(
            configure_http1(&mut hyper::server::conn::http1::Builder::new())
                .serve_connection(TokioIo::new(server_io), svc),
        );
        client_io
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        client_io.read_to_end(&mut raw).await.unwrap();
        server.await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\r\nTransfer-Encoding: chunked\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        assert!(text.contains("\r\nx-cos-meta-color: red\r\n"), "{text}");
        assert!(text.contains("\r\nDate: "), "{text}");
    }

    #[tokio::test]
    async fn reason_phrase_stays_canonical() {
        let template = case_template().await.unwrap();
        let response = http::Response::builder()
            .status(404)
            .body(http_body_util::Full::new(Bytes::new()))
            .unwrap();
        let raw = render_raw(&template, response, true).await.unwrap();
        assert!(raw.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
    }
}
