//! GET/PUT Bucket `?acl` (canned ACLs only).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::{parse_acl_body, AccessControlPolicy};
use mogr_cos::ErrorCode;
use mogr_store::Acl;

use crate::body::{collect_limited, MAX_XML_BODY};
use crate::context::{owner_of, RequestCtx};
use crate::error_map::{ApiError, ApiResult};
use crate::handlers::create_bucket::acl_header;
use crate::respond;
use crate::state::AppState;

/// `GET /?acl`.
pub async fn get(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let info = state.store.head_bucket(bucket).await?;
    let policy = AccessControlPolicy::new(owner_of(bucket), info.acl.as_str());
    Ok(respond::xml(StatusCode::OK, policy.to_xml()))
}

/// `PUT /?acl`: the `x-cos-acl` header, else the `AccessControlPolicy` body.
pub async fn put(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let acl = match acl_header(ctx)? {
        Some(acl) => acl,
        None => {
            let body = collect_limited(body, MAX_XML_BODY).await?;
            if body.is_empty() {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidRequest,
                    "PUT ?acl needs an x-cos-acl header or an AccessControlPolicy body",
                ));
            }
            let canned = parse_acl_body(&body)?;
            Acl::parse(&canned).ok_or_else(|| ApiError::new(ErrorCode::InvalidArgument))?
        }
    };
    state.store.set_bucket_acl(bucket, acl).await?;
    Ok(respond::empty(StatusCode::OK))
}
