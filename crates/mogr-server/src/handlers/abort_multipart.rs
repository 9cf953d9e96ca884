//! DELETE `?uploadId=`: Abort Multipart Upload.

use axum::response::Response;
use http::StatusCode;

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::handlers::upload_id;
use crate::respond;
use crate::state::AppState;

/// `DELETE /<key>?uploadId=U`.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    state
        .store
        .abort_multipart(bucket, &ctx.key, upload_id(ctx)?)
        .await?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}
