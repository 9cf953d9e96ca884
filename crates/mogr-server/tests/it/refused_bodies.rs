//! A request refused before its handler runs must still deliver its COS error to a client
//! that is in the middle of sending a large body, not a broken pipe: SDKs that see the pipe
//! break report a network error and retry the whole upload.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;

/// Sends a PUT with a `len`-byte body, asserting every byte could be written, and returns
/// the raw response.
fn put_all(srv: &TestServer, host: &str, len: usize, authorization: Option<&str>) -> String {
    let mut stream = TcpStream::connect(srv.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("PUT /big.bin HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len}\r\n");
    if let Some(a) = authorization {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![7u8; 1 << 20];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        if let Err(e) = stream.write_all(&chunk[..n]) {
            panic!("the server stopped reading after {sent} of {len} bytes: {e}");
        }
        sent += n;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn a_large_put_refused_early_gets_its_error_not_a_broken_pipe() {
    let srv = TestServer::start();
    srv.create_bucket("open-1250000000");
    let len = 24 << 20;
    let missing = put_all(&srv, &TestServer::vhost("missing-1250000000"), len, None);
    assert!(missing.starts_with("HTTP/1.1 4"), "{missing}");
    let anonymous = put_all(&srv, &TestServer::vhost("open-1250000000"), len, None);
    assert!(anonymous.starts_with("HTTP/1.1 403"), "{anonymous}");
    assert!(
        anonymous.contains("<Code>AccessDenied</Code>"),
        "{anonymous}"
    );
    let t = now();
    let forged = mogr_cos::auth::sign(
        "put",
        "/big.bin",
        &[],
        &[("host".into(), TestServer::vhost("open-1250000000"))],
        "AKIDUNKNOWN",
        "nope",
        t - 60,
        t + 600,
    );
    let unknown = put_all(
        &srv,
        &TestServer::vhost("open-1250000000"),
        len,
        Some(&forged),
    );
    assert!(
        unknown.contains("<Code>InvalidAccessKeyId</Code>"),
        "{unknown}"
    );
    assert_eq!(
        srv.req("HEAD", "open-1250000000", "big.bin").send().status,
        404
    );
}
