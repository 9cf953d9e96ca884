//! POST `?uploads`: Initiate Multipart Upload.

use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::InitiateMultipartUploadResult;
use mogr_store::PutOptions;

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::object_headers::attrs_from_request;
use crate::respond;
use crate::state::AppState;

/// `POST /<key>?uploads`.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let opts = PutOptions {
        attrs: attrs_from_request(&ctx.headers)?,
        content_md5: None,
        length: None,
    };
    let upload_id = state.store.create_multipart(bucket, &ctx.key, opts).await?;
    let result = InitiateMultipartUploadResult {
        bucket: bucket.to_string(),
        key: ctx.key.clone(),
        upload_id,
    };
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
