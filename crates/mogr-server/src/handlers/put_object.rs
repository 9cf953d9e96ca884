//! PUT Object: stream the body into the store.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mogr_store::PutOptions;

use crate::body::limited_stream;
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::handlers::check_declared_length;
use crate::object_headers::{attrs_from_request, content_md5, write_integrity};
use crate::respond;
use crate::state::AppState;

/// The options a PUT stores: attributes from the headers, the expected `Content-MD5` and the
/// declared length.
pub fn put_options(ctx: &RequestCtx) -> ApiResult<PutOptions> {
    Ok(PutOptions {
        attrs: attrs_from_request(&ctx.headers)?,
        content_md5: content_md5(&ctx.headers)?,
        length: ctx.content_length(),
    })
}

/// `PUT /<key>`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let limit = state.config.max_object_size;
    check_declared_length(ctx, limit)?;
    let opts = put_options(ctx)?;
    // Streamed: the store hashes and writes chunk by chunk; a Content-MD5 mismatch stores nothing.
    let meta = state
        .store
        .put_object(bucket, &ctx.key, limited_stream(body, limit), opts)
        .await?;
    let mut res = respond::empty(StatusCode::OK);
    write_integrity(res.headers_mut(), &meta.etag, meta.crc64);
    Ok(res)
}
