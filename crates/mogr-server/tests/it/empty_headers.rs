//! Empty standard headers mean "none": the Node SDK sends `Content-Type:` and `Cache-Control:`
//! with empty values (unsigned) on PUT and on multipart initiate when the caller set none. The
//! object must then be served exactly as if the headers had been absent.

use crate::common::*;
use crate::processing_common::{jpeg, pic_ops};

const B: &str = "empties-1250000000";

/// The standard headers a PUT stores, each sent with an empty value.
const EMPTY: [&str; 5] = [
    "Content-Type",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Expires",
];

fn server() -> TestServer {
    let s = TestServer::start();
    s.create_bucket(B);
    s
}

/// `req` with every header of [`EMPTY`] sent empty and unsigned, as the Node SDK does.
fn with_empty_headers(mut req: Req) -> Req {
    for name in EMPTY {
        req = req.unsigned_header(name, "");
    }
    req
}

/// GET and HEAD of `key` show the default Content-Type and no blank stored header.
fn assert_served_as_untyped(s: &TestServer, key: &str) {
    for method in ["GET", "HEAD"] {
        let r = s.req(method, B, key).send();
        assert_eq!(r.status, 200, "{method} {key}: {}", r.text());
        assert_eq!(
            r.exact("Content-Type"),
            Some("application/octet-stream"),
            "{method} {key}: {}",
            r.head
        );
        for name in &EMPTY[1..] {
            assert_eq!(r.header(name), None, "{method} {key}: {}", r.head);
        }
    }
}

#[test]
fn put_object_with_empty_headers_serves_the_default_content_type() {
    let s = server();
    let r = with_empty_headers(s.req("PUT", B, "plain.bin"))
        .body(b"some bytes".to_vec())
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_served_as_untyped(&s, "plain.bin");
    assert_eq!(s.req("GET", B, "plain.bin").send().body, b"some bytes");
}

#[test]
fn multipart_initiate_with_empty_headers_serves_the_default_content_type() {
    let s = server();
    let key = "sliced.bin";
    let init = with_empty_headers(s.req("POST", B, key).param("uploads", "")).send();
    assert_eq!(init.status, 200, "{}", init.text());
    let id = init.xml("UploadId").unwrap();
    let part = s
        .req("PUT", B, key)
        .param("partNumber", "1")
        .param("uploadId", &id)
        .body(b"one small part".to_vec())
        .send();
    assert_eq!(part.status, 200, "{}", part.text());
    let etag = part.exact("ETag").unwrap().to_string();
    let done = s
        .req("POST", B, key)
        .param("uploadId", &id)
        .body(format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>\
             <ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
        ))
        .send();
    assert_eq!(done.status, 200, "{}", done.text());
    assert_served_as_untyped(&s, key);
}

#[test]
fn pic_operations_put_with_empty_headers_stores_the_original_untyped() {
    let s = server();
    let ops = pic_ops(false, &[("out.png", "imageMogr2/format/png", None)]);
    let r = with_empty_headers(s.req("PUT", B, "photo.jpg"))
        .header("Pic-Operations", &ops)
        .body(jpeg(32, 24))
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_served_as_untyped(&s, "photo.jpg");
    // The derived object keeps the type of what was produced.
    let out = s.req("HEAD", B, "out.png").send();
    assert_eq!(out.exact("Content-Type"), Some("image/png"));
}

#[test]
fn given_values_are_still_stored() {
    let s = server();
    let r = s
        .req("PUT", B, "typed.txt")
        .header("Content-Type", "text/plain")
        .header("Cache-Control", "max-age=60")
        .body(b"typed".to_vec())
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.req("GET", B, "typed.txt").send();
    assert_eq!(got.exact("Content-Type"), Some("text/plain"));
    assert_eq!(got.exact("Cache-Control"), Some("max-age=60"));
}
