//! POST `/?delete`: delete up to 1000 keys in one request.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use md5::{Digest, Md5};
use mogr_cos::xml::{parse_delete, DeleteResult};
use mogr_cos::ErrorCode;
use mogr_store::validate_key;

use crate::body::{collect_limited, MAX_XML_BODY};
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::object_headers::content_md5;
use crate::respond;
use crate::state::AppState;

/// `POST /?delete`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let expected_md5 = content_md5(&ctx.headers)?;
    let body = collect_limited(body, MAX_XML_BODY).await?;
    if let Some(expected) = expected_md5 {
        if Md5::digest(&body).as_slice() != expected {
            return Err(ApiError::new(ErrorCode::BadDigest));
        }
    }
    let request = parse_delete(&body)?;
    // Fail fast on a missing bucket rather than reporting every key as failed.
    state.store.head_bucket(bucket).await?;
    let mut result = DeleteResult::default();
    for key in request.keys {
        let outcome = match validate_key(&key) {
            Ok(()) => state.store.delete_object(bucket, &key).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) if request.quiet => {}
            Ok(()) => result.deleted.push(key),
            Err(e) => {
                let err = ApiError::from(e).into_error();
                result
                    .errors
                    .push((key, err.code.as_str().to_string(), err.message));
            }
        }
    }
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
