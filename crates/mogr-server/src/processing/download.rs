//! Processing on download: `GET|HEAD /<key>?<rule>` answers the processed bytes and never
//! writes to the store.
//!
//! The response carries the output's `Content-Type` and length and the source's
//! `Last-Modified`, but no `ETag`: the source's MD5 would be wrong for these bytes and
//! some SDKs compare ETags with local MD5s (spec §3.1). `Range` and conditional headers are
//! ignored; the answer is always the whole output with 200.

use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LAST_MODIFIED};
use http::{HeaderValue, StatusCode};
use mogr_cos::time_fmt::http_date;
use mogr_store::{collect_limited, GetObject};

use super::errors::{image_error, rule_error, source_error, too_large};
use super::pipeline::ignores_limit_errors;
use crate::error_map::ApiResult;
use crate::object_headers::DEFAULT_CONTENT_TYPE;
use crate::state::AppState;

/// Runs `rule` on the object and answers the result (headers only for HEAD).
pub async fn get_processed(
    state: &AppState,
    bucket: &str,
    key: &str,
    rule: &str,
    head: bool,
) -> ApiResult<Response> {
    // A missing object is 404 before anything about the rule is judged.
    let meta = state.store.head_object(bucket, key).await?;
    let pipeline = mogr_rule::parse(rule).map_err(|e| rule_error(&e))?;
    let images = &state.images;
    let limit = images.limits().max_input_bytes;
    let ignore_errors = ignores_limit_errors(&pipeline);

    if meta.size > limit {
        if ignore_errors {
            return original_streamed(state, bucket, key, head).await;
        }
        return Err(too_large(limit));
    }

    // Take the place first: a refused request costs no read of the source.
    let slot = images.admit()?;
    let GetObject {
        meta, body: stream, ..
    } = state.store.get_object(bucket, key, None).await?;
    let source = collect_limited(stream, limit)
        .await
        .map_err(|e| source_error(e, limit))?;
    let outcome = images
        .run(slot, move |engine| engine.process(&source, &pipeline))
        .await?;
    // `ignore-error/1` on an over-limit source is the engine's: it returns the original.
    let out = outcome.map_err(|e| image_error(&e))?;
    Ok(respond(
        Bytes::from(out.bytes),
        out.mime,
        meta.last_modified,
        head,
    ))
}

/// `ignore-error/1` on a source over the byte limit: the original, streamed as stored.
async fn original_streamed(
    state: &AppState,
    bucket: &str,
    key: &str,
    head: bool,
) -> ApiResult<Response> {
    let (meta, body) = if head {
        (state.store.head_object(bucket, key).await?, Body::empty())
    } else {
        let got = state.store.get_object(bucket, key, None).await?;
        (got.meta, Body::from_stream(got.body))
    };
    let mime = meta
        .attrs
        .content_type
        .clone()
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    Ok(with_headers(body, meta.size, &mime, meta.last_modified))
}

fn respond(bytes: Bytes, mime: &str, last_modified: SystemTime, head: bool) -> Response {
    let len = bytes.len() as u64;
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    with_headers(body, len, mime, last_modified)
}

fn with_headers(body: Body, len: u64, mime: &str, last_modified: SystemTime) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&http_date(last_modified)) {
        h.insert(LAST_MODIFIED, v);
    }
    res
}
