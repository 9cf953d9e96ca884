//! POST `?uploadId=`: Complete Multipart Upload.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use mogr_cos::xml::{parse_complete, CompleteMultipartUploadResult};
use mogr_store::CompletedPart;

use crate::body::{collect_limited, MAX_XML_BODY};
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::handlers::upload_id;
use crate::object_headers::X_COS_CRC64;
use crate::respond;
use crate::state::AppState;

/// Reads and parses the `<CompleteMultipartUpload>` body.
pub async fn read_parts(body: Body) -> ApiResult<Vec<CompletedPart>> {
    let body = collect_limited(body, MAX_XML_BODY).await?;
    Ok(parse_complete(&body)?
        .into_iter()
        .map(|(part_number, etag)| CompletedPart { part_number, etag })
        .collect())
}

/// `POST /<key>?uploadId=U`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let upload_id = upload_id(ctx)?;
    let parts = read_parts(body).await?;
    let meta = state
        .store
        .complete_multipart(bucket, &ctx.key, upload_id, &parts)
        .await?;
    let result = CompleteMultipartUploadResult {
        location: format!("{}/{}", ctx.host, ctx.key),
        bucket: bucket.to_string(),
        key: ctx.key.clone(),
        etag: meta.etag.clone(),
    };
    let mut res = respond::xml(StatusCode::OK, result.to_xml());
    // The ETag travels in the XML; COS sends only the CRC as a header on Complete.
    res.headers_mut()
        .insert(X_COS_CRC64, HeaderValue::from(meta.crc64));
    Ok(res)
}
