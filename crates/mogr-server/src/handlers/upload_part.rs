//! PUT `?partNumber=&uploadId=`: Upload Part (streamed).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mogr_cos::ErrorCode;

use crate::body::limited_stream;
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::handlers::{check_declared_length, upload_id};
use crate::object_headers::{content_md5, write_integrity};
use crate::respond;
use crate::state::AppState;

/// `PUT /<key>?partNumber=N&uploadId=U`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let upload_id = upload_id(ctx)?;
    let part_number = ctx
        .query
        .get("partNumber")
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidArgument, "partNumber must be 1..=10000")
        })?;
    let limit = state.config.max_object_size;
    check_declared_length(ctx, limit)?;
    let md5 = content_md5(&ctx.headers)?;
    let part = state
        .store
        .upload_part(
            bucket,
            &ctx.key,
            upload_id,
            part_number,
            limited_stream(body, limit),
            md5,
        )
        .await?;
    let mut res = respond::empty(StatusCode::OK);
    write_integrity(res.headers_mut(), &part.etag, part.crc64);
    Ok(res)
}
