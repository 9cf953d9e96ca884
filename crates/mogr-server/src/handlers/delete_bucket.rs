//! DELETE Bucket: remove an empty bucket.

use axum::response::Response;
use http::StatusCode;

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::respond;
use crate::state::AppState;

/// `DELETE /` on a bucket.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    state.store.delete_bucket(ctx.bucket()?).await?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}
