//! A `Pic-Operations` header checked in full before any byte is read or processed: JSON, rule
//! count, fileids, rule grammar, destination buckets and the right to write them.

use mogr_cos::auth;
use mogr_cos::pic_ops::{parse_pic_operations, resolve_fileid};
use mogr_cos::ErrorCode;
use mogr_rule::Pipeline;
use mogr_store::{validate_key, Acl};

use super::errors::rule_error;
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::state::AppState;

/// What a request asks to be produced from its original.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Report `ImageInfo` for the original.
    pub is_pic_info: bool,
    /// One entry per rule, in request order.
    pub rules: Vec<PlannedRule>,
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
    let anonymous = !matches!(auth::extract(&ctx.headers, &ctx.query), Ok(Some(_)));
    let mut rules = Vec::with_capacity(ops.rules.len());
    for rule in ops.rules {
        let target_key = resolve_fileid(key, &rule.fileid)?;
        validate_key(&target_key)?;
        let pipeline = mogr_rule::parse(&rule.rule).map_err(|e| rule_error(&e))?;
        let target_bucket = rule.bucket.unwrap_or_else(|| bucket.to_string());
        if target_bucket != bucket {
            check_writable(state, &target_bucket, anonymous).await?;
        }
        rules.push(PlannedRule {
            bucket: target_bucket,
            key: target_key,
            pipeline,
        });
    }
    Ok(Plan {
        is_pic_info: ops.is_pic_info,
        rules,
    })
}

/// The other bucket must exist, and an anonymous caller may write it only when it is
/// `public-read-write` (signed callers own every bucket).
async fn check_writable(state: &AppState, bucket: &str, anonymous: bool) -> ApiResult<()> {
    let info = state.store.head_bucket(bucket).await?;
    if anonymous && info.acl != Acl::PublicReadWrite {
        return Err(ApiError::with_message(
            ErrorCode::AccessDenied,
            format!("Access Denied: no write permission on bucket {bucket}."),
        ));
    }
    Ok(())
}
