//! GET / HEAD Object: ranges, conditionals, stored attributes and `response-*` overrides.
//!
//! GET opens the object once: the conditionals, the range and the body all come from the
//! version that open found, so a concurrent overwrite can never mix two versions.

use axum::body::Body;
use axum::response::Response;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};
use http::{HeaderValue, StatusCode};
use mogr_cos::ErrorCode;
use mogr_store::{ObjectMeta, StoreError};

use crate::conditional;
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::object_headers::write_object_headers;
use crate::range;
use crate::state::AppState;

/// `GET /<key>` (`head == false`) or `HEAD /<key>`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, head: bool) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let asked = range::parse(ctx.header(RANGE.as_str()));
    if head {
        let meta = state.store.head_object(bucket, &ctx.key).await?;
        if let Some(res) = conditional::response(&ctx.headers, &meta.etag, meta.last_modified)? {
            return Ok(res);
        }
        let resolved = match asked {
            None => None,
            Some(asked) => Some(asked.resolve(meta.size).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidRange)
                    .with_header(CONTENT_RANGE, &format!("bytes */{}", meta.size))
            })?),
        };
        return Ok(object_response(ctx, &meta, resolved, Body::empty()));
    }
    let got = match state.store.get_object(bucket, &ctx.key, asked).await {
        Ok(got) => got,
        Err(e) => {
            // Preconditions are judged before the range (docs/cos-protocol.md, "Conditional
            // requests").
            if let StoreError::InvalidRange {
                etag,
                last_modified,
                ..
            } = &e
            {
                if let Some(res) = conditional::response(&ctx.headers, etag, *last_modified)? {
                    return Ok(res);
                }
            }
            return Err(e.into());
        }
    };
    // A 304 or 412 drops the body unread, which closes the object.
    if let Some(res) = conditional::response(&ctx.headers, &got.meta.etag, got.meta.last_modified)?
    {
        return Ok(res);
    }
    Ok(object_response(
        ctx,
        &got.meta,
        got.range,
        Body::from_stream(got.body),
    ))
}

/// 200 or 206 with the object's headers; `range` is already resolved against `meta.size`.
fn object_response(
    ctx: &RequestCtx,
    meta: &ObjectMeta,
    range: Option<(u64, u64)>,
    body: Body,
) -> Response {
    let mut res = Response::new(body);
    write_object_headers(res.headers_mut(), meta, &ctx.query);
    let length = match range {
        Some((start, end)) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", meta.size)) {
                res.headers_mut().insert(CONTENT_RANGE, v);
            }
            end - start + 1
        }
        None => meta.size,
    };
    res.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    res
}
