//! Processing on download: `GET|HEAD /<key>?<rule>` answers the processed bytes and never
//! writes to the store.
//!
//! The output comes from the variant cache when it is there (see `variant`). The response
//! carries the output's `Content-Type` and length, the source's `Last-Modified`, a strong
//! `ETag` of its own (derived from the source's ETag, the canonical rule and the engine; never
//! the source's MD5, which some SDKs would compare with these bytes) and `Cache-Control` as
//! configured. `If-None-Match` / `If-Modified-Since` answer 304 before anything is read or
//! decoded. `Range` is ignored; the answer is always the whole output.

use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use http::header::{CONTENT_LENGTH, ETAG, LAST_MODIFIED};
use http::{HeaderName, HeaderValue, StatusCode};
use mogr_cos::query::Query;
use mogr_cos::time_fmt::http_date;
use mogr_store::ObjectAttrs;

use super::errors::too_large;
use super::pipeline::ignores_limit_errors;
use super::variant::{self, Served};
use super::watermarks;
use crate::conditional;
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::object_headers::{quoted_etag, write_content_headers};
use crate::state::AppState;
use crate::styles;
use crate::telemetry::metrics;

/// `x-mogr-cache: hit | miss | bypass` on processed responses.
pub const X_MOGR_CACHE: HeaderName = HeaderName::from_static("x-mogr-cache");

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
    ctx: &RequestCtx,
) -> ApiResult<Response> {
    let query = &ctx.query;
    // A missing object is 404 before anything about the rule is judged.
    let meta = state.store.head_object(bucket, key).await?;
    let pipeline = styles::resolve_rule(state, bucket, rule).await?;
    // Watermark images are authorised and versioned up front (their versions are part of the
    // variant's key); their bytes are read only if the variant is computed.
    let marks = watermarks::gather(state, ctx, bucket, [&pipeline]).await?;
    let limit = state.images.limits().max_input_bytes;

    if meta.size > limit {
        if ignores_limit_errors(&pipeline) {
            return original_streamed(state, bucket, key, head, query).await;
        }
        return Err(too_large(limit));
    }

    let variant_key = state
        .variants
        .key(bucket, key, &meta.etag, marks.versions(), &pipeline);
    let etag = variant_key.etag();
    if let Some(res) = conditional::response(&ctx.headers, &etag, meta.last_modified)? {
        return Ok(res);
    }
    let Served {
        body,
        len,
        mime,
        cache,
    } = variant::serve(state, &variant_key, pipeline, &marks, head).await?;
    let body = match body {
        Some(bytes) if !head => Body::from(bytes),
        _ => Body::empty(),
    };
    let attrs = ObjectAttrs {
        content_type: Some(mime),
        cache_control: state
            .variants
            .cache_control(bucket, meta.attrs.cache_control.as_ref()),
        ..ObjectAttrs::default()
    };
    let mut res = with_headers(body, len, &attrs, meta.last_modified, query);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&quoted_etag(&etag)) {
        h.insert(ETAG, v);
    }
    h.insert(X_MOGR_CACHE, HeaderValue::from_static(cache.as_str()));
    let counter = match cache {
        variant::CacheOutcome::Hit => metrics::CACHE_HITS,
        variant::CacheOutcome::Miss | variant::CacheOutcome::Bypass => metrics::CACHE_MISSES,
    };
    ::metrics::counter!(counter).increment(1);
    Ok(res)
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
