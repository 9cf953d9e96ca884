//! Processing on download: `GET|HEAD /<key>?<rule>` answers the processed bytes and never
//! writes to the store.
//!
//! The response carries the output's `Content-Type` and length and the source's
//! `Last-Modified`, but no `ETag`: the source's MD5 would be wrong for these bytes and
//! some SDKs compare ETags with local MD5s. `Range` and conditional headers are
//! ignored; the answer is always the whole output with 200.

use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, LAST_MODIFIED};
use http::{HeaderValue, StatusCode};
use mogr_cos::query::Query;
use mogr_cos::time_fmt::http_date;
use mogr_store::{GetObject, ObjectAttrs};

use super::errors::{image_error, too_large};
use super::pipeline::{cost, ignores_limit_errors};
use crate::error_map::ApiResult;
use crate::object_headers::write_content_headers;
use crate::state::AppState;
use crate::styles;

/// Runs `rule` on the object and answers the result (headers only for HEAD).
///
/// HEAD does the same work as GET, since `Content-Length` is the output's; it is admitted,
/// timed and cancelled like GET. `response-*` parameters in `query` override the content
/// headers as on a plain GET.
pub async fn get_processed(
    state: &AppState,
    bucket: &str,
    key: &str,
    rule: &str,
    head: bool,
    query: &Query,
) -> ApiResult<Response> {
    // A missing object is 404 before anything about the rule is judged.
    let meta = state.store.head_object(bucket, key).await?;
    let pipeline = styles::resolve_rule(state, bucket, rule).await?;
    let images = &state.images;
    let limit = images.limits().max_input_bytes;
    let ignore_errors = ignores_limit_errors(&pipeline);

    if meta.size > limit {
        if ignore_errors {
            return original_streamed(state, bucket, key, head, query).await;
        }
        return Err(too_large(limit));
    }

    let GetObject {
        meta, body: stream, ..
    } = state.store.get_object(bucket, key, None).await?;
    // The place is taken after only the headers' worth of the source has been read.
    let (slot, source) = images
        .admit_source(stream, meta.size, limit, |shape| {
            cost(images.engine(), [&pipeline], false, shape)
        })
        .await?;
    let outcome = images
        .run(slot, move |engine, budget| {
            engine.process_within(&source, &pipeline, budget)
        })
        .await?;
    // `ignore-error/1` over a limit (size or time) is the engine's: it returns the original.
    let out = outcome.map_err(|e| image_error(&e))?;
    let bytes = Bytes::from(out.bytes);
    let len = bytes.len() as u64;
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    let attrs = ObjectAttrs {
        content_type: Some(out.mime.to_string()),
        ..ObjectAttrs::default()
    };
    Ok(with_headers(body, len, &attrs, meta.last_modified, query))
}

/// `ignore-error/1` on a source over the byte limit: the original, streamed as stored.
async fn original_streamed(
    state: &AppState,
    bucket: &str,
    key: &str,
    head: bool,
    query: &Query,
) -> ApiResult<Response> {
    let (meta, body) = if head {
        (state.store.head_object(bucket, key).await?, Body::empty())
    } else {
        let got = state.store.get_object(bucket, key, None).await?;
        (got.meta, Body::from_stream(got.body))
    };
    let attrs = ObjectAttrs {
        content_type: meta.attrs.content_type.clone(),
        ..ObjectAttrs::default()
    };
    Ok(with_headers(
        body,
        meta.size,
        &attrs,
        meta.last_modified,
        query,
    ))
}

fn with_headers(
    body: Body,
    len: u64,
    attrs: &ObjectAttrs,
    last_modified: SystemTime,
    query: &Query,
) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    write_content_headers(h, attrs, query);
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&http_date(last_modified)) {
        h.insert(LAST_MODIFIED, v);
    }
    res
}
