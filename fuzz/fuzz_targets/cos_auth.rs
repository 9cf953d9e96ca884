//! The `Authorization` header: q-sign extraction and verification against a fixed request.
#![no_main]

use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use libfuzzer_sys::fuzz_target;
use mogr_cos::auth::{extract, verify, AuthRequest};
use mogr_cos::query::Query;

/// Inside the usual test signatures' `q-sign-time` windows, so verification gets past the
/// clock check and builds the strings it signs.
const NOW: u64 = 1_700_000_100;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    headers.insert(
        HOST,
        HeaderValue::from_static("bucket-1250000000.localhost:9000"),
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.append("x-cos-meta-a", HeaderValue::from_static("1"));
    headers.append("x-cos-meta-a", HeaderValue::from_static("2"));
    let query = Query::parse(Some("imageMogr2/thumbnail/10x&versionId=1&acl"));
    let Ok(Some(params)) = extract(&headers, &query) else {
        return;
    };
    let request = AuthRequest {
        method: "PUT",
        path: "/dir/a b+c.png",
        query: &query,
        headers: &headers,
    };
    let _ = verify(&request, &params, "secret", NOW);
    for param in &query {
        let _ = params.covers(param);
    }
    let _ = params.signs_header("Content-Type");
});
