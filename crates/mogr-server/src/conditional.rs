//! Conditional GET/HEAD: `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::response::Response;
use http::header::{ETAG, LAST_MODIFIED};
use http::{HeaderMap, HeaderValue, StatusCode};
use mogr_cos::time_fmt::http_date;
use mogr_cos::ErrorCode;

use crate::error_map::{ApiError, ApiResult};
use crate::object_headers::quoted_etag;
use crate::respond;

/// The verdict of the precondition headers, judged in the order docs/cos-protocol.md
/// ("Conditional requests") gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the object.
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 `PreconditionFailed`.
    Failed,
}

/// Evaluates the conditional headers against an object's ETag (unquoted) and mtime.
pub fn evaluate(headers: &HeaderMap, etag: &str, last_modified: SystemTime) -> Precondition {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mtime = unix_seconds(last_modified);

    if let Some(if_match) = header("if-match") {
        if !etag_list_matches(if_match, etag) {
            return Precondition::Failed;
        }
    } else if let Some(since) = header("if-unmodified-since").and_then(parse_http_date) {
        if mtime > since {
            return Precondition::Failed;
        }
    }

    if let Some(if_none_match) = header("if-none-match") {
        if etag_list_matches(if_none_match, etag) {
            return Precondition::NotModified;
        }
    } else if let Some(since) = header("if-modified-since").and_then(parse_http_date) {
        if mtime <= since {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// `Some(304)` or `Err(412)` when the conditional headers stop a GET/HEAD of a resource
/// with `etag` (unquoted) and `last_modified`; `None` to go on.
pub fn response(
    headers: &HeaderMap,
    etag: &str,
    last_modified: SystemTime,
) -> ApiResult<Option<Response>> {
    match evaluate(headers, etag, last_modified) {
        Precondition::Proceed => Ok(None),
        Precondition::Failed => Err(ApiError::new(ErrorCode::PreconditionFailed)),
        Precondition::NotModified => {
            let mut res = respond::empty(StatusCode::NOT_MODIFIED);
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&quoted_etag(etag)) {
                h.insert(ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(&http_date(last_modified)) {
                h.insert(LAST_MODIFIED, v);
            }
            Ok(Some(res))
        }
    }
}

/// Whether a comma-separated ETag list (or `*`) contains `etag`; weak prefixes are ignored.
fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        candidate == "*"
            || candidate
                .trim_start_matches("W/")
                .trim_matches('"')
                .eq(etag)
    })
}

fn parse_http_date(s: &str) -> Option<u64> {
    httpdate::parse_http_date(s.trim()).ok().map(unix_seconds)
}

/// HTTP dates have whole seconds, so comparisons are made at that precision.
fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const ETAG: &str = "ee8de918d05640145b18f70f4c3aa602";

    fn mtime() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_557_989_151_500)
    }

    #[test]
    fn none_match_and_modified_since_give_304() {
        let q = format!("\"{ETAG}\"");
        assert_eq!(
            evaluate(&headers(&[("if-none-match", &q)]), ETAG, mtime()),
            Precondition::NotModified
        );
        assert_eq!(
            evaluate(&headers(&[("if-none-match", "\"other\"")]), ETAG, mtime()),
            Precondition::Proceed
        );
        let same = "Thu, 16 May 2019 06:45:51 GMT";
        let earlier = "Thu, 16 May 2019 06:45:50 GMT";
        assert_eq!(
            evaluate(&headers(&[("if-modified-since", same)]), ETAG, mtime()),
            Precondition::NotModified
        );
        assert_eq!(
            evaluate(&headers(&[("if-modified-since", earlier)]), ETAG, mtime()),
            Precondition::Proceed
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            evaluate(
                &headers(&[("if-none-match", "\"other\""), ("if-modified-since", same)]),
                ETAG,
                mtime()
            ),
            Precondition::Proceed
        );
    }

    #[test]
    fn match_and_unmodified_since_give_412() {
        let q = format!("\"x\", \"{ETAG}\"");
        assert_eq!(
            evaluate(&headers(&[("if-match", &q)]), ETAG, mtime()),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate(&headers(&[("if-match", "*")]), ETAG, mtime()),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate(&headers(&[("if-match", "\"nope\"")]), ETAG, mtime()),
            Precondition::Failed
        );
        let earlier = "Thu, 16 May 2019 06:45:50 GMT";
        assert_eq!(
            evaluate(&headers(&[("if-unmodified-since", earlier)]), ETAG, mtime()),
            Precondition::Failed
        );
        let same = "Thu, 16 May 2019 06:45:51 GMT";
        assert_eq!(
            evaluate(&headers(&[("if-unmodified-since", same)]), ETAG, mtime()),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate(
                &headers(&[("if-unmodified-since", "garbage")]),
                ETAG,
                mtime()
            ),
            Precondition::Proceed
        );
    }
}
