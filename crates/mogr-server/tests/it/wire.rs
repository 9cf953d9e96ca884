//! Exact response header spellings on the wire (the Python SDK indexes them case-sensitively).

use crate::common::*;

const B: &str = "wire-1250000000";

/// Every header line in the head must be spelled as COS spells it.
fn assert_spellings(head: &str, required: &[&str]) {
    for r in required {
        assert!(
            head.contains(&format!("\r\n{r}: ")),
            "missing `{r}` in:\n{head}"
        );
    }
    for line in head.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap();
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-cos-") {
            assert_eq!(name, lower, "x-cos headers are lower-case: {line}");
        } else {
            let expected = match lower.as_str() {
                "etag" => "ETag".to_string(),
                other => other
                    .split('-')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("-"),
            };
            assert_eq!(name, expected, "spelling of {line}");
        }
    }
}

#[test]
fn get_head_put_206_and_errors_have_cos_spellings() {
    let s = TestServer::start();
    s.create_bucket(B);
    let put = s
        .req("PUT", B, "k.txt")
        .header("Content-Type", "text/plain")
        .header("x-cos-meta-Mixed-Case", "v")
        .body(b"0123456789".to_vec())
        .send();
    assert_spellings(
        &put.head,
        &[
            "ETag",
            "Content-Length",
            "x-cos-request-id",
            "x-cos-hash-crc64ecma",
            "Server",
            "Date",
        ],
    );
    assert_eq!(put.exact("Server"), Some("tencent-cos"));

    let common = [
        "ETag",
        "Content-Length",
        "Content-Type",
        "Last-Modified",
        "Accept-Ranges",
        "x-cos-request-id",
        "x-cos-hash-crc64ecma",
        "x-cos-meta-mixed-case",
        "Server",
        "Date",
        "Connection",
    ];
    let get = s
        .req("GET", B, "k.txt")
        .unsigned_header("Accept-Encoding", "gzip, deflate")
        .send();
    assert_spellings(&get.head, &common);
    // Never compressed on the fly.
    assert_eq!(get.header("Content-Encoding"), None);
    assert_eq!(get.body, b"0123456789");

    let head = s.req("HEAD", B, "k.txt").send();
    assert_spellings(&head.head, &common);

    let partial = s.req("GET", B, "k.txt").header("Range", "bytes=2-4").send();
    assert_eq!(partial.status, 206);
    let mut with_range = common.to_vec();
    with_range.push("Content-Range");
    assert_spellings(&partial.head, &with_range);
    assert!(partial.head.starts_with("HTTP/1.1 206 Partial Content\r\n"));

    let missing = s.req("GET", B, "nope").send();
    assert_eq!(missing.status, 404);
    assert_spellings(
        &missing.head,
        &[
            "Content-Type",
            "Content-Length",
            "x-cos-request-id",
            "x-cos-trace-id",
            "Server",
        ],
    );
    assert_eq!(missing.exact("Content-Type"), Some("application/xml"));
    let head_missing = s.req("HEAD", B, "nope").send();
    assert_spellings(&head_missing.head, &["x-cos-request-id", "x-cos-trace-id"]);

    let bad_range = s.req("GET", B, "k.txt").header("Range", "bytes=50-").send();
    assert_spellings(&bad_range.head, &["Content-Range", "x-cos-trace-id"]);

    let list = s.req("GET", B, "").send();
    assert_spellings(
        &list.head,
        &["Content-Type", "x-cos-bucket-region", "x-cos-request-id"],
    );
}

#[test]
fn streamed_uploads_get_spelled_transfer_encoding_free_responses() {
    let s = TestServer::start();
    s.create_bucket(B);
    let mut r = s.req("PUT", B, "c");
    r.body = ReqBody::Chunked(vec![7u8; 100_000], 4096);
    let res = r.send();
    assert_eq!(res.status, 200);
    assert_spellings(&res.head, &["ETag", "x-cos-hash-crc64ecma"]);
    let get = s.req("GET", B, "c").send();
    assert_eq!(get.exact("Content-Length"), Some("100000"));
    assert_eq!(get.header("Transfer-Encoding"), None);
}

#[test]
fn request_ids_are_unique_per_response() {
    let s = TestServer::start();
    let a = s.req_host("GET", &s.host_port(), "/").send();
    let b = s.req_host("GET", &s.host_port(), "/").send();
    let (a, b) = (
        a.exact("x-cos-request-id").unwrap(),
        b.exact("x-cos-request-id").unwrap(),
    );
    assert_ne!(a, b);
    assert!(!a.is_empty());
}
