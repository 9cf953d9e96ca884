//! DELETE Object: 204 whether or not the key existed.

use axum::response::Response;
use http::StatusCode;

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::respond;
use crate::state::AppState;

/// `DELETE /<key>`.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    state.store.delete_object(ctx.bucket()?, &ctx.key).await?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}
