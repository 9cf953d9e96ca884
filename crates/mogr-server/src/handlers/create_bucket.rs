//! PUT Bucket: create a bucket with an optional canned `x-cos-acl`.

use axum::response::Response;
use http::StatusCode;
use mogr_cos::ErrorCode;
use mogr_store::Acl;

use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::respond;
use crate::state::AppState;

/// The canned ACL in `x-cos-acl`, `Private` when absent.
pub fn acl_header(ctx: &RequestCtx) -> ApiResult<Option<Acl>> {
    match ctx.header("x-cos-acl") {
        None => Ok(None),
        Some(v) => Acl::parse(v).map(Some).ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                format!("invalid x-cos-acl `{v}`"),
            )
        }),
    }
}

/// `PUT /` on a bucket.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let acl = acl_header(ctx)?.unwrap_or_default();
    state.store.create_bucket(bucket, acl).await?;
    Ok(respond::empty(StatusCode::OK))
}
