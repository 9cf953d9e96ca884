//! GET `?uploadId=`: List Parts.

use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::ListPartsResult;
use mogr_cos::ErrorCode;

use crate::context::{owner_of, RequestCtx};
use crate::error_map::{ApiError, ApiResult};
use crate::handlers::{encoding_url, upload_id};
use crate::respond;
use crate::state::AppState;

/// Default and largest `max-parts`.
const MAX_PARTS: u32 = 1000;

fn number_param(ctx: &RequestCtx, name: &str, default: u32) -> ApiResult<u32> {
    match ctx.query.get(name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ApiError::with_message(ErrorCode::InvalidArgument, format!("invalid {name} `{v}`"))
        }),
    }
}

/// `GET /<key>?uploadId=U[&max-parts=&part-number-marker=]`.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let upload_id = upload_id(ctx)?;
    let encoding_url = encoding_url(ctx)?;
    let max_parts = number_param(ctx, "max-parts", MAX_PARTS)?.clamp(1, MAX_PARTS);
    let marker = number_param(ctx, "part-number-marker", 0)?;
    let upload = state.store.list_parts(bucket, &ctx.key, upload_id).await?;
    let mut remaining = upload
        .parts
        .into_iter()
        .filter(|p| p.part_number > marker)
        .peekable();
    let parts: Vec<_> = remaining
        .by_ref()
        .take(max_parts as usize)
        .map(|p| (p.part_number, p.last_modified, p.etag, p.size))
        .collect();
    let is_truncated = remaining.peek().is_some();
    let result = ListPartsResult {
        bucket: bucket.to_string(),
        key: ctx.key.clone(),
        upload_id: upload.upload_id,
        next_part_number_marker: parts.last().map_or(0, |p| p.0),
        parts,
        max_parts,
        part_number_marker: marker,
        is_truncated,
        owner_id: owner_of(bucket).to_string(),
        encoding_url,
    };
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
