//! A `Pic-Operations` header checked in full before any byte is read or processed: JSON, rule
//! count, fileids, rule grammar, destination buckets and the right to write them.

use mogr_cos::pic_ops::{parse_pic_operations, resolve_fileid};
use mogr_cos::ErrorCode;
use mogr_image::Assets;
use mogr_rule::Pipeline;
use mogr_store::validate_key;

use super::watermarks;
use crate::authn::{self, Principal};
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::operation::Operation;
use crate::state::AppState;
use crate::styles;

/// What a request asks to be produced from its original.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Report `ImageInfo` for the original.
    pub is_pic_info: bool,
    /// One entry per rule, in request order.
    pub rules: Vec<PlannedRule>,
    /// The watermark images and fonts the rules draw.
    pub assets: Assets,
}

/// One output: where it goes and how it is made.
#[derive(Debug, Clone)]
pub struct PlannedRule {
    /// Destination bucket.
    pub bucket: String,
    /// Destination key (resolved, no leading `/`).
    pub key: String,
    /// The parsed rule.
    pub pipeline: Pipeline,
}

/// Parses and checks `header` for an original at `bucket`/`key`.
pub async fn plan(
    state: &AppState,
    ctx: &RequestCtx,
    bucket: &str,
    key: &str,
    header: &str,
) -> ApiResult<Plan> {
    let ops = parse_pic_operations(header)?;
    let mut rules = Vec::with_capacity(ops.rules.len());
    for rule in ops.rules {
        let target_key = resolve_fileid(key, &rule.fileid)?;
        validate_key(&target_key)?;
        // Styles are the source bucket's, wherever the output goes.
        let pipeline = styles::resolve_rule(state, bucket, &rule.rule).await?;
        let target_bucket = rule.bucket.unwrap_or_else(|| bucket.to_string());
        check_writable(state, &ctx.principal, &target_bucket).await?;
        rules.push(PlannedRule {
            bucket: target_bucket,
            key: target_key,
            pipeline,
        });
    }
    // Watermarks come from the original's bucket, whatever bucket an output goes to.
    let assets = watermarks::gather(state, ctx, bucket, rules.iter().map(|r| &r.pipeline))
        .await?
        .load(state)
        .await?
        .assets;
    Ok(Plan {
        is_pic_info: ops.is_pic_info,
        rules,
        assets,
    })
}

/// Every output is authorised as a PUT of its own: the target bucket must exist, and the
/// caller must be allowed to write it (signed, or anonymous on a `public-read-write` bucket).
/// The request's own operation was authorised against the original's bucket only.
async fn check_writable(state: &AppState, principal: &Principal, bucket: &str) -> ApiResult<()> {
    state.store.head_bucket(bucket).await?;
    authn::authorize(state, principal, &Operation::PutObject, Some(bucket))
        .await
        .map_err(|_| {
            ApiError::with_message(
                ErrorCode::AccessDenied,
                format!("Access Denied: no write permission on bucket {bucket}."),
            )
        })
}
