//! A presigned URL's query string: parsing, rule detection and q-sign verification.
#![no_main]

use http::header::{HeaderMap, HeaderValue, HOST};
use libfuzzer_sys::fuzz_target;
use mogr_cos::auth::{extract, verify, AuthRequest};
use mogr_cos::query::Query;

/// Inside the usual test signatures' `q-sign-time` windows.
const NOW: u64 = 1_700_000_100;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let query = Query::parse(Some(raw));
    if let Some(rule) = query.rule() {
        let _ = mogr_rule::parse(&rule);
        assert!(query.rule_param().is_some(), "a rule without its parameter");
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        HOST,
        HeaderValue::from_static("bucket-1250000000.localhost"),
    );
    let Ok(Some(params)) = extract(&headers, &query) else {
        return;
    };
    let request = AuthRequest {
        method: "GET",
        path: "/photo.jpg",
        query: &query,
        headers: &headers,
    };
    let _ = verify(&request, &params, "secret", NOW);
    if let Some(p) = query.rule_param() {
        let _ = params.covers(p);
    }
});
