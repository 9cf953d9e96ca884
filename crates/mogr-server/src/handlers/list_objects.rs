//! GET Bucket: List Objects v1.

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use mogr_cos::xml::{ListBucketResult, ListEntry};
use mogr_cos::ErrorCode;
use mogr_store::ListQuery;

use crate::context::{owner_of, RequestCtx};
use crate::error_map::{ApiError, ApiResult};
use crate::handlers::{encoding_url, listing_param};
use crate::respond::{self, X_COS_BUCKET_REGION};
use crate::state::AppState;

/// Default and largest `max-keys`.
pub const MAX_KEYS: usize = 1000;

/// `max-keys`: absent or empty means 1000, larger values are capped at 1000.
fn max_keys(ctx: &RequestCtx) -> ApiResult<usize> {
    match ctx.query.get("max-keys").map(str::trim) {
        None | Some("") => Ok(MAX_KEYS),
        Some(v) => v.parse::<usize>().map(|n| n.min(MAX_KEYS)).map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                format!("invalid max-keys `{v}`"),
            )
        }),
    }
}

/// `GET /` on a bucket.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let encoding_url = encoding_url(ctx)?;
    let max = max_keys(ctx)?;
    let query = ListQuery {
        prefix: listing_param(ctx, "prefix")?.to_string(),
        delimiter: listing_param(ctx, "delimiter")?.to_string(),
        marker: listing_param(ctx, "marker")?.to_string(),
        // The store wants 1..=1000; max-keys=0 only asks whether anything is there.
        max_keys: max.max(1),
    };
    let page = state.store.list_objects(bucket, &query).await?;
    let owner = owner_of(bucket).to_string();
    let (contents, common_prefixes, is_truncated, next_marker) = if max == 0 {
        let any = !page.objects.is_empty() || !page.common_prefixes.is_empty();
        (Vec::new(), Vec::new(), any, None)
    } else {
        let contents = page
            .objects
            .into_iter()
            .map(|o| ListEntry {
                key: o.key,
                last_modified: o.last_modified,
                etag: o.etag,
                size: o.size,
                owner_id: owner.clone(),
            })
            .collect();
        (
            contents,
            page.common_prefixes,
            page.is_truncated,
            page.next_marker,
        )
    };
    let result = ListBucketResult {
        name: bucket.to_string(),
        prefix: query.prefix,
        marker: query.marker,
        max_keys: u32::try_from(max).unwrap_or(1000),
        delimiter: ctx
            .query
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        encoding_url,
        is_truncated,
        next_marker,
        common_prefixes,
        contents,
    };
    let mut res = respond::xml(StatusCode::OK, result.to_xml());
    if let Ok(region) = HeaderValue::from_str(&state.config.region) {
        res.headers_mut().insert(X_COS_BUCKET_REGION, region);
    }
    Ok(res)
}
