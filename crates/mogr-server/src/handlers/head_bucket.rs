//! HEAD Bucket: existence check plus region.

use axum::response::Response;
use http::{HeaderValue, StatusCode};

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::respond::{self, X_COS_BUCKET_REGION};
use crate::state::AppState;

/// `HEAD /` on a bucket.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    state.store.head_bucket(ctx.bucket()?).await?;
    let mut res = respond::empty(StatusCode::OK);
    if let Ok(region) = HeaderValue::from_str(&state.config.region) {
        res.headers_mut().insert(X_COS_BUCKET_REGION, region);
    }
    Ok(res)
}
