//! GET Service: list all buckets.

use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::{BucketEntry, ListAllMyBucketsResult};

use crate::context::owner_of;
use crate::error_map::ApiResult;
use crate::respond;
use crate::state::AppState;

/// `GET /` without a bucket.
pub async fn handle(state: &AppState) -> ApiResult<Response> {
    let buckets = state.store.list_buckets().await?;
    let owner_id = buckets
        .first()
        .map_or("0", |b| owner_of(&b.name))
        .to_string();
    let result = ListAllMyBucketsResult {
        owner_id,
        buckets: buckets
            .into_iter()
            .map(|b| BucketEntry {
                name: b.name,
                location: state.config.region.clone(),
                creation_date: b.created,
            })
            .collect(),
    };
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
